package org.jmamba.kernels;

import java.util.Random;

/** Random data and the norm-wise relative error used by the kernel tests. */
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
        return errAgainst(a, b, b);
    }

    /**
     * ‖a − b‖ / ‖mag‖ ({@link #relErr} is mag = b). Here mag is the same computation on the absolute values of its inputs: per
     * element, Σ|terms| of the sum it is. ‖b‖ is no scale for rounding error: a single output, or a
     * few, can cancel to near zero while each order of summation still errs by up to about
     * n·2^-24·Σ|terms|; ‖mag‖ cannot cancel.
     */
    static double errAgainst(float[] a, float[] b, float[] mag) {
        if (a.length != b.length || mag.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + ", " + b.length + ", " + mag.length);
        }
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) != Float.isNaN(b[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) mag[i] * mag[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /**
     * The bound on errAgainst for two orders of the same sum in float, each term through at most n
     * roundings: each result is within γ_n·Σ|terms| of the exact sum, γ_n = n·u / (1 − n·u), u = 2^-24.
     */
    static double sumBound(int n) {
        double nu = n * 0x1p-24;
        return 2 * nu / (1 - nu);
    }

    static float[] abs(float[] a) {
        if (a == null) {
            return null;
        }
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }

    /** Sizes that exercise tails: 1, small odd values, just below/above the vector width, larger odd values. */
    static int[] sizes(Random r, int lanes) {
        return new int[] {1, 3, lanes - 1, lanes, lanes + 1, 2 * lanes + 3, 4 * lanes + 5, 17 + r.nextInt(200)};
    }
}
