package org.jmamba.tokenizer;

/**
 * A token that is matched in the text as a whole before pre-tokenisation (an entry of
 * {@code added_tokens}), e.g. {@code <|endoftext|>}.
 *
 * @param id         its id
 * @param content    its text
 * @param singleWord match only where it is not inside a word
 * @param lstrip     swallow the white space before it
 * @param rstrip     swallow the white space after it
 * @param normalized matched in the normalised text (else in the raw text)
 * @param special    a control token (end of sequence, padding...) rather than ordinary text
 */
record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized, boolean special) {
}
