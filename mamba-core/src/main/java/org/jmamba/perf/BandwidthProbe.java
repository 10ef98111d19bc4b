package org.jmamba.perf;

import org.jmamba.kernels.WorkerPool;

/**
 * Measures how fast this machine streams memory: a plain Java sum over a buffer far larger than
 * the caches, split between the same number of threads as the model uses. Decoding one token reads
 * every weight once, so {@code bytes per token / this bandwidth} is the fastest a decode step can
 * be (the "bandwidth floor"); a decode benchmark is reported as a fraction of it.
 *
 * <p>The sum is over {@code int}s with a {@code long} accumulator: the JIT vectorises that loop,
 * so it is limited by memory, not by the adds. The best of several passes is taken (bandwidth on a
 * shared machine only ever reads low), which makes the fraction of the floor a conservative figure.
 */
public final class BandwidthProbe implements AutoCloseable {
    /** The default buffer: 512 MiB, 16 times the largest L3 of the machines this was written for. */
    public static final long DEFAULT_BYTES = 512L << 20;

    private final int[] buffer;
    private final int threads;
    private final WorkerPool pool;
    private final long[] partial;

    /** A probe over {@code bytes} of memory (rounded down to ints), read by {@code threads} threads. */
    public BandwidthProbe(long bytes, int threads) {
        if (bytes < 1 << 20 || bytes > Integer.MAX_VALUE * 4L) {
            throw new IllegalArgumentException("probe buffer must be between 1 MiB and 8 GiB, got " + bytes + " bytes");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.buffer = new int[(int) (bytes / 4)];
        for (int i = 0; i < buffer.length; i++) {
            buffer[i] = i * 0x9E3779B9; // touch every page; values the JIT cannot predict
        }
        this.threads = threads;
        this.pool = new WorkerPool(threads, "jmamba-probe");
        this.partial = new long[threads * WorkerPool.CHUNKS_PER_THREAD];
    }

    public long bytes() {
        return 4L * buffer.length;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code passes} timed passes (after one untimed) and returns the best bandwidth, in bytes
     * per second.
     */
    public double measure(int passes) {
        pass();
        double best = 0;
        for (int p = 0; p < passes; p++) {
            best = Math.max(best, bytes() / pass());
        }
        return best;
    }

    /** One pass over the buffer on all threads; returns its duration in seconds. */
    public double pass() {
        int n = buffer.length;
        long t0 = System.nanoTime();
        int parts = partial.length;
        pool.run((w, c, cs) -> {
            int from = (int) ((long) n * c / cs);
            int to = (int) ((long) n * (c + 1) / cs);
            partial[c] = sum(buffer, from, to);
        }, parts);
        double sec = (System.nanoTime() - t0) / 1e9;
        long check = 0;
        for (long v : partial) {
            check += v;
        }
        return check == 42 ? sec + 1e-12 : sec; // uses the sums, so the JIT keeps them
    }

    @Override
    public void close() {
        pool.close();
    }

    /** The plain loop the JIT vectorises. */
    static long sum(int[] a, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s;
    }
}
