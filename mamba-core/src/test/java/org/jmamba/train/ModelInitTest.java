package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;

class ModelInitTest {
    // d_model 64, 4 layers, padded vocab 256, N 16, K 4: dInner 128, dtRank 4
    private static final MambaConfig CFG = MambaConfig.of(64, 4, 256, 16, 4);

    private static double maxAbs(FloatTensor t) {
        double m = 0;
        for (float x : t.data()) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double std(FloatTensor t) {
        double s = 0;
        double s2 = 0;
        for (float x : t.data()) {
            s += x;
            s2 += (double) x * x;
        }
        double n = t.size();
        return Math.sqrt(s2 / n - (s / n) * (s / n));
    }

    @Test
    void deterministicGivenTheSeed() {
        MambaWeights a = ModelInit.initialize(CFG, 123);
        MambaWeights b = ModelInit.initialize(CFG, 123);
        MambaWeights c = ModelInit.initialize(CFG, 124);
        a.named().forEach((k, t) -> assertArrayEquals(t.data(), b.named().get(k).data(), k));
        assertFalse(Arrays.equals(a.layer(0).inProj().data(), c.layer(0).inProj().data()));
    }

    @Test
    void followsTheReferenceInitialisation() {
        MambaWeights w = ModelInit.initialize(CFG, 7);
        assertEquals(0.02, std(w.embedding()), 0.0015);
        assertTrue(allEqual(w.normF(), 1f));
        assertNull(w.untiedHead());
        int dInner = CFG.dInner();
        for (LayerWeights l : w.layers()) {
            assertTrue(allEqual(l.norm(), 1f));
            assertTrue(allEqual(l.d(), 1f));
            for (int d = 0; d < dInner; d++) {
                for (int n = 0; n < CFG.dState(); n++) {
                    assertEquals((float) Math.log(n + 1), l.aLog().data()[d * CFG.dState() + n]);
                }
            }
            // kaiming-uniform bounds 1/sqrt(fan_in); a uniform's std is bound/sqrt(3)
            checkUniform(l.inProj(), 1 / Math.sqrt(CFG.dModel()));
            checkUniform(l.xProj(), 1 / Math.sqrt(dInner));
            checkUniform(l.convWeight(), 1 / Math.sqrt(CFG.dConv()));
            assertTrue(maxAbs(l.convBias()) <= 1 / Math.sqrt(CFG.dConv()));
            checkUniform(l.dtProj(), 1 / Math.sqrt(CFG.dtRank()));
            checkUniform(l.outProj(), 1 / Math.sqrt(dInner) / Math.sqrt(CFG.nLayer()));
            // softplus(dt bias) is the initial Δ: inside [dt_min, dt_max], log-uniform
            double logSum = 0;
            for (float b : l.dtBias().data()) {
                double dt = Math.log1p(Math.exp(b));
                assertTrue(dt >= 0.001 * (1 - 1e-5) && dt <= 0.1 * (1 + 1e-5), "dt " + dt);
                logSum += Math.log(dt);
            }
            double meanLog = logSum / dInner;
            assertEquals((Math.log(0.001) + Math.log(0.1)) / 2, meanLog, 0.35);
        }
    }

    @Test
    void untiedHeadAndBiasesFollowTheConfig() {
        MambaConfig c = new MambaConfig(32, 2, 50, 8, 4, 64, 2, true, false, 1e-5, true, false);
        MambaWeights w = ModelInit.initialize(c, 1);
        checkUniform(w.untiedHead(), 1 / Math.sqrt(32));
        assertTrue(allEqual(w.layer(0).inProjBias(), 0f));
        assertTrue(allEqual(w.layer(1).outProjBias(), 0f));
        assertNull(w.layer(0).convBias());
        MambaWeights noRescale = ModelInit.initialize(c, new InitOptions(0.001, 0.1, 1e-4, 1.0, 0.02, false), 1);
        assertTrue(maxAbs(noRescale.layer(0).outProj()) > 1 / Math.sqrt(64) / Math.sqrt(2));
    }

    @Test
    void inverseSoftplusInvertsSoftplus() {
        for (double y : new double[] {1e-4, 1e-3, 0.05, 0.1, 1, 5}) {
            double x = ModelInit.inverseSoftplus(y);
            assertEquals(y, Math.log1p(Math.exp(x)), y * 1e-12);
        }
    }

    private static void checkUniform(FloatTensor t, double bound) {
        assertTrue(maxAbs(t) <= bound, t + " exceeds " + bound);
        if (t.size() >= 500) {
            assertEquals(bound / Math.sqrt(3), std(t), bound / Math.sqrt(3) * 0.1, "std of " + t);
        }
    }

    private static boolean allEqual(FloatTensor t, float v) {
        for (float x : t.data()) {
            if (x != v) {
                return false;
            }
        }
        return true;
    }
}
