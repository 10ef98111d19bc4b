package org.jmamba.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jmamba.MambaConfig;
import org.jmamba.SequenceModel;
import org.jmamba.cpu.CpuMamba;
import org.junit.jupiter.api.Test;

class TokenScorerTest {
    private static final MambaConfig CONFIG = new MambaConfig(12, 2, 30, 3, 4, 24, 1, false, true, 1e-5, true, true);

    /** Reference: log-softmax of one parallel forward pass over the whole sequence, in double. */
    private static double[] reference(SequenceModel m, int[] tokens) {
        float[] logits = m.forward(new int[][] {tokens}, false).logits().data();
        int v = CONFIG.vocabSize();
        double[] out = new double[tokens.length - 1];
        for (int t = 0; t < out.length; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[t * v + j]);
            }
            double z = 0;
            for (int j = 0; j < v; j++) {
                z += Math.exp(logits[t * v + j] - max);
            }
            out[t] = logits[t * v + tokens[t + 1]] - max - Math.log(z);
        }
        return out;
    }

    private static double relErr(double[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void chunkedScoresEqualOneParallelPass() {
        Random r = new Random(5);
        try (SequenceModel m = CpuMamba.create(RandomModels.weights(CONFIG, 8))) {
            int[] tokens = new int[41];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = r.nextInt(CONFIG.vocabSize());
            }
            double[] ref = reference(m, tokens);
            for (int chunk : new int[] {1, 7, 40, 1000}) {
                List<Long> progress = new ArrayList<>();
                TokenScorer.Score s = new TokenScorer(m, chunk).score(tokens, true, progress::add);
                assertEquals(40, s.count());
                double err = relErr(s.logProbs(), ref);
                assertEquals(0, err, 1e-5, "chunk " + chunk + ": relative error " + err);
                double mean = 0;
                for (double x : ref) {
                    mean -= x / ref.length;
                }
                assertEquals(mean, s.loss(), 1e-5 * mean);
                assertEquals(Math.exp(s.loss()), s.perplexity(), 1e-12);
                assertEquals(40L, progress.get(progress.size() - 1));
                assertEquals((40 + chunk - 1) / chunk, progress.size());
            }
            TokenScorer.Score noKeep = new TokenScorer(m, 9).score(tokens, false, null);
            assertNull(noKeep.logProbs());
            assertEquals(40, noKeep.count());
        }
    }

    @Test
    void tooShortAndBadInput() {
        try (SequenceModel m = CpuMamba.create(RandomModels.weights(CONFIG, 8))) {
            TokenScorer.Score one = new TokenScorer(m).score(new int[] {3}, true, null);
            assertEquals(0, one.count());
            assertEquals(Double.NaN, one.loss());
            assertThrows(IllegalArgumentException.class, () -> new TokenScorer(m).score(new int[] {3, 30}, true, null));
            assertThrows(IllegalArgumentException.class, () -> new TokenScorer(m, 0));
        }
    }

    @Test
    void logSoftmaxIsNormalised() {
        float[] l = {1f, 2f, 3f, -50f};
        double z = 0;
        for (int i = 0; i < l.length; i++) {
            z += Math.exp(TokenScorer.logSoftmaxAt(l, i));
        }
        assertEquals(1.0, z, 1e-12);
        assertEquals(Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(-50))),
                TokenScorer.logSoftmaxAt(l, 2), 1e-12);
    }
}
