package org.jmamba.generate;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.jmamba.kernels.Kernels;

/**
 * Picks next tokens for one sequence from the model's logits: greedy, or sampling shaped by
 * repetition penalty, temperature, top-k, top-p and min-p (in that order, as Hugging Face does).
 *
 * <p>A sampler is stateful: it remembers the tokens it has been shown ({@link #observe}) for the
 * repetition penalty and owns a seeded RNG ({@link SplittableRandom}), so the same seed, logits and
 * history always give the same tokens. It reuses its buffers; sampling a token allocates nothing.
 * One sampler serves one sequence on one thread.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final SplittableRandom rng;

    /** Scratch: the shaped logits (penalised, divided by the temperature). */
    private final float[] work;
    /**
     * Scratch: each token's unnormalised probability e^(shaped logit - max), computed once per
     * draw by {@link Kernels#expShifted}.
     */
    private final float[] expOf;
    /** Scratch: candidates packed as (descending-order logit key << 32 | token id). */
    private final long[] keys;

    /** Tokens seen so far, once each: a bit set for membership and a list for iteration. */
    private final long[] seenBits;
    private int[] seenList = new int[64];
    private int seenCount;

    /**
     * @param params    how to shape the distribution (the stopping fields are not used here)
     * @param vocabSize length of the logits vectors this sampler will see
     * @param seed      seed of this sampler's RNG
     */
    public Sampler(SamplingParams params, int vocabSize, long seed) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        this.rng = new SplittableRandom(seed);
        this.work = new float[vocabSize];
        this.expOf = new float[vocabSize];
        this.keys = new long[vocabSize];
        this.seenBits = new long[(vocabSize + 63) >>> 6];
    }

    public SamplingParams params() {
        return params;
    }

    /** Records a token of the context (prompt or generated) for the repetition penalty. */
    public void observe(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        long bit = 1L << (token & 63);
        if ((seenBits[token >>> 6] & bit) != 0) {
            return;
        }
        seenBits[token >>> 6] |= bit;
        if (seenCount == seenList.length) {
            seenList = Arrays.copyOf(seenList, Math.min(vocabSize, seenCount * 2));
        }
        seenList[seenCount++] = token;
    }

    /** Records every token of {@code tokens}. */
    public void observeAll(int[] tokens) {
        for (int t : tokens) {
            observe(t);
        }
    }

    /** Forgets the observed history (the RNG keeps its position). */
    public void clearHistory() {
        Arrays.fill(seenBits, 0L);
        seenCount = 0;
    }

    /**
     * The next token for these logits. The logits are not modified.
     *
     * @throws IllegalArgumentException if {@code logits} has the wrong length or contains NaN
     */
    public int sample(float[] logits) {
        int n = shape(logits);
        if (n == 1) {
            return token(keys[0]);
        }
        double total = 0;
        for (int j = 0; j < n; j++) {
            total += expOf[token(keys[j])];
        }
        double target = rng.nextDouble() * total;
        double cumulative = 0;
        for (int j = 0; j < n - 1; j++) {
            cumulative += expOf[token(keys[j])];
            if (target < cumulative) {
                return token(keys[j]);
            }
        }
        return token(keys[n - 1]);
    }

    /**
     * The full next-token distribution that {@link #sample} draws from (a one-hot vector when
     * greedy). Allocates; meant for inspection and tests, not the per-token path.
     */
    public double[] distribution(float[] logits) {
        int n = shape(logits);
        double[] p = new double[vocabSize];
        if (n == 1) { // greedy, or one candidate left: sample takes it without a draw
            p[token(keys[0])] = 1;
            return p;
        }
        double total = 0;
        for (int j = 0; j < n; j++) {
            total += expOf[token(keys[j])];
        }
        for (int j = 0; j < n; j++) {
            p[token(keys[j])] = expOf[token(keys[j])] / total;
        }
        return p;
    }

    /**
     * Fills {@code keys[0..n)} with the candidate tokens, in the order a draw walks them, and
     * returns n (at least 1). When n > 1 each candidate's unnormalised probability is
     * {@code expOf[token]}.
     */
    private int shape(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException("logits have length " + logits.length + ", expected the vocabulary size "
                    + vocabSize);
        }
        System.arraycopy(logits, 0, work, 0, vocabSize);
        applyRepetitionPenalty();

        if (params.isGreedy()) {
            int best = argmax(work);
            keys[0] = pack(work[best], best);
            return 1;
        }

        // Temperature: sample from softmax(logits / T).
        float invT = (float) (1.0 / params.temperature());
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            float v = work[i] * invT;
            if (Float.isNaN(v)) {
                throw new IllegalArgumentException("logit " + i + " is NaN");
            }
            if (v == Float.POSITIVE_INFINITY) { // e^(logit - max) would be NaN for every token
                throw new IllegalArgumentException("logit " + i + " is " + logits[i] + ", +infinity once divided by the "
                        + "temperature " + params.temperature() + ": the distribution is undefined");
            }
            work[i] = v;
            max = Math.max(max, v);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity: nothing can be sampled");
        }

        // Every token's unnormalised probability, in one vectorised pass: the filters below and the
        // draw read these instead of calling Math.exp per token (two or three times each, which took
        // ~10% of a 130m model's decode time in `generate`; docs/generation.md).
        Kernels.expShifted(work, 0, max, expOf, 0, vocabSize);

        // min-p keeps p_i >= minP * p_max, i.e. logit_i - max >= ln(minP). Like top-k and top-p it
        // keeps a prefix of the tokens sorted by probability, so the three filters intersect.
        float minPThreshold = params.minP() > 0 ? max + (float) Math.log(params.minP()) : Float.NEGATIVE_INFINITY;
        int topK = params.topK();
        boolean useTopK = topK > 0 && topK < vocabSize;

        // Z is the mass that top-p is measured against: all tokens, or the top k when top-k is on
        // (top-p comes after top-k and sees top-k's renormalised distribution).
        double z = 0;
        int n = 0;
        if (useTopK) {
            for (int i = 0; i < vocabSize; i++) {
                keys[i] = pack(work[i], i);
            }
            selectSmallest(keys, vocabSize, topK);
            for (int j = 0; j < topK; j++) {
                z += expOf[token(keys[j])];
                if (work[token(keys[j])] >= minPThreshold) {
                    keys[n++] = keys[j];
                }
            }
        } else {
            for (int i = 0; i < vocabSize; i++) {
                z += expOf[i];
                if (work[i] >= minPThreshold) {
                    keys[n++] = pack(work[i], i);
                }
            }
        }

        if (params.topP() < 1) {
            // Keep the token at rank r iff the mass ranked above it is still below topP * Z (the
            // token that crosses the threshold is kept, as in Hugging Face's TopPLogitsWarper).
            // The nucleus is usually small: sort only the best `sorted` candidates, and widen the
            // window (x4) until it holds the whole nucleus, instead of sorting the vocabulary.
            double limit = params.topP() * z;
            int sorted = Math.min(n, 64);
            while (true) {
                if (sorted < n) {
                    selectSmallest(keys, n, sorted);
                }
                Arrays.sort(keys, 0, sorted);
                double cumulative = 0;
                int kept = 0;
                while (kept < sorted && cumulative < limit) {
                    cumulative += expOf[token(keys[kept])];
                    kept++;
                }
                if (cumulative >= limit || sorted == n) {
                    n = Math.max(kept, 1);
                    break;
                }
                sorted = (int) Math.min(n, 4L * sorted);
            }
        }
        return n;
    }

    /** CTRL / Hugging Face: a seen token's positive logit is divided by the penalty, a negative one multiplied. */
    private void applyRepetitionPenalty() {
        float penalty = (float) params.repetitionPenalty();
        if (penalty == 1f) {
            return;
        }
        for (int j = 0; j < seenCount; j++) {
            int t = seenList[j];
            float v = work[t];
            work[t] = v > 0 ? v / penalty : v * penalty;
        }
    }

    /** Index of the largest value, the first one on ties. */
    private static int argmax(float[] v) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            if (Float.isNaN(x)) {
                throw new IllegalArgumentException("logit " + i + " is NaN");
            }
            if (x > bestValue) {
                bestValue = x;
                best = i;
            }
        }
        return best;
    }

    /**
     * Packs a logit and a token id into a long whose ascending order is descending logit, then
     * ascending id (so ties resolve to the lower id, deterministically).
     */
    static long pack(float logit, int token) {
        int bits = Float.floatToIntBits(logit);
        int ordered = bits < 0 ? bits ^ 0x7fffffff : bits; // signed-int order == float order
        return ((long) ~ordered << 32) | (token & 0xffffffffL);
    }

    static int token(long key) {
        return (int) key;
    }

    /**
     * Rearranges {@code a[0..n)} so that its {@code k} smallest values occupy {@code a[0..k)} (in
     * no particular order): quickselect with a median-of-three pivot, deterministic.
     */
    static void selectSmallest(long[] a, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            long pivot = median(a[lo], a[mid], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            // a[lo..j] <= pivot <= a[i..hi]; continue in the part that holds position k-1.
            if (k - 1 <= j) {
                hi = j;
            } else if (k - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long median(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
