package org.jmamba.contract;

/** Error measures for tests: relative L2 error in double, and a float64 cross-entropy of logits. */
public final class Compare {
    private Compare() {
    }

    /** ‖a − b‖ / ‖b‖ computed in double; lengths must agree. */
    public static double relErr(float[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " vs " + b.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double diff = a[i] - b[i];
            num += diff * diff;
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.sqrt(den);
    }

    /** ‖a − b‖ / ‖b‖ computed in double; lengths must agree. */
    public static double relErr(float[] a, float[] b) {
        return relErr(a, toDouble(b));
    }

    /**
     * ‖a − b‖ / ‖mag‖, where {@code mag} is the same computation on the absolute values of its
     * inputs: per element, Σ|terms| of the sum it is. ‖b‖ is no scale for rounding error: a single
     * output, or a few, can cancel to near zero while each order of summation still errs by up to
     * about n·2^-24·Σ|terms|; ‖mag‖ cannot cancel. A NaN in one and not the other is an infinite error;
     * ‖mag‖ = 0 gives the absolute error.
     */
    public static double errAgainst(float[] a, float[] b, float[] mag) {
        return errAgainst(a, toDouble(b), toDouble(mag));
    }

    /** {@link #errAgainst(float[], float[], float[])} against a float64 reference and its sizes. */
    public static double errAgainst(float[] a, double[] b, double[] mag) {
        if (a.length != b.length || mag.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + ", " + b.length + ", " + mag.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) != Double.isNaN(b[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = a[i] - b[i];
            num += d * d;
            den += mag[i] * mag[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** |a| element by element; null stays null (an absent bias). */
    public static float[] abs(float[] a) {
        if (a == null) {
            return null;
        }
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /**
     * The mean next-token cross-entropy in float64 of {@code logits} [B*L, V] (row {@code b*L + t})
     * over the positions whose target is not negative — the loss as the interface defines it,
     * computed independently of any model.
     */
    public static double crossEntropy(float[] logits, int[][] targets, int V) {
        double sum = 0;
        int count = 0;
        int row = 0;
        for (int[] rowTargets : targets) {
            for (int target : rowTargets) {
                int off = row++ * V;
                if (target < 0) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) {
                    max = Math.max(max, logits[off + v]);
                }
                double z = 0;
                for (int v = 0; v < V; v++) {
                    z += Math.exp(logits[off + v] - max);
                }
                sum += max + Math.log(z) - logits[off + target];
                count++;
            }
        }
        if (row * V != logits.length) {
            throw new AssertionError(row + " targets for " + logits.length / V + " rows of logits");
        }
        return sum / count;
    }

    /** Hugging Face's labels: position t predicts ids[t+1]; the last position predicts nothing (-1). */
    public static int[][] shiftedTargets(int[][] ids) {
        int[][] t = new int[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            t[b] = new int[ids[b].length];
            for (int i = 0; i < ids[b].length; i++) {
                t[b][i] = i + 1 < ids[b].length ? ids[b][i + 1] : -1;
            }
        }
        return t;
    }
}
