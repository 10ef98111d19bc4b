package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CpuMamba#lossAndGradients}: every parameter's gradient of the tiny model against Hugging
 * Face's float64 ones (1e-4), finite differences of a float64 twin on random configs, bit-for-bit
 * reproducibility across runs and thread counts, and bad input.
 */
class CpuMambaGradientTest {
    private static final Logger LOG = LoggerFactory.getLogger(CpuMambaGradientTest.class);

    /** HF's convention: predict ids[t+1] at position t; the last position predicts nothing. */
    static int[][] shiftedTargets(int[][] ids) {
        int[][] t = new int[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            t[b] = new int[ids[b].length];
            for (int i = 0; i < ids[b].length; i++) {
                t[b][i] = i + 1 < ids[b].length ? ids[b][i + 1] : -1;
            }
        }
        return t;
    }

    @Test
    void tinyModelGradientsAndLossMatchGolden() throws IOException {
        MambaWeights w = Checkpoints.load(ScanGoldenTest.resource("tiny")).weights();
        double goldenLoss = new ObjectMapper().readTree(ScanGoldenTest.resource("tiny/golden.json").toFile())
                .get("loss").asDouble();
        try (SafetensorsFile f = SafetensorsFile.open(ScanGoldenTest.resource("tiny/golden.safetensors"))) {
            long[] shape = f.info("input_ids").shape();
            int B = (int) shape[0];
            int L = (int) shape[1];
            int[] flat = f.readInts("input_ids");
            int[][] ids = new int[B][];
            for (int b = 0; b < B; b++) {
                ids[b] = Arrays.copyOfRange(flat, b * L, (b + 1) * L);
            }
            int[][] targets = shiftedTargets(ids);
            MambaWeights grads = MambaWeights.zeros(w.config());
            double loss;
            try (CpuMamba m = CpuMamba.create(w, new CpuOptions(2))) {
                loss = m.lossAndGradients(ids, targets, grads);
            }
            assertEquals(goldenLoss, loss, 1e-5 * goldenLoss, "loss");
            // The twin the finite-difference tests trust reproduces Hugging Face too.
            assertEquals(goldenLoss, Twin64.modelLoss(w.config(), Twin64.params(w), ids, targets), 1e-6 * goldenLoss);
            double worst = 0;
            for (Map.Entry<String, FloatTensor> e : grads.named().entrySet()) {
                double[] ref = f.readDoubles("grad." + e.getKey());
                double err = TestModels.relErr(e.getValue().data(), ref);
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-4, "grad." + e.getKey() + " rel err " + err);
            }
            LOG.info("tiny golden: loss {} vs {}, worst gradient rel err {}", loss, goldenLoss, String.format("%.2e", worst));
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesOfFloat64TwinOnRandomConfigs() {
        Random rnd = new Random(21);
        double worst = 0;
        for (int trial = 0; trial < 4; trial++) {
            MambaConfig c = TestModels.randomConfig(rnd);
            MambaWeights w = TestModels.randomWeights(c, rnd);
            int B = 1 + rnd.nextInt(2);
            int L = 1 + rnd.nextInt(9);
            int[][] inputs = TestModels.randomTokens(rnd, B, L, c.vocabSize());
            int[][] targets = TestModels.randomTokens(rnd, B, L, c.vocabSize());
            targets[B - 1][L - 1] = -1; // ignored
            if (L > 1) {
                targets[0][0] = -1;
            } else if (B == 1) {
                targets[0][0] = 0; // keep one counted position
            }
            MambaWeights grads = MambaWeights.zeros(c);
            double loss;
            try (CpuMamba m = CpuMamba.create(w, new CpuOptions(2))) {
                loss = m.lossAndGradients(inputs, targets, grads);
            }
            Map<String, double[]> p = Twin64.params(w);
            double twinLoss = Twin64.modelLoss(c, p, inputs, targets);
            assertEquals(twinLoss, loss, 1e-5 * Math.abs(twinLoss), "loss of " + c);
            // A handful of random coordinates of every parameter.
            List<Double> analytic = new ArrayList<>();
            List<Double> numeric = new ArrayList<>();
            for (Map.Entry<String, FloatTensor> e : grads.named().entrySet()) {
                double[] x = p.get(e.getKey());
                int[] idx = GradCheck.sample(rnd, x.length, 3);
                double[] g = GradCheck.fd(x, idx, () -> Twin64.modelLoss(c, p, inputs, targets));
                for (int j = 0; j < idx.length; j++) {
                    analytic.add((double) e.getValue().data()[idx[j]]);
                    numeric.add(g[j]);
                }
            }
            double num = 0;
            double den = 0;
            for (int i = 0; i < analytic.size(); i++) {
                double d = analytic.get(i) - numeric.get(i);
                num += d * d;
                den += numeric.get(i) * numeric.get(i);
            }
            double err = Math.sqrt(num / den);
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-4, "gradient rel err " + err + " for " + c);
        }
        LOG.info("whole-model finite differences: worst rel err {}", String.format("%.2e", worst));
    }

