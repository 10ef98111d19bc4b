package org.jmamba.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back.
 *
 * <p>Implementations are immutable and safe to share between threads; the {@link StreamingDecoder}s
 * they hand out are not (use one per stream).
 *
 * <p>Text is a Java {@code String}. A string that is not well-formed UTF-16 (an unpaired surrogate)
 * is encoded as if each unpaired surrogate were U+FFFD, the Unicode replacement character. Decoding
 * turns bytes that are not valid UTF-8 into U+FFFD, one per maximal ill-formed subsequence, exactly
 * as Rust's {@code String::from_utf8_lossy} (and so Hugging Face tokenizers) does.
 */
public interface Tokenizer {

    /** The ids of {@code text}, special tokens written in the text included. Never null. */
    int[] encode(String text);

    /**
     * The text of {@code ids}, special tokens included (as their text).
     *
     * @throws IllegalArgumentException if an id is not in {@code [0, vocabSize())}
     */
    String decode(int[] ids);

    /** Number of ids: every id in {@code [0, vocabSize())} is a token. */
    int vocabSize();

    /** The end-of-sequence token, if this tokenizer has one. */
    OptionalInt eosId();

    /**
     * The token's string as the vocabulary writes it (for byte-level BPE the byte-level form,
     * e.g. {@code "Ġworld"}; for a special token its content, e.g. {@code "<|endoftext|>"}).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    String tokenText(int id);

    /**
     * The bytes this token contributes to decoded text (a fresh copy). They need not be valid
     * UTF-8 on their own: a character may span several tokens.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    byte[] tokenBytes(int id);

    /** The id of the token whose {@link #tokenText} is {@code tokenText}, if there is one. */
    OptionalInt tokenId(String tokenText);

    /** Whether {@code id} is a special (control) token such as end-of-sequence. */
    boolean isSpecial(int id);

    /** A fresh decoder for turning a stream of ids into text piece by piece. */
    StreamingDecoder newStreamingDecoder();
}
