package org.jmamba.train;

/** Cross-entropy and argmax of one row of logits, in double (no gradient: for evaluation). */
final class CrossEntropy {
    private CrossEntropy() {
    }

    /** -log softmax(logits[off .. off+n))[target], with the max subtracted for stability. */
    static double loss(float[] logits, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return Math.log(sum) + max - logits[off + target];
    }

    /** Index of the largest logit in {@code logits[off .. off+n)} (the first one on ties). */
    static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
