package org.jmamba.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/** Small random Mamba weights for generation tests, scaled like the reference initialisation. */
final class RandomModels {
    private RandomModels() {
    }

    static MambaWeights weights(MambaConfig c, long seed) {
        Random rnd = new Random(seed);
        int d = c.dInner();
        int n = c.dState();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayer(); l++) {
            float[] aLog = new float[d * n];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < n; j++) {
                    aLog[i * n + j] = (float) Math.log(j + 1); // S4D-real: A = -(1..N)
                }
            }
            float[] dtBias = new float[d];
            for (int i = 0; i < d; i++) {
                double dt = Math.exp(Math.log(1e-3) + rnd.nextDouble() * (Math.log(0.1) - Math.log(1e-3)));
                dtBias[i] = (float) (dt + Math.log(-Math.expm1(-dt))); // softplus^-1(dt)
            }
            layers.add(new LayerWeights(
                    constant(1f, c.dModel()),
                    gauss(rnd, 1 / Math.sqrt(c.dModel()), 2 * d, c.dModel()),
                    c.projBias() ? gauss(rnd, 0.1, 2 * d) : null,
                    gauss(rnd, 1 / Math.sqrt(c.dConv()), d, c.dConv()),
                    c.convBias() ? gauss(rnd, 0.1, d) : null,
                    gauss(rnd, 1 / Math.sqrt(d), c.xProjOut(), d),
                    gauss(rnd, 1 / Math.sqrt(c.dtRank()), d, c.dtRank()),
                    new FloatTensor(dtBias, d),
                    new FloatTensor(aLog, d, n),
                    constant(1f, d),
                    gauss(rnd, 1 / Math.sqrt(d), c.dModel(), d),
                    c.projBias() ? gauss(rnd, 0.1, c.dModel()) : null));
        }
        return new MambaWeights(c, gauss(rnd, 1, c.vocabSize(), c.dModel()), layers, constant(1f, c.dModel()),
                c.tieEmbeddings() ? null : gauss(rnd, 1 / Math.sqrt(c.dModel()), c.vocabSize(), c.dModel()));
    }

    private static FloatTensor gauss(Random rnd, double std, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        float[] a = t.data();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextGaussian() * std);
        }
        return t;
    }

    private static FloatTensor constant(float v, int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return new FloatTensor(a, n);
    }
}
