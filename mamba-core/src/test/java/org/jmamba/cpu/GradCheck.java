package org.jmamba.cpu;

import java.util.Random;

/** Central finite differences in float64 and the comparisons the gradient tests make. */
final class GradCheck {
    /** FD step: truncation error ~h² and rounding ~1e-16/h are both far below fp32's 1e-7. */
    static final double H = 1e-5;

    private GradCheck() {
    }

    /** A scalar function of arrays that the check perturbs in place. */
    @FunctionalInterface
    interface Fn {
        double eval();
    }

    /** ∂f/∂x[i] by central differences for each i in idx; x is restored afterwards. */
    static double[] fd(double[] x, int[] idx, Fn f) {
        double[] g = new double[idx.length];
        for (int j = 0; j < idx.length; j++) {
            int i = idx[j];
            double x0 = x[i];
            x[i] = x0 + H;
            double fp = f.eval();
            x[i] = x0 - H;
            double fm = f.eval();
            x[i] = x0;
            g[j] = (fp - fm) / (2 * H);
        }
        return g;
    }

    /** All indices of an n-element array. */
    static int[] all(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    /** Up to k distinct random indices of [0, n) (all of them when n ≤ k). */
    static int[] sample(Random rnd, int n, int k) {
        if (n <= k) {
            return all(n);
        }
        int[] perm = all(n);
        for (int i = 0; i < k; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return java.util.Arrays.copyOf(perm, k);
    }

    /** ‖a[idx] − ref‖ / ‖ref‖, where {@code analytic} is the full gradient and ref holds idx's entries. */
    static double relErr(float[] analytic, int[] idx, double[] ref) {
        double num = 0;
        double den = 0;
        for (int j = 0; j < idx.length; j++) {
            double d = analytic[idx[j]] - ref[j];
            num += d * d;
            den += ref[j] * ref[j];
        }
        if (den == 0) {
            return Math.sqrt(num); // an all-zero reference: absolute error
        }
        return Math.sqrt(num / den);
    }

    /** Σ a·b. */
    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static float[] gauss(Random rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * std);
        }
        return a;
    }

    /** {@code after − before}, element by element: what a kernel that "adds" contributed. */
    static float[] added(float[] after, float[] before) {
        float[] d = new float[after.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = after[i] - before[i];
        }
        return d;
    }
}
