package org.jmamba.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.WeightType;
import org.junit.jupiter.api.Test;

/**
 * The load measurement's heap-versus-off-heap figures on a model large enough for the difference
 * to stand far above the collector's noise (the "small" shape: 11 MB of f32 weights).
 */
class LoadBenchmarkTest {

    @Test
    void offHeapWeightsKeepTheHeapSmall() {
        assumeTrue(OffHeapMatrices.available(), "off-heap weights unavailable: " + OffHeapMatrices.unavailableReason());
        Map<String, Object> r = LoadBenchmark.run(new LoadBenchmark.Options("small", null, WeightType.F32, 1, 1, 1));
        long params = (long) r.get("parameters");
        long heap = (long) r.get("heap_model_bytes");
        assertTrue(heap > 3 * params, "f32 on the heap holds 4 bytes per weight: " + r);
        long matrixBytes = 4 * params - 4L * smallTensors();
        for (String prefix : List.of("off_heap_", "mapped_")) {
            long offHeap = (long) r.get(prefix + "heap_model_bytes");
            assertTrue(offHeap < heap / 10, prefix + ": off-heap f32 weights leave only the small tensors on the heap: " + r);
        }
        assertEquals(0L, r.get("off_heap_mapped_bytes"));
        assertEquals(matrixBytes, (long) r.get("off_heap_native_bytes"), "every matrix copied: " + r);
        assertEquals(matrixBytes, (long) r.get("mapped_mapped_bytes"), "every matrix mapped: " + r);
        assertEquals(0L, r.get("mapped_native_bytes"));
        List<?> runs = (List<?>) r.get("runs");
        assertEquals(3, runs.size());
    }

    /** Weights of the "small" shape that are not in a large matrix (norms, conv, A_log, D, dt bias). */
    private static long smallTensors() {
        var c = BenchShapes.SMALL;
        long perLayer = c.dModel() + (long) c.dInner() * c.dState() + c.dInner() + (long) c.dInner() * c.dConv()
                + (c.convBias() ? c.dInner() : 0) + c.dInner() + (c.projBias() ? 2L * c.dInner() + c.dModel() : 0);
        return perLayer * c.nLayer() + c.dModel();
    }
}
