package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jmamba.kernels.WorkerPool;
import org.junit.jupiter.api.Test;

class CpuOptionsTest {

    @Test
    void threadCountsOutsideThePoolsRangeAreRejectedByName() {
        for (int bad : new int[] {0, -1, WorkerPool.MAX_THREADS + 1, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CpuOptions(bad));
            assertTrue(e.getMessage().startsWith("threads must be from 1 to " + WorkerPool.MAX_THREADS), e.getMessage());
            assertTrue(e.getMessage().endsWith("got " + bad), e.getMessage());
        }
        assertEquals(WorkerPool.MAX_THREADS, new CpuOptions(WorkerPool.MAX_THREADS).threads()); // accepted, no pool made yet
        assertThrows(IllegalArgumentException.class, () -> CpuOptions.defaults().withThreads(WorkerPool.MAX_THREADS + 1));
    }

    /** A load uses the model's threads, but never more than the processors or four (each may hold an fp32 tensor). */
    @Test
    void aLoadUsesAFewThreadsAtMost() {
        int processors = Runtime.getRuntime().availableProcessors();
        assertEquals(1, CpuMamba.loadThreads(new CpuOptions(1)));
        assertEquals(Math.min(2, Math.min(processors, CpuMamba.MAX_LOAD_THREADS)), CpuMamba.loadThreads(new CpuOptions(2)));
        assertEquals(Math.min(processors, CpuMamba.MAX_LOAD_THREADS), CpuMamba.loadThreads(new CpuOptions(WorkerPool.MAX_THREADS)));
    }
}
