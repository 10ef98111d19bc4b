package org.jmamba.cpu;

import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.contract.Compare;
import org.jmamba.contract.RandomMamba;

/**
 * Short names for this package's tests. The random models and error measures live in the public
 * {@link RandomMamba} and {@link Compare} (shared with other backends' tests through the test-jar);
 * the same seed draws the same model through either name.
 */
final class TestModels {
    private TestModels() {
    }

    static MambaConfig randomConfig(Random rnd) {
        return RandomMamba.config(rnd);
    }

    static MambaWeights randomWeights(MambaConfig c, Random rnd) {
        return RandomMamba.weights(c, rnd);
    }

    static int[][] randomTokens(Random rnd, int B, int L, int V) {
        return RandomMamba.tokens(rnd, B, L, V);
    }

    static FloatTensor gauss(Random rnd, double std, int... shape) {
        return RandomMamba.gauss(rnd, std, shape);
    }

    static float[] gaussArray(Random rnd, double std, int n) {
        return gauss(rnd, std, n).data();
    }

    /** ‖a − b‖ / ‖b‖ in double. */
    static double relErr(float[] a, double[] b) {
        return Compare.relErr(a, b);
    }

    static double relErr(float[] a, float[] b) {
        return Compare.relErr(a, b);
    }

    static double[] toDouble(float[] a) {
        return Compare.toDouble(a);
    }
}
