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
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        }
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) != Float.isNaN(b[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Sizes that exercise tails: 1, small odd values, just below/above the vector width, larger odd values. */
    static int[] sizes(Random r, int lanes) {
        return new int[] {1, 3, lanes - 1, lanes, lanes + 1, 2 * lanes + 3, 4 * lanes + 5, 17 + r.nextInt(200)};
    }
}
