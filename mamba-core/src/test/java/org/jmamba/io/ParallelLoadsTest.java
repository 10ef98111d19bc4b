package org.jmamba.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;
import org.junit.jupiter.api.Test;

/**
 * {@link ParallelLoads}: matrices reach their sinks in submission order on the calling thread; a
 * failure is the first one in submission order, thrown as it was; after a failure nothing of the
 * load still runs once it is closed.
 */
class ParallelLoadsTest {

    private static PackedMatrix matrix(float value) {
        return PackedMatrix.pack(new float[] {value, value}, 1, 2, WeightType.F32);
    }

    private static float first(PackedMatrix m) {
        float[] out = new float[2];
        m.row(0, out, 0);
        return out[0];
    }

    @Test
    void matricesReachTheirSinksInOrderOnTheCallingThread() {
        for (int threads : new int[] {1, 2, 5}) {
            List<Float> got = Collections.synchronizedList(new ArrayList<>());
            List<Thread> sinkThreads = Collections.synchronizedList(new ArrayList<>());
            try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(threads)) {
                for (int i = 0; i < 20; i++) {
                    float v = i;
                    long sleep = (20 - i) % 4; // later ones finish first
                    loads.submit(() -> {
                        sleepMs(sleep);
                        return matrix(v);
                    }, m -> {
                        got.add(first(m));
                        sinkThreads.add(Thread.currentThread());
                    });
                }
                loads.finish();
            }
            float[] want = new float[20];
            for (int i = 0; i < 20; i++) {
                want[i] = i;
            }
            float[] have = new float[got.size()];
            for (int i = 0; i < have.length; i++) {
                have[i] = got.get(i);
            }
            assertArrayEquals(want, have, threads + " threads");
            for (Thread t : sinkThreads) {
                assertSame(Thread.currentThread(), t, "sinks run on the caller");
            }
        }
    }

    @Test
    void oneThreadMakesEachMatrixAtOnceOnTheCallingThread() {
        List<Thread> makers = new ArrayList<>();
        try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(1)) {
            loads.submit(() -> {
                makers.add(Thread.currentThread());
                return matrix(1);
            }, m -> { });
            assertEquals(List.of(Thread.currentThread()), makers, "made before submit returned");
            loads.finish();
        }
    }

    /** The second matrix fails late, the fourth at once: the second's exception is the one thrown, as itself. */
    @Test
    void theFirstFailureInSubmissionOrderIsThrownAsItWas() {
        for (int round = 0; round < 5; round++) {
            CheckpointException late = new CheckpointException(java.nio.file.Path.of("m.safetensors"), "second: late");
            CheckpointException early = new CheckpointException(java.nio.file.Path.of("m.safetensors"), "fourth: early");
            CheckpointException e;
            try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(4)) {
                loads.submit(() -> matrix(0), m -> { });
                loads.submit(() -> {
                    sleepMs(50);
                    throw late;
                }, m -> { });
                loads.submit(() -> matrix(2), m -> { });
                loads.submit(() -> {
                    throw early;
                }, m -> { });
                e = assertThrows(CheckpointException.class, loads::finish);
            }
            assertSame(late, e, "round " + round);
        }
        try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(2)) {
            OutOfMemoryError oom = new OutOfMemoryError("test");
            loads.submit(() -> {
                throw oom;
            }, m -> { });
            assertSame(oom, assertThrows(OutOfMemoryError.class, loads::finish), "an Error stays itself");
        }
    }

    /**
     * The walk through the checkpoint fails at a small tensor after a matrix that failed too: the
     * matrix's failure is the one a load on one thread would have met first.
     */
    @Test
    void aMatrixFailureBeforeTheWalksOwnFailureWins() {
        for (int threads : new int[] {1, 2}) {
            IllegalStateException walk = new IllegalStateException("walk: a small tensor");
            CheckpointException matrix = new CheckpointException(java.nio.file.Path.of("m.safetensors"), "matrix");
            CheckpointException e;
            try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(threads)) {
                e = assertThrows(CheckpointException.class, () -> loads.visit(() -> {
                    loads.submit(() -> matrix(0), m -> { });
                    loads.submit(() -> {
                        sleepMs(30);
                        throw matrix;
                    }, m -> { });
                    throw walk;
                }));
            }
            assertSame(matrix, e, threads + " threads");
            if (threads > 1) {
                assertSame(walk, e.getSuppressed()[0]);
            }
            try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(threads)) {
                assertSame(walk, assertThrows(IllegalStateException.class, () -> loads.visit(() -> {
                    loads.submit(() -> matrix(0), m -> { });
                    throw walk;
                })), "no matrix failed: the walk's own failure");
            }
        }
    }

    /** Tasks holding heap temporaries run together only while these fit the budget; a larger one runs alone. */
    @Test
    void theHeapBudgetBoundsWhatRunsTogether() {
        java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        List<Float> got = new ArrayList<>();
        try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<>(4, 2048)) {
            for (int i = 0; i < 12; i++) {
                float v = i;
                long heap = i == 5 ? 1 << 20 : 1024; // one request beyond the whole budget
                loads.submit(() -> {
                    most.accumulateAndGet(running.incrementAndGet(), Math::max);
                    sleepMs(15);
                    running.decrementAndGet();
                    return matrix(v);
                }, heap, m -> got.add(first(m)));
            }
            loads.finish();
        }
        assertEquals(12, got.size(), "every task ran, the oversized one too");
        assertTrue(most.get() <= 2, "at most two 1 KiB temporaries in a 2 KiB budget, saw " + most.get());
        assertThrows(IllegalArgumentException.class, () -> new ParallelLoads<PackedMatrix>(2, -1));
    }

    /** After a failure, closing waits for the matrix still being made: its memory may be freed right after. */
    @Test
    void closeWaitsForWhatIsRunningAndCancelsTheRest() throws InterruptedException {
        AtomicBoolean slowDone = new AtomicBoolean();
        CountDownLatch slowStarted = new CountDownLatch(1);
        ParallelLoads<PackedMatrix> loads = new ParallelLoads<PackedMatrix>(2);
        try (loads) {
            loads.submit(() -> {
                throw new IllegalStateException("fails at once");
            }, m -> { });
            loads.submit(() -> {
                slowStarted.countDown();
                sleepMs(300);
                slowDone.set(true);
                return matrix(1);
            }, m -> { });
            assertTrue(slowStarted.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < 50; i++) {
                loads.submit(() -> matrix(2), m -> { });
            }
            assertThrows(IllegalStateException.class, loads::finish);
        }
        assertTrue(slowDone.get(), "close returned only after the running matrix was made");
        assertThrows(IllegalArgumentException.class, () -> new ParallelLoads<PackedMatrix>(0));
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
