package org.jmamba.cpu;

/**
 * Where to cut one kind of decode phase (in_proj, x_proj, the scan, out_proj, the head) into one
 * chunk per thread: in proportion to the speed each chunk's thread has shown on that kind of phase.
 *
 * <p>On the machines this was measured on, one of two threads often runs at half the other's
 * speed for seconds at a time (both its products and its arithmetic), and which one it is
 * changes (docs/benchmarks.md). With equal chunks each phase then ends when the slow thread ends,
 * while the fast one waits for up to half the phase. Cutting the range in proportion to speed
 * keeps one contiguous chunk per thread (each chunk of weights streamed once: finer chunks cost
 * more than they saved), so the only change is where the cuts fall. Every row and channel is
 * computed the same whatever range holds it, so the cuts do not change the results.
 *
 * <p>Chunk 0 is always run by the calling thread ({@link org.jmamba.kernels.WorkerPool}); the
 * other chunks by the workers, or by the caller when a worker was late, whose timing then says
 * nothing about that chunk's thread and is skipped. Speeds are exponential moving averages of
 * units (rows or channels) per nanosecond; one sample can move an estimate by at most a factor of
 * two, so a chunk interrupted by the operating system does not swing the cut. No chunk gets less
 * than about {@link #MIN_SHARE} of an equal share, so every thread keeps being measured.
 *
 * <p>Used by one decoder, that is by one thread at a time: the caller reads the cuts to publish a
 * job and updates them after the job; each chunk's thread writes only its own chunk's sample,
 * which the caller reads after the pool's hand-back.
 */
final class SpeedSplit {
    /** How far one phase's sample moves the speed estimate. */
    static final double WEIGHT = 1.0 / 8;
    /** The smallest share of the range a chunk gets, as a fraction of an equal share. */
    static final double MIN_SHARE = 0.25;

    private final int parts;
    private final double[] speed;   // per chunk: units per ns, or 0 before the first sample
    private final double[] cut;     // cut[i]: where chunk i starts, as a fraction of the range
    private final long[] nanos;     // this job's samples, written by each chunk's thread
    private final int[] units;
    private final boolean[] ownThread;

    SpeedSplit(int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1, got " + parts);
        }
        this.parts = parts;
        speed = new double[parts];
        cut = new double[parts + 1];
        nanos = new long[parts];
        units = new int[parts];
        ownThread = new boolean[parts];
        for (int i = 0; i <= parts; i++) {
            cut[i] = (double) i / parts;
        }
    }

    /**
     * Start of chunk {@code i} (of the {@code parts} this was made with) of {@code [0, n)}, at a
     * multiple of {@code align}.
     */
    int bound(int n, int i, int align) {
        if (i <= 0) {
            return 0;
        }
        if (i >= parts) {
            return n;
        }
        long b = Math.round(n * cut[i]);
        return (int) Math.min(n, (b + align / 2) / align * align);
    }

    /** Chunk {@code chunk}, {@code count} units long, took {@code ns} nanoseconds on thread {@code worker}. */
    void record(int chunk, int worker, long ns, int count) {
        nanos[chunk] = ns;
        units[chunk] = count;
        ownThread[chunk] = (chunk == 0) == (worker == 0);
    }

    /** Folds the samples of the job just finished into the speeds and moves the cuts. */
    void update() {
        for (int i = 0; i < parts; i++) {
            if (ownThread[i] && units[i] > 0 && nanos[i] > 0) {
                double sample = (double) units[i] / nanos[i];
                double s = speed[i];
                speed[i] = s == 0 ? sample : s + WEIGHT * (Math.min(2 * s, Math.max(s / 2, sample)) - s);
            }
            ownThread[i] = false;
            units[i] = 0;
            nanos[i] = 0;
        }
        // The cuts are a function of the speeds alone: recomputed whether or not a sample came.
        double known = 0; // the sum of the speeds
        for (double s : speed) {
            if (s == 0) {
                return; // keep equal cuts until every chunk has a speed
            }
            known += s;
        }
        // Shares in proportion to speed, none below MIN_SHARE of an equal one, then normalised.
        double floor = MIN_SHARE / parts;
        double total = 0;
        for (int i = 0; i < parts; i++) {
            total += Math.max(floor, speed[i] / known);
        }
        double c = 0;
        for (int i = 0; i < parts; i++) {
            cut[i] = c;
            c += Math.max(floor, speed[i] / known) / total;
        }
        cut[parts] = 1;
    }

    /** The current share of chunk {@code i}, for tests and logs. */
    double share(int i) {
        return cut[i + 1] - cut[i];
    }
}
