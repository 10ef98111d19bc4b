package org.jmamba.train;

import java.util.Arrays;

/**
 * A tokenised text held in memory, sampled as random windows: a window of {@code seqLen + 1}
 * tokens starting at a uniform random offset gives the inputs (its first {@code seqLen} tokens) and
 * the targets (its last {@code seqLen}), the usual next-token language-model setup. The windows
 * depend only on the generator, so resumed training sees the same windows.
 */
public final class TokenCorpus {
    private final int[] tokens;
    private final int vocabSize;

    /**
     * @param tokens    token ids, each in {@code [0, vocabSize)} (not copied)
     * @param vocabSize the model's vocabulary
     */
    public TokenCorpus(int[] tokens, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException("token " + tokens[i] + " at position " + i
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        this.tokens = tokens;
        this.vocabSize = vocabSize;
    }

    public int size() {
        return tokens.length;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** The first {@code n} tokens (copied). */
    public TokenCorpus head(int n) {
        return new TokenCorpus(Arrays.copyOfRange(tokens, 0, n), vocabSize);
    }

    /** Tokens from {@code n} on (copied). */
    public TokenCorpus tail(int n) {
        return new TokenCorpus(Arrays.copyOfRange(tokens, n, tokens.length), vocabSize);
    }

    /**
     * Splits off the last {@code fraction} of the text as validation data: {@code [train, val]}.
     * A contiguous split, so no validation window overlaps a training one.
     */
    public TokenCorpus[] split(double fraction) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + fraction);
        }
        int cut = (int) Math.round(tokens.length * (1 - fraction));
        return new TokenCorpus[] {head(cut), tail(cut)};
    }

    /** Batches of random windows. */
    public BatchSource windows(int batchSize, int seqLen) {
        if (batchSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch size and sequence length must be positive, got "
                    + batchSize + " and " + seqLen);
        }
        if (tokens.length < seqLen + 1) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one window of "
                    + (seqLen + 1));
        }
        return new BatchSource() {
            @Override
            public Batch next(Rng rng) {
                int[][] in = new int[batchSize][];
                int[][] tg = new int[batchSize][];
                for (int b = 0; b < batchSize; b++) {
                    int start = rng.nextInt(tokens.length - seqLen);
                    in[b] = Arrays.copyOfRange(tokens, start, start + seqLen);
                    tg[b] = Arrays.copyOfRange(tokens, start + 1, start + seqLen + 1);
                }
                return new Batch(in, tg);
            }

            @Override
            public int vocabSize() {
                return vocabSize;
            }

            @Override
            public int batchSize() {
                return batchSize;
            }

            @Override
            public int seqLen() {
                return seqLen;
            }
        };
    }
}
