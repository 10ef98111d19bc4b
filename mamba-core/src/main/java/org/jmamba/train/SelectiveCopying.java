package org.jmamba.train;

/**
 * Selective copying (Mamba paper Section 3.1 / 4.1.1, Figure 2 and Table 1), laid out like the
 * variable-spacing copying task of the S4 code base the paper's experiment derives from: the first
 * {@code length - M} positions hold {@code M} data tokens at random (sorted, distinct) places among
 * noise tokens; then come {@code M} marker tokens, and at the i-th marker the model must output the
 * i-th data token. The spacing varies per example, so a time-invariant model cannot solve it.
 *
 * <pre>
 *   tokens:  0 0 d1 0 0 0 d2 d3 0 ... 0 d16 0 0 | M M M ... M   (0 = noise, M = marker)
 *   scored:                                       d1 d2 d3 ... d16 at the marker positions
 * </pre>
 * Vocabulary: token 0 is noise, {@code vocabSize - 1} the marker, data tokens uniform over the rest
 * (the paper: vocabulary 16, 16 data tokens, length 4096).
 */
public final class SelectiveCopying implements SyntheticTask {
    private final int vocabSize;
    private final int dataTokens;

    public SelectiveCopying(int vocabSize, int dataTokens) {
        if (vocabSize < 3) {
            throw new IllegalArgumentException("selective copying needs a vocabulary of at least 3 tokens, got " + vocabSize);
        }
        if (dataTokens < 1) {
            throw new IllegalArgumentException("selective copying needs at least one data token, got " + dataTokens);
        }
        this.vocabSize = vocabSize;
        this.dataTokens = dataTokens;
    }

    /** The paper's setting: vocabulary 16 (noise, marker and 14 data tokens), 16 tokens to copy. */
    public static SelectiveCopying paper() {
        return new SelectiveCopying(16, 16);
    }

    @Override
    public String name() {
        return "selective-copying";
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    public int dataTokens() {
        return dataTokens;
    }

    public int noise() {
        return 0;
    }

    public int marker() {
        return vocabSize - 1;
    }

    @Override
    public int minLength() {
        return 2 * dataTokens;
    }

    @Override
    public Example sample(int length, Rng rng) {
        if (length < minLength()) {
            throw new IllegalArgumentException("selective copying with " + dataTokens + " tokens needs length >= "
                    + minLength() + ", got " + length);
        }
        int region = length - dataTokens;
        int[] tokens = new int[length]; // zeros: noise
        // Choose dataTokens distinct places in [0, region) in increasing order (selection sampling,
        // Knuth's Algorithm S): each place is taken with probability needed/remaining.
        int[] places = new int[dataTokens];
        int needed = dataTokens;
        for (int i = 0; i < region && needed > 0; i++) {
            if (rng.nextInt(region - i) < needed) {
                places[dataTokens - needed] = i;
                needed--;
            }
        }
        int[] answers = new int[dataTokens];
        int[] positions = new int[dataTokens];
        for (int k = 0; k < dataTokens; k++) {
            answers[k] = 1 + rng.nextInt(vocabSize - 2);
            tokens[places[k]] = answers[k];
            tokens[region + k] = marker();
            positions[k] = region + k;
        }
        return new Example(tokens, positions, answers);
    }
}
