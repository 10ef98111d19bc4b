package org.jmamba.generate;

import java.util.Arrays;

/**
 * The outcome of generating one sequence.
 *
 * @param prompt    the prompt tokens
 * @param generated the new tokens, the stopping token (EOS or stop id) included
 * @param text      the decoded new text (empty without a tokenizer): the concatenation of the
 *                  streamed pieces, without the stop string, the EOS text or text after a stop
 * @param finish    why generation ended
 * @param seed      the RNG seed used (so that a sampled run can be repeated)
 * @param stats     timing of the call that produced this result (shared by a batch)
 */
public record GenerationResult(int[] prompt, int[] generated, String text, FinishReason finish, long seed,
                               GenerationStats stats) {

    public GenerationResult {
        prompt = prompt.clone();
        generated = generated.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public int[] generated() {
        return generated.clone();
    }

    /** Prompt followed by the generated tokens. */
    public int[] allTokens() {
        int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, all, prompt.length, generated.length);
        return all;
    }

    @Override
    public String toString() {
        return "GenerationResult[prompt=" + prompt.length + " tokens, generated=" + Arrays.toString(generated)
                + ", finish=" + finish + ", seed=" + seed + "]";
    }
}
