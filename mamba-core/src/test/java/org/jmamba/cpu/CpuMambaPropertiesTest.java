package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;

/**
 * How the CPU model words its rejections: each message names the offending argument and element.
 * That bad input is rejected at all, and before anything changes, is part of
 * {@link org.jmamba.contract.SequenceModelContract} (with the modes agreeing, states, threads).
 */
class CpuMambaPropertiesTest {
    private final Random rnd = new Random(System.nanoTime());

    @Test
    void badInputIsRejectedWithTheArgumentNamed() {
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        int V = c.vocabSize();
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(1)); CpuMamba other = CpuMamba.create(w, new CpuOptions(1))) {
            assertMessage(() -> m.forward(new int[][] {{1, 2}, {1}}, false), "ragged");
            assertMessage(() -> m.forward(new int[][] {{1, V}}, false), "tokens[0][1]");
            assertMessage(() -> m.forward(new int[][] {{-1}}, false), "tokens[0][0]");
            assertMessage(() -> m.forward(new int[0][], false), "tokens");
            assertMessage(() -> m.forward(new int[][] {{}}, false), "tokens[0]");
            MambaState s = m.newState(2);
            assertMessage(() -> m.step(s, new int[] {1}), "batch");
            assertMessage(() -> m.step(s, new int[] {1, V}), "tokens[1]");
            assertMessage(() -> m.prefill(s, new int[][] {{1}}), "batch");
            assertMessage(() -> m.prefill(s, new int[][] {{1}, {V + 3}}), "tokens[1][0]");
            assertMessage(() -> m.prefillAll(s, new int[][] {{1, 2}, {1}}), "ragged");
            assertMessage(() -> m.prefillAll(s, new int[][] {{1, 2}}), "batch");
            assertMessage(() -> m.prefillAll(s, new int[][] {{1, 2}, {1, -4}}), "tokens[1][1]");
            assertEquals(0, m.prefillAll(s, new int[][] {{}, {}})[1].length);
            assertMessage(() -> other.step(s, new int[] {1, 1}), "state");
            assertMessage(() -> m.newState(0), "batch");
            assertMessage(() -> m.loss(new int[][] {{1, 2}}, new int[][] {{1}}), "targets");
            assertMessage(() -> m.loss(new int[][] {{1, 2}}, new int[][] {{1, V}}), "targets[0][1]");
            assertEquals(0, s.position(0), "rejected calls leave the state untouched");
            s.close();
            assertMessage(() -> m.lossAndGradients(new int[][] {{1}}, new int[][] {{1}},
                    MambaWeights.zeros(MambaConfig.of(c.dModel() + 1, 1, V, 2, 2))), "gradients");
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should name " + part);
    }
}
