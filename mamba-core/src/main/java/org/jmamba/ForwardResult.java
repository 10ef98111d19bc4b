package org.jmamba;

import java.util.List;

/**
 * The output of a parallel forward pass over {@code batch x len} tokens.
 *
 * @param logits       [batch, len, vocabSize]; {@code logits[b, t]} predicts token {@code t+1}
 * @param hiddenStates empty unless requested; otherwise {@code nLayer + 1} tensors of
 *                     [batch, len, dModel]: entry {@code i < nLayer} is the residual stream after
 *                     layer {@code i}, the last is {@code norm_f} of the final residual (the Hugging
 *                     Face {@code output_hidden_states} convention, without the embeddings)
 */
public record ForwardResult(FloatTensor logits, List<FloatTensor> hiddenStates) {
    public ForwardResult {
        hiddenStates = List.copyOf(hiddenStates);
    }
}
