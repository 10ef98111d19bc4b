package org.jmamba.tokenizer;

/**
 * Decodes ids one at a time, for printing generated text as it is produced.
 *
 * <p>The concatenation of every {@link #accept} result followed by {@link #finish()} equals
 * {@link Tokenizer#decode} of the same ids. A token that ends inside a multi-byte UTF-8 character
 * yields only the text before that character; the character comes out with the token that
 * completes it. Bytes that can no longer become a valid character come out as U+FFFD as soon as
 * that is known. Not thread-safe: one decoder per stream.
 */
public interface StreamingDecoder {

    /**
     * Feeds one id and returns the text it completes (possibly empty, never null).
     *
     * @throws IllegalArgumentException if {@code id} is out of range (the decoder's state is then
     *                                  unchanged)
     */
    String accept(int id);

    /**
     * Ends the stream: returns U+FFFD if bytes of an unfinished character are pending, else "".
     * The decoder is then empty again and may be reused for a new stream.
     */
    String finish();
}
