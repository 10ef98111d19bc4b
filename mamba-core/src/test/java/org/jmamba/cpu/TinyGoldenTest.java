package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jmamba.contract.Compare;
import org.jmamba.contract.SequenceModelContract;
import org.jmamba.contract.TinyGolden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The tiny golden model through what only the CPU model offers: {@link CpuMamba#loss} (the loss
 * without gradients) for each checkpoint layout. Logits, hidden states, gradients, recurrent decoding
 * and the greedy continuation are checked for every backend by {@link SequenceModelContract}
 * ({@link CpuMambaContractTest}).
 */
class TinyGoldenTest {
    private static final double TOL = 1e-5;

    @ParameterizedTest(name = "{0}")
    @EnumSource(TinyGolden.Layout.class)
    void lossMatchesGolden(TinyGolden.Layout layout) {
        TinyGolden g = TinyGolden.get();
        int[][] ids = g.inputIds();
        try (CpuMamba m = CpuMamba.create(layout.weights(), new CpuOptions(2))) {
            // HF's loss: labels are the inputs shifted by one; the last position predicts nothing.
            double loss = m.loss(ids, Compare.shiftedTargets(ids));
            assertEquals(g.loss(), loss, TOL * g.loss(), layout + ": loss");
        }
    }
}
