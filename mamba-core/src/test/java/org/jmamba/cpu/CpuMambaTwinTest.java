package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;

/** The fp32 model against the independent float64 twin on fresh random configs, weights and tokens. */
class CpuMambaTwinTest {

    @Test
    void forwardMatchesFloat64TwinOnRandomModels() {
        Random rnd = new Random(System.nanoTime());
        int[][] shapes = {{1, 1}, {1, 7}, {3, 1}, {3, 13}, {2, 29}};
        for (int trial = 0; trial < 6; trial++) {
            MambaConfig c = TestModels.randomConfig(rnd);
            MambaWeights w = TestModels.randomWeights(c, rnd);
            int[] shape = shapes[trial % shapes.length];
            int[][] tokens = TestModels.randomTokens(rnd, shape[0], shape[1], c.vocabSize());
            try (CpuMamba m = CpuMamba.create(w, new CpuOptions(1 + trial % 3))) {
                ForwardResult r = m.forward(tokens, true);
                Reference64 ref = Reference64.run(w, tokens);
                String what = c + " B=" + shape[0] + " L=" + shape[1];
                assertTrue(r.logits().hasShape(shape[0], shape[1], c.vocabSize()), what);
                double e = TestModels.relErr(r.logits().data(), Reference64.flat(ref.logits));
                assertTrue(e <= 1e-5, "logits rel err " + e + " for " + what);
                List<FloatTensor> hs = r.hiddenStates();
                assertEquals(c.nLayer() + 1, hs.size());
                for (int i = 0; i < hs.size(); i++) {
                    double eh = TestModels.relErr(hs.get(i).data(), Reference64.flat(ref.hidden.get(i)));
                    assertTrue(eh <= 1e-5, "hidden " + i + " rel err " + eh + " for " + what);
                }
                assertTrue(m.forward(tokens, false).hiddenStates().isEmpty());
            }
        }
    }

    @Test
    void lossMatchesTwinCrossEntropy() {
        Random rnd = new Random(System.nanoTime());
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        int[][] in = TestModels.randomTokens(rnd, 3, 9, c.vocabSize());
        int[][] tg = TestModels.randomTokens(rnd, 3, 9, c.vocabSize());
        tg[0][3] = -1;
        tg[2][8] = -1;
        Reference64 ref = Reference64.run(w, in);
        double sum = 0;
        int count = 0;
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < 9; t++) {
                if (tg[b][t] < 0) {
                    continue;
                }
                double[] lg = ref.logits[b][t];
                double z = 0;
                for (double v : lg) {
                    z += Math.exp(v);
                }
                sum += Math.log(z) - lg[tg[b][t]];
                count++;
            }
        }
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(2))) {
            double loss = m.loss(in, tg);
            assertEquals(sum / count, loss, 1e-5 * Math.abs(sum / count));
        }
    }
}
