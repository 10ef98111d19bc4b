package org.jmamba.kernels;

import java.util.Random;
import org.jmamba.contract.Compare;

/**
 * Random data and the norm-wise relative error used by the kernel tests (the error against the
 * terms' size is {@link Compare#errAgainst}).
 */
final class KernelTestSupport {
    private KernelTestSupport() {
    }

    static float[] randn(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * scale;
        }
        return a;
    }

    /** ‖a − b‖ / ‖b‖ over all elements (‖b‖ = 0 gives the absolute error). */
    static double relErr(float[] a, float[] b) {
        return Compare.errAgainst(a, b, b);
    }

    /**
     * The bound on errAgainst for two orders of the same sum in float, each term through at most n
     * roundings: each result is within γ_n·Σ|terms| of the exact sum, γ_n = n·u / (1 − n·u), u = 2^-24.
     */
    static double sumBound(int n) {
        double nu = n * 0x1p-24;
        return 2 * nu / (1 - nu);
    }

    /** Sizes that exercise tails: 1, small odd values, just below/above the vector width, larger odd values. */
    static int[] sizes(Random r, int lanes) {
        return new int[] {1, 3, lanes - 1, lanes, lanes + 1, 2 * lanes + 3, 4 * lanes + 5, 17 + r.nextInt(200)};
    }
}
