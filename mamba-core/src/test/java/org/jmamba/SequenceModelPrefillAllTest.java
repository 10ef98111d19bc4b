package org.jmamba;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jmamba.cpu.CpuMamba;
import org.junit.jupiter.api.Test;

/**
 * {@link SequenceModel#prefillAll}: the default (step by step) and the model's own, chunk after
 * chunk through one state, against one parallel forward pass over the whole sequence.
 */
class SequenceModelPrefillAllTest {

    /** Everything delegated to the CPU model except prefillAll, so that the interface default runs. */
    private record DefaultOnly(SequenceModel m) implements SequenceModel {
        public MambaConfig config() { return m.config(); }
        public ForwardResult forward(int[][] t, boolean h) { return m.forward(t, h); }
        public MambaState newState(int batch) { return m.newState(batch); }
        public float[][] prefill(MambaState s, int[][] t) { return m.prefill(s, t); }
        public float[][] step(MambaState s, int[] t) { return m.step(s, t); }
        public double lossAndGradients(int[][] i, int[][] t, MambaWeights g) { return m.lossAndGradients(i, t, g); }
        public MambaWeights weights() { return m.weights(); }
        public void weightsUpdated() { m.weightsUpdated(); }
        public void close() { m.close(); }
    }

    private static MambaWeights randomWeights(MambaConfig c, Random r) {
        MambaWeights w = MambaWeights.zeros(c);
        for (var e : w.named().entrySet()) {
            float[] a = e.getValue().data();
            boolean ones = e.getKey().endsWith("norm.weight") || e.getKey().endsWith("norm_f.weight")
                    || e.getKey().endsWith(".D");
            for (int i = 0; i < a.length; i++) {
                a[i] = ones ? 1f : (float) (r.nextGaussian() * 0.3);
            }
        }
        return w;
    }

    @Test
    void chunksThroughTheStateEqualOneForwardPass() {
        Random r = new Random(21);
        MambaConfig c = new MambaConfig(10, 2, 17, 3, 4, 20, 2, false, true, 1e-5, true, true);
        try (SequenceModel cpu = CpuMamba.create(randomWeights(c, r))) {
            int B = 2;
            int L = 13;
            int[][] tokens = new int[B][L];
            for (int[] row : tokens) {
                for (int t = 0; t < L; t++) {
                    row[t] = r.nextInt(c.vocabSize());
                }
            }
            float[] ref = cpu.forward(tokens, false).logits().data();
            for (SequenceModel m : new SequenceModel[] {cpu, new DefaultOnly(cpu)}) {
                try (MambaState s = m.newState(B)) {
                    float[][][] got = new float[B][L][];
                    int[] cuts = {0, 5, 6, L};
                    for (int k = 0; k + 1 < cuts.length; k++) {
                        int[][] chunk = new int[B][];
                        for (int b = 0; b < B; b++) {
                            chunk[b] = java.util.Arrays.copyOfRange(tokens[b], cuts[k], cuts[k + 1]);
                        }
                        float[][][] part = m.prefillAll(s, chunk);
                        for (int b = 0; b < B; b++) {
                            System.arraycopy(part[b], 0, got[b], cuts[k], cuts[k + 1] - cuts[k]);
                        }
                    }
                    double num = 0;
                    double den = 0;
                    for (int b = 0; b < B; b++) {
                        for (int t = 0; t < L; t++) {
                            for (int v = 0; v < c.vocabSize(); v++) {
                                double want = ref[(b * L + t) * c.vocabSize() + v];
                                double d = got[b][t][v] - want;
                                num += d * d;
                                den += want * want;
                            }
                        }
                    }
                    double err = Math.sqrt(num / den);
                    assertTrue(err < 1e-5, m.getClass().getSimpleName() + ": relative error " + err);
                    assertEquals(L, s.position(0));
                }
            }
            try (MambaState s = cpu.newState(2)) {
                SequenceModel d = new DefaultOnly(cpu);
                assertThrows(IllegalArgumentException.class, () -> d.prefillAll(s, new int[][] {{1, 2}, {1}}));
                assertThrows(IllegalArgumentException.class, () -> d.prefillAll(s, new int[][] {{1}}));
            }
        }
    }
}
