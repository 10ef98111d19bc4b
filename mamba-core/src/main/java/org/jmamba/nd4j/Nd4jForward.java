package org.jmamba.nd4j;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link org.jmamba.ForwardResult} as INDArrays.
 *
 * @param logits       float32 [batch, len, vocabSize]; {@code logits[b, t]} predicts token {@code t+1}
 * @param hiddenStates empty unless requested; otherwise {@code nLayer + 1} float32 arrays
 *                     [batch, len, dModel]: the residual stream after each layer, then {@code norm_f}
 *                     of the last one (the Hugging Face {@code output_hidden_states} convention,
 *                     without the embeddings); the last is the usual per-token embedding of a text
 */
public record Nd4jForward(INDArray logits, List<INDArray> hiddenStates) {
    public Nd4jForward {
        hiddenStates = List.copyOf(hiddenStates);
    }

    /** The final hidden state ({@code norm_f} output) [batch, len, dModel]. */
    public INDArray lastHiddenState() {
        if (hiddenStates.isEmpty()) {
            throw new IllegalStateException("hidden states were not requested");
        }
        return hiddenStates.get(hiddenStates.size() - 1);
    }
}
