package org.jmamba.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/**
 * Random configs, weights and tokens for tests of any backend, initialised like the reference
 * (S4D-real {@code A}, {@code dt} log-uniform in [1e-3, 0.1], fan-in scaled projections) so that
 * activations stay in a sane range and relative errors mean something.
 *
 * <p>Public so that other modules' tests (the CUDA backend) can use it through mamba-core's test-jar.
 */
public final class RandomMamba {
    private RandomMamba() {
    }

    /**
     * A small config with odd sizes drawn from {@code rnd}: 1 to 3 layers, {@code dInner} not a
     * multiple of {@code dModel}, optional projection and conv biases and an untied head at random.
     */
    public static MambaConfig config(Random rnd) {
        int dModel = 3 + rnd.nextInt(20);
        int dInner = dModel + 1 + rnd.nextInt(2 * dModel);
        return new MambaConfig(dModel, 1 + rnd.nextInt(3), 5 + rnd.nextInt(40), 1 + rnd.nextInt(9),
                1 + rnd.nextInt(5), dInner, 1 + rnd.nextInt(4), rnd.nextBoolean(), rnd.nextBoolean(),
                1e-5, true, rnd.nextBoolean());
    }

    /** Weights for {@code c} drawn from {@code rnd}: every tensor the config calls for, nothing else. */
    public static MambaWeights weights(MambaConfig c, Random rnd) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayer(); l++) {
            int D = c.dInner();
            int N = c.dState();
            float[] aLog = new float[D * N];
            for (int d = 0; d < D; d++) {
                for (int n = 0; n < N; n++) {
                    aLog[d * N + n] = (float) Math.log(n + 1 + 0.5 * rnd.nextDouble()); // S4D-real init, jittered
                }
            }
            float[] dtBias = new float[D];
            for (int d = 0; d < D; d++) {
                double dt = Math.exp(Math.log(1e-3) + rnd.nextDouble() * (Math.log(0.1) - Math.log(1e-3)));
                dtBias[d] = (float) (dt + Math.log(-Math.expm1(-dt))); // inverse softplus
            }
            layers.add(new LayerWeights(
                    around(1f, 0.2f, rnd, c.dModel()),
                    gauss(rnd, 1 / Math.sqrt(c.dModel()), 2 * D, c.dModel()),
                    c.projBias() ? gauss(rnd, 0.1, 2 * D) : null,
                    gauss(rnd, 1 / Math.sqrt(c.dConv()), D, c.dConv()),
                    c.convBias() ? gauss(rnd, 0.1, D) : null,
                    gauss(rnd, 1 / Math.sqrt(D), c.xProjOut(), D),
                    gauss(rnd, 1 / Math.sqrt(c.dtRank()), D, c.dtRank()),
                    new FloatTensor(dtBias, D),
                    new FloatTensor(aLog, D, N),
                    around(1f, 0.3f, rnd, D),
                    gauss(rnd, 1 / Math.sqrt(D), c.dModel(), D),
                    c.projBias() ? gauss(rnd, 0.1, c.dModel()) : null));
        }
        return new MambaWeights(c, gauss(rnd, 1, c.vocabSize(), c.dModel()), layers,
                around(1f, 0.2f, rnd, c.dModel()),
                c.tieEmbeddings() ? null : gauss(rnd, 1 / Math.sqrt(c.dModel()), c.vocabSize(), c.dModel()));
    }

    /** {@code [B][L]} token ids uniform in {@code [0, V)}. */
    public static int[][] tokens(Random rnd, int B, int L, int V) {
        int[][] t = new int[B][L];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < L; i++) {
                t[b][i] = rnd.nextInt(V);
            }
        }
        return t;
    }

    /** A tensor of the given shape, each element normal with standard deviation {@code std}. */
    public static FloatTensor gauss(Random rnd, double std, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        float[] a = t.data();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextGaussian() * std);
        }
        return t;
    }

    private static FloatTensor around(float mean, float spread, Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = mean + spread * (float) (rnd.nextDouble() * 2 - 1);
        }
        return new FloatTensor(a, n);
    }
}
