package org.jmamba.train;

/**
 * One micro-batch: {@code inputs[b][t]} and the token each position should predict,
 * {@code targets[b][t]}, or -1 where no loss is taken (the convention of
 * {@link org.jmamba.SequenceModel#lossAndGradients}).
 */
public record Batch(int[][] inputs, int[][] targets) {

    public Batch {
        if (inputs.length == 0 || inputs.length != targets.length) {
            throw new IllegalArgumentException("a batch needs as many target rows as input rows (and at least one), got "
                    + inputs.length + " and " + targets.length);
        }
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b].length != inputs[0].length || targets[b].length != inputs[b].length) {
                throw new IllegalArgumentException("ragged batch at row " + b);
            }
        }
    }

    public int batchSize() {
        return inputs.length;
    }

    public int seqLen() {
        return inputs[0].length;
    }

    /** Number of positions that carry a loss (target not negative). */
    public long countTargets() {
        long n = 0;
        for (int[] row : targets) {
            for (int t : row) {
                if (t >= 0) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Number of input tokens. */
    public long tokens() {
        return (long) inputs.length * inputs[0].length;
    }
}