    @Test
    void resultsRepeatBitForBitAcrossRunsAndThreadCounts() {
        Random rnd = new Random(22);
        MambaConfig c = new MambaConfig(48, 2, 300, 8, 4, 100, 3, true, true, 1e-5, true, false);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        int[][] inputs = TestModels.randomTokens(rnd, 2, 150, c.vocabSize());
        int[][] targets = shiftedTargets(inputs);
        MambaWeights first = null;
        double firstLoss = 0;
        for (int threads : new int[] {2, 1, 3, 2}) {
            MambaWeights grads = MambaWeights.zeros(c);
            double loss;
            try (CpuMamba m = CpuMamba.create(w, new CpuOptions(threads))) {
                loss = m.lossAndGradients(inputs, targets, grads);
            }
            if (first == null) {
                first = grads;
                firstLoss = loss;
                continue;
            }
            assertEquals(firstLoss, loss, 0.0, threads + " threads");
            for (Map.Entry<String, FloatTensor> e : first.named().entrySet()) {
                assertArrayEquals(e.getValue().data(), grads.named().get(e.getKey()).data(),
                        e.getKey() + " with " + threads + " threads");
            }
        }
        // Gradients accumulate: a second call adds the same amount again.
        MambaWeights twice = MambaWeights.zeros(c);
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(2))) {
            m.lossAndGradients(inputs, targets, twice);
            m.lossAndGradients(inputs, targets, twice);
        }
        for (Map.Entry<String, FloatTensor> e : first.named().entrySet()) {
            float[] once = e.getValue().data().clone();
            for (int i = 0; i < once.length; i++) {
                once[i] *= 2;
            }
            assertTrue(TestModels.relErr(twice.named().get(e.getKey()).data(), once) <= 1e-6, e.getKey());
        }
    }

    @Test
    void badInputIsRejectedAndNothingCountedLeavesGradientsAlone() {
        Random rnd = new Random(23);
        MambaConfig c = MambaConfig.of(8, 1, 20, 4, 3);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        MambaWeights g = MambaWeights.zeros(c);
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(1))) {
            assertMessage(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1}}, g), "targets[0]");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1, 2}, {1, 2}}, g), "targets");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1, 20}}, g), "targets[0][1]");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1, 20}}, new int[][] {{1, 2}}, g), "inputs[0][1]");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1, 2}, {1}}, new int[][] {{1, 2}, {1}}, g), "ragged");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1}}, new int[][] {{1}},
                    MambaWeights.zeros(MambaConfig.of(8, 2, 20, 4, 3))), "gradients");
            assertMessage(() -> m.lossAndGradients(new int[][] {{1}}, new int[][] {{1}}, w), "gradients");
            assertThrows(NullPointerException.class, () -> m.lossAndGradients(new int[][] {{1}}, new int[][] {{1}}, null));
            assertTrue(Double.isNaN(m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{-1, -1}}, g)));
            for (FloatTensor t : g.named().values()) {
                for (float v : t.data()) {
                    assertEquals(0f, v, "nothing counted: nothing added");
                }
            }
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should name " + part);
    }
}
