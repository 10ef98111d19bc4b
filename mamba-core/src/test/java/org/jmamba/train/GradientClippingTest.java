package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;

class GradientClippingTest {
    private static final MambaConfig CFG = MambaConfig.of(8, 2, 13, 4, 4);

    private static double norm64(MambaWeights g) {
        double s = 0;
        for (FloatTensor t : g.named().values()) {
            for (float x : t.data()) {
                s += (double) x * x;
            }
        }
        return Math.sqrt(s);
    }

    @Test
    void normIsTheGlobalL2NormAndClippingScalesToTheLimit() {
        MambaWeights g = AdamWTest.random(CFG, 9, 0.3);
        double n = norm64(g);
        assertEquals(n, GradientClipping.globalNorm(g), n * 1e-12);
        MambaWeights big = g.copy();
        double returned = GradientClipping.clip(big, n / 4);
        assertEquals(n, returned, n * 1e-12);
        assertEquals(n / 4, norm64(big), n / 4 * 1e-5);
        // direction unchanged
        float[] a = g.layer(1).inProj().data();
        float[] b = big.layer(1).inProj().data();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i] / 4, b[i], Math.abs(a[i]) * 1e-5 + 1e-12);
        }
    }

    @Test
    void belowTheLimitOrDisabledLeavesGradientsAlone() {
        MambaWeights g = AdamWTest.random(CFG, 10, 0.3);
        MambaWeights copy = g.copy();
        double n = GradientClipping.clip(g, norm64(g) * 2);
        GradientClipping.clip(g, 0);
        GradientClipping.clip(g, -1);
        assertEquals(norm64(copy), n, 1e-9);
        g.named().forEach((k, t) -> assertArrayEquals(copy.named().get(k).data(), t.data(), k));
    }
}
