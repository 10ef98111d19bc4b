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
