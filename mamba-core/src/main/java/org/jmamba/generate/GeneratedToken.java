package org.jmamba.generate;

/**
 * One generated token, as streamed to a {@link TokenListener} or a {@link TokenStream}.
 *
 * <p>{@code text} is the text that becomes final with this token. Concatenating the pieces of a
 * sequence gives its full decoded continuation: a piece can be empty (a token that ends in the middle
 * of a multi-byte UTF-8 character, or text held back because it may be the start of a stop string)
 * and can carry text of earlier tokens once it is settled. The text of an end-of-sequence or stop
 * token, and a stop string, are never emitted.
 *
 * @param row     the sequence in the batch (0 for single-prompt generation)
 * @param index   0 for the first new token of this sequence, then 1, 2, ...
 * @param tokenId the token
 * @param text    the text released with this token (never null)
 * @param finish  why generation of this sequence ends here, or null if it goes on
 */
public record GeneratedToken(int row, int index, int tokenId, String text, FinishReason finish) {

    /** Whether this is the last token of its sequence. */
    public boolean isLast() {
        return finish != null;
    }
}
