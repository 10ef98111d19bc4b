package org.jmamba.train;

/**
 * One sequence of a synthetic task: its tokens and the positions whose next-token prediction is
 * scored. {@code answers[i]} is the token the model must predict at {@code answerPositions[i]}
 * (i.e. the logits at that position, which in the causal LM convention predict what comes next).
 * Positions are increasing.
 */
public record Example(int[] tokens, int[] answerPositions, int[] answers) {

    public Example {
        if (answerPositions.length == 0 || answerPositions.length != answers.length) {
            throw new IllegalArgumentException("an example needs one answer per answer position, and at least one");
        }
        for (int i = 0; i < answerPositions.length; i++) {
            int p = answerPositions[i];
            if (p < 0 || p >= tokens.length || (i > 0 && p <= answerPositions[i - 1])) {
                throw new IllegalArgumentException("answer positions must be increasing and inside the sequence");
            }
        }
    }

    /** The target row for training: -1 everywhere except the answer positions. */
    public int[] targets() {
        int[] t = new int[tokens.length];
        java.util.Arrays.fill(t, -1);
        for (int i = 0; i < answers.length; i++) {
            t[answerPositions[i]] = answers[i];
        }
        return t;
    }
}
