package org.jmamba;

/**
 * A Mamba language model, whatever runs it (the pure-Java CPU model, the CUDA one).
 *
 * <p>Two equivalent modes: the parallel mode processes whole sequences at once (training, prompt
 * prefill, scoring); the recurrent mode advances a {@link MambaState} one token at a time in
 * constant time and memory. Both give the same numbers.
 *
 * <p>Implementations are thread-safe: one loaded model may serve many threads at once, each with
 * its own {@link MambaState}. Methods that train ({@link #lossAndGradients}) read the parameters
 * and write only into the gradient object they are given.
 */
public interface SequenceModel extends AutoCloseable {

    MambaConfig config();

    /**
     * Parallel forward over {@code tokens[batch][len]} (all rows of one length).
     *
     * @param withHiddenStates also return the per-layer hidden states
     * @throws IllegalArgumentException on ragged rows or a token outside {@code [0, vocabSize)}
     */
    ForwardResult forward(int[][] tokens, boolean withHiddenStates);

    /** A fresh (empty-prompt) state for {@code batch} sequences. */
    MambaState newState(int batch);

    /**
     * Feeds each row's prompt through the model in parallel mode and leaves {@code state} at the
     * end of it. Rows may have different lengths (an empty row leaves that sequence as it was and
     * yields null logits).
     *
     * @param tokens {@code tokens[row]}, one prompt per sequence of the state's batch
     * @return {@code [batch][vocabSize]}: the logits after each row's last token
     */
    float[][] prefill(MambaState state, int[][] tokens);

    /**
     * Like {@link #prefill} but returns the logits after <em>every</em> token, for scoring long
     * texts chunk by chunk through the recurrent state (memory bounded by the chunk, not the text).
     * Rows must all have the same length here.
     *
     * <p>The default advances the state with {@link #step} one token at a time, which is exact but
     * slow; implementations should override it with their parallel path.
     *
     * @param tokens {@code tokens[row]}, one chunk per sequence of the state's batch, equal lengths
     * @return {@code [batch][len][vocabSize]}: {@code [b][t]} predicts the token after {@code tokens[b][t]}
     * @throws IllegalArgumentException on ragged rows or a batch that differs from the state's
     */
    default float[][][] prefillAll(MambaState state, int[][] tokens) {
        if (tokens.length != state.batch()) {
            throw new IllegalArgumentException("prefillAll: " + tokens.length + " rows for a state of batch " + state.batch());
        }
        int len = tokens.length == 0 ? 0 : tokens[0].length;
        for (int[] row : tokens) {
            if (row.length != len) {
                throw new IllegalArgumentException("prefillAll: rows must have one length, got " + row.length + " and " + len);
            }
        }
        float[][][] out = new float[tokens.length][len][];
        int[] column = new int[tokens.length];
        for (int t = 0; t < len; t++) {
            for (int b = 0; b < tokens.length; b++) {
                column[b] = tokens[b][t];
            }
            float[][] logits = step(state, column);
            for (int b = 0; b < tokens.length; b++) {
                out[b][t] = logits[b].clone(); // step may reuse its output arrays
            }
        }
        return out;
    }

    /**
     * Advances every sequence of {@code state} by one token.
     *
     * @param tokens one token per sequence of the batch
     * @return {@code [batch][vocabSize]} logits predicting the next token of each sequence
     */
    float[][] step(MambaState state, int[] tokens);

    /**
     * {@link #step(MambaState, int[])} writing the logits into {@code logits[b][0 .. vocabSize)}
     * instead of new arrays, so that a decode loop need not allocate per token. The default copies
     * from {@code step}; implementations override it to allocate nothing.
     *
     * @param logits {@code [batch][>= vocabSize]}, overwritten
     */
    default void step(MambaState state, int[] tokens, float[][] logits) {
        float[][] r = step(state, tokens);
        if (logits == null || logits.length != r.length) {
            throw new IllegalArgumentException("logits must have one row per sequence of the batch (" + r.length + ")");
        }
        for (int b = 0; b < r.length; b++) {
            System.arraycopy(r[b], 0, logits[b], 0, r[b].length);
        }
    }

    /**
     * The mean cross-entropy of {@code targets} given {@code inputs} over all positions whose target
     * is not negative, and its gradient with respect to every parameter, <em>added</em> into
     * {@code gradients} (same layout as {@link #weights()}).
     *
     * @param inputs    [batch][len] token ids
     * @param targets   [batch][len] the token each position should predict, or -1 to ignore it
     * @param gradients accumulator, e.g. {@code MambaWeights.zeros(config())}
     * @return the mean loss over the counted positions
     * @throws IllegalStateException if the model keeps no fp32 master (see {@link #weights()})
     */
    double lossAndGradients(int[][] inputs, int[][] targets, MambaWeights gradients);

    /**
     * The model's parameters (the fp32 master copy; shared, not copied).
     *
     * @throws IllegalStateException if the model was made for inference only and keeps no fp32
     *                               copy (a bf16 or int8 model from {@link Mamba#load(java.nio.file.Path, org.jmamba.cpu.CpuOptions)},
     *                               or any model it loaded with its weights off the heap)
     */
    MambaWeights weights();

    /**
     * Tells the model that {@link #weights()} changed in place (an optimiser step), so that any
     * derived copy (quantised or device weights) is refreshed before the next use.
     */
    void weightsUpdated();

    @Override
    void close();
}
