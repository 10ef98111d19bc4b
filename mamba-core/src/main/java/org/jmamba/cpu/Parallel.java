package org.jmamba.cpu;

import org.jmamba.kernels.GemmProvider;
import org.jmamba.kernels.WorkerPool;

/**
 * The model's one thread pool and its only primitive, {@link #parallelFor}: split {@code [0, n)}
 * into contiguous ranges and run them on the pool, returning when all are done.
 *
 * <p>The threads are a {@link WorkerPool}: its workers spin briefly between jobs, so the hundred or
 * so short loops of one decode step are handed over in about a microsecond each, and a hand-off
 * allocates nothing. A body may itself call {@code parallelFor}, and many caller threads may share
 * one pool: a call that finds the pool busy runs on its own thread. Small jobs run inline on the
 * caller: a hand-off still costs more than a few thousand multiply-adds.
 */
public final class Parallel implements AutoCloseable {

    /** Below this many (roughly) multiply-adds a job runs on the calling thread. */
    private static final long MIN_PARALLEL_WORK = 1L << 15;

    /** The body of a parallel loop over {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody extends WorkerPool.Range {
        @Override
        void run(int start, int end);
    }

    private final int threads;
    private final WorkerPool pool;
    /** Optional engine for the large matrix products (see {@link Linear}); null = pure Java. */
    private final GemmProvider gemm;

    public Parallel(int threads) {
        this(threads, null);
    }

    /** A pool of {@code threads} whose linear layers hand the products {@code gemm} accepts to it. */
    public Parallel(int threads, GemmProvider gemm) {
        this.pool = new WorkerPool(threads, "jmamba-cpu"); // checks the count
        this.threads = threads;
        this.gemm = gemm;
    }

    /** The engine for large matrix products, or null for the pure-Java kernels. */
    public GemmProvider gemm() {
        return gemm;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@code threads} contiguous ranges.
     *
     * @param workPerItem rough cost of one index (multiply-adds), to keep tiny loops inline
     */
    public void parallelFor(int n, long workPerItem, RangeBody body) {
        if (n <= 0) {
            return;
        }
        long total = (long) n * Math.max(1, workPerItem);
        int chunks = (int) Math.min(Math.min(n, threads), Math.max(1, total / MIN_PARALLEL_WORK));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        pool.parallelFor(n, chunks, body);
    }

    /** The underlying team, for allocation-free jobs ({@link WorkerPool#run}) such as the decoder's. */
    public WorkerPool pool() {
        return pool;
    }

    /** Stops the pool's threads; later calls fail. */
    @Override
    public void close() {
        pool.close();
    }
}
