package org.jmamba.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

    @Test
    void parallelForCoversEveryIndexExactlyOnce() {
        Random r = new Random();
        for (int threads = 1; threads <= 4; threads++) {
            try (WorkerPool pool = new WorkerPool(threads, "test")) {
                for (int trial = 0; trial < 200; trial++) {
                    int n = r.nextInt(50);
                    int parts = 1 + r.nextInt(6);
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                    pool.parallelFor(n, parts, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "index " + i + " of " + n + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void runExecutesEveryChunkOnceOnTheTeamsThreads() {
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads, "test")) {
                for (int chunks : new int[] {1, 2, 3, 7, 40}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(chunks);
                    int t = threads;
                    pool.run((w, c, n) -> {
                        assertEquals(chunks, n);
                        assertTrue(w >= 0 && w < t, "worker index " + w);
                        seen.incrementAndGet(c);
                    }, chunks);
                    for (int i = 0; i < chunks; i++) {
                        assertEquals(1, seen.get(i), "chunk " + i + " of " + chunks + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void theFirstChunkIsAlwaysTheCallers() {
        // The decoder sizes chunk 0 for the calling thread: no worker may ever take it.
        for (int threads = 2; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads, "test")) {
                Thread caller = Thread.currentThread();
                for (int job = 0; job < 2_000; job++) {
                    int chunks = 1 + job % 5;
                    AtomicInteger wrong = new AtomicInteger();
                    pool.run((w, c, n) -> {
                        if (c == 0 && (w != 0 || Thread.currentThread() != caller)) {
                            wrong.incrementAndGet();
                        }
                    }, chunks);
                    assertEquals(0, wrong.get(), "job " + job + ", " + threads + " threads");
                }
            }
        }
    }

    @Test
    void aPausedWorkerDoesNotHoldTheJobBack() throws Exception {
        // Chunk 0 blocks until every other chunk has run: that is only possible if the other
        // threads take over the blocked thread's share instead of waiting for it.
        try (WorkerPool pool = new WorkerPool(2, "test")) {
            int chunks = 8;
            AtomicInteger others = new AtomicInteger();
            pool.run((w, c, n) -> {
                if (c == 0) {
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    while (others.get() < n - 1 && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                } else {
                    others.incrementAndGet();
                }
            }, chunks);
            assertEquals(chunks - 1, others.get());
        }
    }

    @Test
    void nestedCallsRunInlineAndFinish() {
        try (WorkerPool pool = new WorkerPool(2, "test")) {
            AtomicInteger count = new AtomicInteger();
            AtomicInteger outer = new AtomicInteger();
            pool.parallelFor(8, 2, (s, e) -> {
                outer.incrementAndGet();
                pool.parallelFor(10, 2, (s2, e2) -> count.addAndGet(e2 - s2));
            });
            assertEquals(10 * outer.get(), count.get()); // each outer range runs the whole inner loop once
        }
    }

    @Test
    void concurrentCallersBothComplete() throws Exception {
        try (WorkerPool pool = new WorkerPool(2, "test")) {
            long[] sums = new long[2];
            Thread[] ts = new Thread[2];
            for (int t = 0; t < 2; t++) {
                int id = t;
                ts[t] = new Thread(() -> {
                    for (int rep = 0; rep < 2000; rep++) {
                        AtomicInteger s = new AtomicInteger();
                        pool.parallelFor(100, 2, (a, b) -> s.addAndGet(b - a));
                        sums[id] += s.get();
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join(60_000);
            }
            assertEquals(200_000, sums[0]);
            assertEquals(200_000, sums[1]);
        }
    }

    @Test
    void aFailureInAWorkerReachesTheCaller() {
        try (WorkerPool pool = new WorkerPool(2, "test")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((w, c, n) -> {
                if (c == 3) {
                    throw new IllegalStateException("boom in a chunk");
                }
            }, 8));
            assertTrue(e.getMessage().contains("boom"));
            // and the pool still works afterwards
            AtomicInteger c = new AtomicInteger();
            pool.parallelFor(10, 2, (s, e2) -> c.addAndGet(e2 - s));
            assertEquals(10, c.get());
        }
    }

    @Test
    void aClosedPoolRefusesWorkAndBadSizesAreRejected() {
        WorkerPool pool = new WorkerPool(2, "test");
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run((w, c, n) -> { }, 2));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0, "x"));
        // A mistyped count fails at once, naming it, instead of starting threads until the system refuses.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WorkerPool(WorkerPool.MAX_THREADS + 1, "x"));
        assertTrue(e.getMessage().contains("got " + (WorkerPool.MAX_THREADS + 1)), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(100_000, "x"));
    }
}
