package org.jmamba.train;

/**
 * A small seeded pseudo-random generator (SplitMix64) whose whole state is one {@code long}, so a
 * training checkpoint can store it and a resumed run draws exactly the same numbers.
 *
 * <p>{@link java.util.Random} and {@link java.util.SplittableRandom} do not expose their state;
 * that is the reason this class exists. SplitMix64 (Steele, Lea and Flood 2014) passes BigCrush and
 * is ample for sampling data and initial weights. Not thread-safe: one generator per thread.
 */
public final class Rng {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    /** A generator seeded with {@code seed}; equal seeds give equal sequences. */
    public Rng(long seed) {
        this.state = seed;
    }

    /** A generator that continues from a state previously read with {@link #state()}. */
    public static Rng fromState(long state) {
        return new Rng(state);
    }

    /** The full state; {@code Rng.fromState(r.state())} continues exactly where {@code r} is. */
    public long state() {
        return state;
    }

    /**
     * An independent generator for sub-stream {@code stream} of this seed, leaving this one
     * untouched (e.g. a fixed validation set that must not depend on how far training went).
     */
    public Rng fork(long stream) {
        return new Rng(mix(state ^ mix(stream + GOLDEN_GAMMA)));
    }

    /** 64 uniformly random bits. */
    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** A uniform int in {@code [0, bound)}; unbiased (Lemire's multiply-and-reject). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** A uniform int in {@code [from, to)}. */
    public int nextInt(int from, int to) {
        if (to <= from) {
            throw new IllegalArgumentException("empty range [" + from + ", " + to + ")");
        }
        return from + nextInt(to - from);
    }

    /** A uniform double in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /**
     * A standard normal deviate (Box-Muller; one of the pair is discarded so that the state stays
     * a single long).
     */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log is finite
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** A uniform double in {@code [lo, hi)}. */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
