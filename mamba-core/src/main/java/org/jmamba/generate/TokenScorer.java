package org.jmamba.generate;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.jmamba.MambaState;
import org.jmamba.SequenceModel;

/**
 * Log-probabilities of a token sequence under a model, for scoring and perplexity.
 *
 * <p>Long sequences are fed chunk by chunk through one recurrent state
 * ({@link SequenceModel#prefillAll}), so memory is bounded by the chunk (its logits are
 * {@code chunk x vocab} floats), not the sequence, and the result is exactly that of one pass over
 * the whole sequence: every token is conditioned on all tokens before it.
 */
public final class TokenScorer {
    /** Tokens per model call. */
    public static final int DEFAULT_CHUNK = 256;

    private final SequenceModel model;
    private final int chunk;

    public TokenScorer(SequenceModel model) {
        this(model, DEFAULT_CHUNK);
    }

    public TokenScorer(SequenceModel model, int chunk) {
        this.model = Objects.requireNonNull(model, "model");
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1 token, got " + chunk);
        }
        this.chunk = chunk;
    }

    /**
     * The outcome of scoring {@code count} next-token predictions.
     *
     * @param count        predictions scored (tokens - 1)
     * @param sumLogProb   sum of their natural-log probabilities
     * @param logProbs     each one ({@code logProbs[i] = log p(tokens[i+1] | tokens[0..i])}), or null
     *                     when not kept
     */
    public record Score(long count, double sumLogProb, double[] logProbs) {
        /** Mean negative log-likelihood per predicted token (nats), NaN when nothing was scored. */
        public double loss() {
            return count == 0 ? Double.NaN : -sumLogProb / count;
        }

        /** exp(loss). */
        public double perplexity() {
            return Math.exp(loss());
        }
    }

    /**
     * Scores every next-token prediction of {@code tokens}.
     *
     * @param keepLogProbs whether to return each log-probability (else only their sum)
     * @param progress     told how many tokens have been consumed after each chunk (may be null)
     * @throws IllegalArgumentException if a token is outside the vocabulary
     */
    public Score score(int[] tokens, boolean keepLogProbs, LongConsumer progress) {
        int vocab = model.config().vocabSize();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token " + i + " (id " + tokens[i]
                        + ") is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        int n = Math.max(0, tokens.length - 1); // predictions: inputs tokens[0..n), targets tokens[1..n]
        double[] each = keepLogProbs ? new double[n] : null;
        double sum = 0;
        try (MambaState state = model.newState(1)) {
            for (int from = 0; from < n; from += chunk) {
                int to = Math.min(n, from + chunk);
                float[][][] logits = model.prefillAll(state, new int[][] {Arrays.copyOfRange(tokens, from, to)});
                for (int t = from; t < to; t++) {
                    double lp = logSoftmaxAt(logits[0][t - from], tokens[t + 1]);
                    sum += lp;
                    if (each != null) {
                        each[t] = lp;
                    }
                }
                if (progress != null) {
                    progress.accept(to);
                }
            }
        }
        return new Score(n, sum, each);
    }

    /** log softmax(logits)[target], in double precision. */
    static double logSoftmaxAt(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return logits[target] - max - Math.log(sum);
    }
}
