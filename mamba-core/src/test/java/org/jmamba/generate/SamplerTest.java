package org.jmamba.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** Logits whose softmax is exactly (0.1, 0.2, 0.3, 0.4). */
    private static final float[] P1234 = {(float) Math.log(1), (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};

    private static Sampler sampler(SamplingParams p, int vocab) {
        return new Sampler(p, vocab, 42);
    }

    private static SamplingParams.Builder sampling() {
        return SamplingParams.builder().temperature(1.0);
    }

    private static void assertDistribution(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6, "probability of token " + i + " in " + Arrays.toString(actual));
        }
    }

    private static float[] randomLogits(Random r, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        return l;
    }

    @Test
    void greedyTakesArgMaxAndIsTheDefault() {
        SamplingParams p = SamplingParams.greedy(10);
        assertTrue(p.isGreedy());
        Sampler s = sampler(p, 4);
        assertEquals(3, s.sample(P1234));
        assertEquals(1, s.sample(new float[] {0, 5, 5, -1})); // tie: the first one
        assertDistribution(new double[] {0, 0, 0, 1}, s.distribution(P1234));
    }

    @Test
    void topKOneIsGreedy() {
        Random r = new Random(1);
        Sampler s = sampler(sampling().temperature(1.7).topK(1).build(), 300);
        for (int i = 0; i < 200; i++) {
            float[] l = randomLogits(r, 300);
            int best = 0;
            for (int j = 1; j < l.length; j++) {
                if (l[j] > l[best]) {
                    best = j;
                }
            }
            assertEquals(best, s.sample(l));
        }
    }

    @Test
    void temperatureScalesLogits() {
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().build(), 4).distribution(P1234));
        // T = 0.5 squares the probabilities: (1, 4, 9, 16) / 30.
        assertDistribution(new double[] {1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0},
                sampler(sampling().temperature(0.5).build(), 4).distribution(P1234));
        // T = 2 takes square roots.
        double z = 1 + Math.sqrt(2) + Math.sqrt(3) + 2;
        assertDistribution(new double[] {1 / z, Math.sqrt(2) / z, Math.sqrt(3) / z, 2 / z},
                sampler(sampling().temperature(2).build(), 4).distribution(P1234));
    }

    @Test
    void topKKeepsTheKMostLikely() {
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0}, sampler(sampling().topK(2).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().topK(4).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().topK(9).build(), 4).distribution(P1234));
    }

    @Test
    void topKMatchesSortOnLargeRandomVocabularies() {
        Random r = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            int vocab = 50 + r.nextInt(2000);
            int k = 1 + r.nextInt(40);
            float[] l = randomLogits(r, vocab);
            double[] p = sampler(sampling().topK(k).build(), vocab).distribution(l);
            float[] sorted = l.clone();
            Arrays.sort(sorted);
            float kth = sorted[vocab - k];
            double z = 0;
            for (float v : l) {
                if (v >= kth) {
                    z += Math.exp(v);
                }
            }
            for (int i = 0; i < vocab; i++) {
                double expected = l[i] >= kth ? Math.exp(l[i]) / z : 0;
                assertEquals(expected, p[i], 1e-6 * expected, "token " + i); // float logits: ~1e-7 relative
            }
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingTheMass() {
        // Sorted: 0.4, 0.3, 0.2, 0.1. A token is kept while the mass ranked above it is below p.
        assertDistribution(new double[] {0, 0, 0, 1}, sampler(sampling().topP(0.35).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0}, sampler(sampling().topP(0.41).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0, 2 / 9.0, 3 / 9.0, 4 / 9.0}, sampler(sampling().topP(0.75).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().topP(0.95).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().topP(1.0).build(), 4).distribution(P1234));
    }

    @Test
    void topPIsMeasuredAfterTopK() {
        // top-k 2 renormalises to (3/7, 4/7): 4/7 = 0.571 already exceeds 0.55, so only token 3 is left.
        assertDistribution(new double[] {0, 0, 0, 1}, sampler(sampling().topK(2).topP(0.55).build(), 4).distribution(P1234));
        // Without top-k, 0.4 < 0.55 so token 2 stays.
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0}, sampler(sampling().topP(0.55).build(), 4).distribution(P1234));
    }

    @Test
    void topPMatchesAFullSortOnLargeVocabularies() {
        Random r = new Random(13);
        for (int trial = 0; trial < 30; trial++) {
            int vocab = 100 + r.nextInt(5000);
            float[] l = randomLogits(r, vocab);
            double scale = 0.05 + r.nextDouble() * 2; // flat to peaked: nuclei of a few to thousands of tokens
            for (int i = 0; i < vocab; i++) {
                l[i] *= (float) scale;
            }
            assertTopPMatchesFullSort(l, 0.05 + 0.9 * r.nextDouble(), 0, "trial " + trial);
        }
    }

    /**
     * The nucleus comes from a histogram of the mass by logit, then a sort of only its buckets: the
     * kept set must still be the full sort's where the histogram's sums differ most from the
     * sorted-order ones (top-p a hair below 1), where many tokens tie, where one token holds almost
     * everything, and where every token is alike.
     */
    @Test
    void topPMatchesAFullSortAtItsEdges() {
        Random r = new Random(17);
        int vocab = 3000;
        float[] ties = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            ties[i] = r.nextInt(12) * 0.25f; // twelve values, 250 tokens each
        }
        float[] dominant = randomLogits(r, vocab);
        dominant[1234] = 40f;
        float[] alike = new float[vocab];
        float[] spread = randomLogits(r, vocab);
        for (int i = 0; i < vocab; i++) {
            spread[i] *= 20f; // past the histogram's last bucket, 32 nats below the max
        }
        float[][] cases = {ties, dominant, alike, spread, randomLogits(r, vocab)};
        double[] topPs = {0.3, 0.9, 1 - 1e-6, 1 - 1e-12};
        for (int c = 0; c < cases.length; c++) {
            for (double topP : topPs) {
                // The sampler takes l - max in float: half an ulp of the distance below the max, up to
                // 6e-8 relative error per nat in e^(l - max); these cases reach 80 nats below.
                assertTopPMatchesFullSort(cases[c], topP, 6e-8, "case " + c + ", top-p " + topP);
            }
        }
    }

    /**
     * Reference: a full descending sort, keeping while the mass above is below topP. Each kept
     * token's probability must match to 1e-6, plus {@code perNat} for each nat it lies below the max.
     */
    private static void assertTopPMatchesFullSort(float[] l, double topP, double perNat, String what) {
        int vocab = l.length;
        double[] p = sampler(sampling().topP(topP).build(), vocab).distribution(l);
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        double max = l[order[0]];
        double z = 0;
        for (float v : l) {
            z += Math.exp(v - max);
        }
        double above = 0;
        int kept = 0;
        while (kept < vocab && above < topP * z) {
            above += Math.exp(l[order[kept]] - max);
            kept++;
        }
        double keptMass = above;
        for (int rank = 0; rank < vocab; rank++) {
            int t = order[rank];
            double want = rank < kept ? Math.exp(l[t] - max) / keptMass : 0;
            double tol = (1e-6 + perNat * (max - l[t])) * Math.max(want, 1e-12);
            assertEquals(want, p[t], tol, what + ", rank " + rank + " of " + kept + " kept");
        }
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        // threshold 0.6 * 0.4 = 0.24: keeps 0.3 and 0.4.
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0}, sampler(sampling().minP(0.6).build(), 4).distribution(P1234));
        // threshold 0.45 * 0.4 = 0.18: keeps 0.2, 0.3, 0.4.
        assertDistribution(new double[] {0, 2 / 9.0, 3 / 9.0, 4 / 9.0}, sampler(sampling().minP(0.45).build(), 4).distribution(P1234));
        assertDistribution(new double[] {0.1, 0.2, 0.3, 0.4}, sampler(sampling().minP(0.2).build(), 4).distribution(P1234));
        // min-p is relative to the tempered distribution: at T = 0.5 probs are (1, 4, 9, 16)/30,
        // threshold 0.3 * 16/30 = 4.8/30 keeps 9 and 16.
        assertDistribution(new double[] {0, 0, 9 / 25.0, 16 / 25.0},
                sampler(sampling().temperature(0.5).minP(0.3).build(), 4).distribution(P1234));
        // min-p and top-p intersect: top-p 0.75 keeps {1,2,3}, min-p 0.6 keeps {2,3}.
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0},
                sampler(sampling().topP(0.75).minP(0.6).build(), 4).distribution(P1234));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {2.0f, -1.0f, 0.5f, 3.0f};
        Sampler s = sampler(sampling().repetitionPenalty(2.0).build(), 4);
        s.observe(0);
        s.observe(1);
        s.observe(1); // seen twice, penalised once
        double[] expectedLogits = {1.0, -2.0, 0.5, 3.0};
        double z = 0;
        for (double v : expectedLogits) {
            z += Math.exp(v);
        }
        double[] expected = new double[4];
        for (int i = 0; i < 4; i++) {
            expected[i] = Math.exp(expectedLogits[i]) / z;
        }
        assertDistribution(expected, s.distribution(logits));
        assertArrayEquals(new float[] {2.0f, -1.0f, 0.5f, 3.0f}, logits, "logits must not be modified");

        // Greedy decoding is penalised too: 4 / 2 = 2 < 3.
        Sampler g = sampler(SamplingParams.greedy(5).withRepetitionPenalty(2.0), 4);
        float[] l2 = {4f, -1f, 3f, 0f};
        assertEquals(0, g.sample(l2));
        g.observe(0);
        assertEquals(2, g.sample(l2));
        g.clearHistory();
        assertEquals(0, g.sample(l2));
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        Random r = new Random(11);
        float[] logits = randomLogits(r, 500);
        for (int i = 0; i < logits.length; i++) {
            logits[i] *= 0.2f; // a flat distribution so that draws vary
        }
        SamplingParams p = sampling().temperature(0.9).topP(0.95).build();
        int[] a = draw(new Sampler(p, 500, 1234), logits, 300);
        int[] b = draw(new Sampler(p, 500, 1234), logits, 300);
        int[] c = draw(new Sampler(p, 500, 1235), logits, 300);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void drawsFollowTheDistribution() {
        int draws = 40_000;
        for (long seed : new long[] {5, 6}) {
            Sampler s = new Sampler(sampling().topK(3).build(), 4, seed);
            int[] counts = new int[4];
            for (int i = 0; i < draws; i++) {
                counts[s.sample(P1234)]++;
            }
            // Expected (0, 2/9, 3/9, 4/9); the standard error at 40k draws is ~0.0025.
            assertEquals(0, counts[0]);
            assertEquals(2 / 9.0, counts[1] / (double) draws, 0.012);
            assertEquals(3 / 9.0, counts[2] / (double) draws, 0.012);
            assertEquals(4 / 9.0, counts[3] / (double) draws, 0.012);
        }
    }

    @Test
    void samplingAllocatesNothingPerToken() {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] logits = randomLogits(new Random(2), 4000);
        Sampler s = new Sampler(sampling().temperature(0.8).topK(50).topP(0.9).minP(0.01).repetitionPenalty(1.2).build(),
                4000, 9);
        Sampler s2 = new Sampler(sampling().temperature(0.8).topP(0.9).build(), 4000, 9);
        for (int i = 0; i < 100; i++) {
            s.observe(i);
            s2.observe(i);
        }
        // Rounds of 2000 tokens until one allocates (almost) nothing: the probabilities come from a
        // SIMD kernel, whose vectors are objects until the JIT has compiled it (in one clean-clone
        // run the second round still allocated 44 KB a token); compiled, it allocates nothing.
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 60 && allocated >= 64 * 1024; round++) {
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) {
                s.sample(logits);
                s2.sample(logits);
            }
            allocated = bean.getCurrentThreadAllocatedBytes() - before;
        }
        assertTrue(allocated < 64 * 1024, "sampling 2000 tokens allocated " + allocated + " bytes");
    }

    @Test
    void rejectsBadInput() {
        Sampler s = sampler(sampling().build(), 4);
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {0, Float.NaN, 0, 0}));
        assertThrows(IllegalArgumentException.class, () -> s.observe(4));
        assertThrows(IllegalArgumentException.class, () -> s.observe(-1));
        float ninf = Float.NEGATIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {ninf, ninf, ninf, ninf}));
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                () -> s.sample(new float[] {0, Float.POSITIVE_INFINITY, 0, 0}));
        assertTrue(inf.getMessage().contains("logit 1"), inf.getMessage());
        Sampler cold = sampler(sampling().temperature(1e-30).build(), 4); // a finite logit that overflows
        assertThrows(IllegalArgumentException.class, () -> cold.sample(new float[] {0, 3e38f, 0, 0}));
        // -infinity masks a token out without trouble.
        assertDistribution(new double[] {0, 2 / 9.0, 3 / 9.0, 4 / 9.0},
                s.distribution(new float[] {ninf, P1234[1], P1234[2], P1234[3]}));
    }

    @Test
    void paramsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(Double.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topK(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(0).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(1.5).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().minP(-0.1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().minP(2).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().repetitionPenalty(0).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().maxNewTokens(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().addStopString("").build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().addStopTokenId(-2).build());
        SamplingParams p = SamplingParams.greedy(7).withTemperature(0.5).withSeed(3).withTopK(4);
        assertEquals(0.5, p.temperature());
        assertEquals(3, p.seed().getAsLong());
        assertEquals(4, p.topK());
        assertEquals(7, p.maxNewTokens());
        assertFalse(p.isGreedy());
    }

    private static int[] draw(Sampler s, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }
}
