package org.jmamba.nd4j;

import java.util.ArrayList;
import java.util.List;
import org.jmamba.FloatTensor;
import org.jmamba.ForwardResult;
import org.jmamba.MambaState;
import org.jmamba.SequenceModel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs any {@link SequenceModel} with INDArray token ids in and INDArray logits, hidden states and
 * embeddings out: a thin adapter over {@link Nd4jArrays} for code that lives in the ND4J/DL4J
 * world. Token ids are [batch, len] (or [len] for one sequence), of an integer type or whole
 * numbers in a floating-point type.
 *
 * <pre>{@code
 * try (SequenceModel model = Mamba.load(dir)) {
 *     INDArray ids = Nd4j.createFromArray(new int[][] {{510, 3, 87}});
 *     INDArray logits = Nd4jModels.logits(model, ids);                       // [1, 3, vocab]
 *     INDArray emb = Nd4jModels.forward(model, ids, true).lastHiddenState();  // [1, 3, dModel]
 * }
 * }</pre>
 *
 * <p>Loaded only when called: needs {@code org.nd4j:nd4j-native} on the class path.
 */
public final class Nd4jModels {
    private Nd4jModels() {
    }

    /** The logits [batch, len, vocabSize] of a parallel forward over {@code tokens}. */
    public static INDArray logits(SequenceModel model, INDArray tokens) {
        return forward(model, tokens, false).logits();
    }

    /**
     * A parallel forward over {@code tokens}.
     *
     * @param withHiddenStates also return the per-layer hidden states
     */
    public static Nd4jForward forward(SequenceModel model, INDArray tokens, boolean withHiddenStates) {
        int[][] ids = Nd4jArrays.toTokens(tokens, model.config().vocabSize());
        ForwardResult r = model.forward(ids, withHiddenStates);
        List<INDArray> hidden = new ArrayList<>(r.hiddenStates().size());
        for (FloatTensor h : r.hiddenStates()) {
            hidden.add(Nd4jArrays.toINDArray(h));
        }
        return new Nd4jForward(Nd4jArrays.toINDArray(r.logits()), hidden);
    }

    /**
     * Feeds {@code tokens} [batch, len] (one prompt per sequence of {@code state}, all of one
     * length) and returns the logits after each row's last token, [batch, vocabSize].
     * See {@link SequenceModel#prefill}.
     */
    public static INDArray prefill(SequenceModel model, MambaState state, INDArray tokens) {
        int[][] ids = Nd4jArrays.toTokens(tokens, model.config().vocabSize());
        return Nd4jArrays.toINDArray(model.prefill(state, ids));
    }

    /**
     * Advances every sequence of {@code state} by one token: {@code tokens} holds one id per
     * sequence ([batch] or [batch, 1]). Returns the logits [batch, vocabSize].
     */
    public static INDArray step(SequenceModel model, MambaState state, INDArray tokens) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens INDArray is null");
        }
        if (tokens.rank() == 2 && tokens.size(1) != 1) {
            throw new IllegalArgumentException("step takes one token per sequence: [batch] or [batch, 1], got "
                    + java.util.Arrays.toString(tokens.shape()));
        }
        int[][] ids = Nd4jArrays.toTokens(tokens.rank() == 1 ? tokens.reshape(tokens.length(), 1) : tokens,
                model.config().vocabSize());
        int[] column = new int[ids.length];
        for (int b = 0; b < ids.length; b++) {
            column[b] = ids[b][0];
        }
        return Nd4jArrays.toINDArray(model.step(state, column));
    }

    /** A copy of the token-embedding matrix [vocabSize, dModel] (row {@code v} embeds token {@code v}). */
    public static INDArray embeddings(SequenceModel model) {
        return Nd4jArrays.toINDArray(model.weights().embedding());
    }
}
