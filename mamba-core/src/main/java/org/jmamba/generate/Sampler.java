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
 * history always give the same tokens. It reuses its buffers; sampling a token allocates nothing
 * once the JIT has compiled its SIMD kernel ({@link Kernels#expShifted}). One sampler serves one
 * sequence on one thread.
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
    /** Scratch: top-p's histogram of the mass by distance below the max. */
    private final double[] bucketMass = new double[BUCKETS];
    /** The last draw's z: the mass top-p measures against (every token's, or the top k's). */
    private double z;
    /** Whether the last draw's candidates are every token, in id order (no filter on). */
    private boolean allTokens;

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
        double total = allTokens ? z : 0;
        if (!allTokens) {
            for (int j = 0; j < n; j++) {
                total += expOf[token(keys[j])];
            }
        }
        double target = rng.nextDouble() * total;
        double cumulative = 0;
        for (int j = 0; j < n - 1; j++) {
            cumulative += expOf[candidate(j)];
            if (target < cumulative) {
                return candidate(j);
            }
        }
        return candidate(n - 1);
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
            total += expOf[candidate(j)];
        }
        for (int j = 0; j < n; j++) {
            p[candidate(j)] = expOf[candidate(j)] / total;
        }
        return p;
    }

    /** The token of the draw's j-th candidate. */
    private int candidate(int j) {
        return allTokens ? j : token(keys[j]);
    }

    /**
     * Chooses the candidates and returns their number n (at least 1). A draw walks them in order:
     * {@code keys[0..n)}, or, when {@link #allTokens} (no filter is on), every token in id order,
     * whose mass {@link #z} was summed in that same order. When n > 1 each candidate's
     * unnormalised probability is {@code expOf[token]}.
     */
    private int shape(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException("logits have length " + logits.length + ", expected the vocabulary size "
                    + vocabSize);
        }
        allTokens = false;
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

        // z is the mass that top-p is measured against: all tokens, or the top k when top-k is on
        // (top-p comes after top-k and sees top-k's renormalised distribution).
        z = 0;
        int n = 0;
        if (useTopK) {
            selectTopK(topK);
            for (int j = 0; j < topK; j++) {
                z += expOf[token(keys[j])];
                if (work[token(keys[j])] >= minPThreshold) {
                    keys[n++] = keys[j];
                }
            }
        } else if (params.minP() == 0 && params.topP() == 1) {
            // No filter: every token is a candidate, drawn in id order, and the draw's total is z.
            for (int i = 0; i < vocabSize; i++) {
                z += expOf[i];
            }
            allTokens = true;
            return vocabSize;
        } else {
            for (int i = 0; i < vocabSize; i++) {
                z += expOf[i];
                if (work[i] >= minPThreshold) {
                    keys[n++] = pack(work[i], i);
                }
            }
        }

        if (params.topP() < 1) {
            n = nucleus(n, max, params.topP() * z);
        }
        return n;
    }

    /**
     * Top-p: sorts the shortest prefix of {@code keys[0..n)}, in probability order, whose mass
     * (summed in that order) reaches {@code limit}, and returns its length: a token is kept iff the
     * mass ranked above it is still below {@code limit} (the token that crosses it is kept, as in
     * Hugging Face's TopPLogitsWarper). All n when the prefix never reaches it.
     *
     * <p>The nucleus is usually a small part of the vocabulary, so only a prefix is sorted. Which
     * one comes from a histogram of the mass by how far each logit lies below the max: the
     * candidates of the buckets that reach the limit, and one bucket more, are moved to the front
     * (a bucket boundary is a logit value, so they are a prefix of the probability order), sorted
     * and walked; the walk sums in the order that defines the rule, so the kept prefix is exactly
     * the one a full sort gives. In the rare case that the walk does not reach the limit there,
     * the rest is sorted behind it and the walk goes on.
     */
    private int nucleus(int n, float max, double limit) {
        int c = n;
        if (n > NUCLEUS_SORT_ALL) {
            Arrays.fill(bucketMass, 0);
            for (int j = 0; j < n; j++) {
                int t = token(keys[j]);
                bucketMass[bucket(max, work[t])] += expOf[t];
            }
            int last = BUCKETS - 1;
            double mass = 0;
            for (int b = 0; b < BUCKETS; b++) {
                mass += bucketMass[b];
                if (mass >= limit) {
                    last = Math.min(BUCKETS - 1, b + 1);
                    break;
                }
            }
            c = 0;
            for (int j = 0; j < n; j++) {
                long key = keys[j];
                if (bucket(max, work[token(key)]) <= last) {
                    keys[j] = keys[c];
                    keys[c++] = key;
                }
            }
        }
        Arrays.sort(keys, 0, c);
        double cumulative = 0;
        int kept = 0;
        while (kept < c && cumulative < limit) {
            cumulative += expOf[token(keys[kept])];
            kept++;
        }
        if (cumulative < limit && c < n) {
            Arrays.sort(keys, c, n); // every key here sorts after the prefix's
            while (kept < n && cumulative < limit) {
                cumulative += expOf[token(keys[kept])];
                kept++;
            }
        }
        return Math.max(kept, 1);
    }

    /** Up to this many candidates top-p sorts them all. */
    private static final int NUCLEUS_SORT_ALL = 64;
    /** Top-p's histogram: buckets of 1/{@value #PER_NAT} nat below the max, the last taking the rest. */
    private static final int BUCKETS = 1024;
    private static final float PER_NAT = 32f;

    /** The histogram bucket of a logit: how far below the max it lies, monotone in the logit. */
    private static int bucket(float max, float logit) {
        float f = (max - logit) * PER_NAT; // exact scaling: a power of two
        return f < BUCKETS - 1 ? (int) f : BUCKETS - 1; // -infinity's +infinity lands in the last
    }

    /**
     * Top-k: puts the {@code k} most likely tokens in {@code keys[0..k)}, most likely first (ties by
     * lower id): one pass over the vocabulary keeping the k best in a heap (a token that does not
     * beat the k-th best so far costs one comparison), then a sort of those k.
     */
    private void selectTopK(int k) {
        // A max-heap of packed keys (the largest key is the least likely token kept so far).
        for (int i = 0; i < k; i++) {
            keys[i] = pack(work[i], i);
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(keys, i, k);
        }
        for (int i = k; i < vocabSize; i++) {
            long key = pack(work[i], i);
            if (key < keys[0]) {
                keys[0] = key;
                siftDown(keys, 0, k);
            }
        }
        Arrays.sort(keys, 0, k);
    }

    private static void siftDown(long[] heap, int i, int size) {
        long v = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[child] <= v) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = v;
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
}
