package org.jmamba.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.SequenceModel;
import org.jmamba.contract.Compare;
import org.jmamba.contract.TinyGolden;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The golden tiny model driven through INDArrays: golden logits and hidden states at 1e-5. */
class Nd4jModelsTest {
    private static final double TOL = 1e-5;

    @Test
    void forwardWithINDArraysMatchesGoldenLogitsAndHiddenStates() {
        TinyGolden g = TinyGolden.get();
        int[][] ids = g.inputIds();
        try (SequenceModel m = CpuMamba.create(TinyGolden.Layout.HF_SAFETENSORS.weights(), new CpuOptions(2))) {
            MambaConfig c = m.config();
            int B = ids.length;
            int L = ids[0].length;
            // Ids as int64, as a DL4J pipeline would typically hold them.
            INDArray tokens = Nd4jArrays.fromTokens(ids).castTo(DataType.LONG);
            Nd4jForward r = Nd4jModels.forward(m, tokens, true);
            assertArrayEquals(new long[] {B, L, c.vocabSize()}, r.logits().shape());
            double e = Compare.relErr(r.logits().data().asFloat(), g.logits());
            assertTrue(e <= TOL, "logits rel err " + e);
            assertEquals(c.nLayer() + 1, r.hiddenStates().size());
            for (int i = 0; i < r.hiddenStates().size(); i++) {
                INDArray h = r.hiddenStates().get(i);
                assertArrayEquals(new long[] {B, L, c.dModel()}, h.shape());
                double eh = Compare.relErr(h.data().asFloat(), g.hiddenState(i));
                assertTrue(eh <= TOL, "hidden_states." + i + " rel err " + eh);
            }
            assertEquals(r.hiddenStates().get(c.nLayer()), r.lastHiddenState());
            // Exactly the model's own numbers (one copy, no arithmetic).
            ForwardResult plain = m.forward(ids, false);
            INDArray logits = Nd4jModels.logits(m, tokens);
            assertArrayEquals(plain.logits().data(), logits.data().asFloat());
            assertThrows(IllegalStateException.class, () -> Nd4jModels.forward(m, tokens, false).lastHiddenState());
        }
    }

    @Test
    void prefillAndStepThroughINDArraysMatchTheModel() {
        TinyGolden g = TinyGolden.get();
        int[][] ids = g.inputIds();
        int B = ids.length;
        int L = ids[0].length;
        int[][] prompt = new int[B][L - 1];
        int[] last = new int[B];
        for (int b = 0; b < B; b++) {
            System.arraycopy(ids[b], 0, prompt[b], 0, L - 1);
            last[b] = ids[b][L - 1];
        }
        try (SequenceModel m = CpuMamba.create(TinyGolden.Layout.HF_SAFETENSORS.weights(), new CpuOptions(1));
             MambaState viaNd4j = m.newState(B);
             MambaState direct = m.newState(B)) {
            INDArray p = Nd4jModels.prefill(m, viaNd4j, Nd4jArrays.fromTokens(prompt));
            float[][] pd = m.prefill(direct, prompt);
            assertArrayEquals(new long[] {B, m.config().vocabSize()}, p.shape());
            for (int b = 0; b < B; b++) {
                assertArrayEquals(pd[b], p.getRow(b).dup().data().asFloat());
            }
            INDArray s = Nd4jModels.step(m, viaNd4j, Nd4j.createFromArray(last));
            float[][] sd = m.step(direct, last);
            for (int b = 0; b < B; b++) {
                assertArrayEquals(sd[b], s.getRow(b).dup().data().asFloat());
            }
            // After the whole sequence, the step's logits are the golden ones of the last position.
            double[] golden = g.logits();
            int V = m.config().vocabSize();
            for (int b = 0; b < B; b++) {
                double[] want = new double[V];
                System.arraycopy(golden, (b * L + L - 1) * V, want, 0, V);
                double e = Compare.relErr(s.getRow(b).dup().data().asFloat(), want);
                assertTrue(e <= TOL, "step logits of row " + b + " rel err " + e);
            }
            assertThrows(IllegalArgumentException.class,
                    () -> Nd4jModels.step(m, viaNd4j, Nd4j.create(DataType.INT, B, 2)));
        }
    }

    @Test
    void embeddingsAreTheModelsEmbeddingMatrix() {
        try (SequenceModel m = CpuMamba.create(TinyGolden.Layout.HF_SAFETENSORS.weights(), new CpuOptions(1))) {
            INDArray e = Nd4jModels.embeddings(m);
            assertArrayEquals(new long[] {m.config().vocabSize(), m.config().dModel()}, e.shape());
            assertArrayEquals(m.weights().embedding().data(), e.data().asFloat());
            var ex = assertThrows(IllegalArgumentException.class,
                    () -> Nd4jModels.logits(m, Nd4j.createFromArray(new int[][] {{0, m.config().vocabSize()}})));
            assertTrue(ex.getMessage().contains("tokens[0][1]"), ex.getMessage());
        }
    }
}
