package org.jmamba.tokenizer;

/**
 * Incremental, lossy UTF-8 decoding: bytes in, characters out.
 *
 * <p>Ill-formed input becomes U+FFFD, one per "maximal subpart of an ill-formed subsequence"
 * (Unicode 3.9, "U+FFFD Substitution of Maximal Subparts"): a byte that cannot start a character is
 * one U+FFFD; a valid prefix of a character cut short by a byte that cannot continue it is one
 * U+FFFD, and that byte is then read afresh. This is what Rust's {@code String::from_utf8_lossy}
 * does, which Hugging Face tokenizers use for byte-level decoding. Because the decision for each
 * byte only depends on the bytes before it, feeding bytes in pieces gives the same text as feeding
 * them at once; that is what makes streaming decode agree with decode.
 */
final class Utf8Decoder {
    private static final char REPLACEMENT = '\uFFFD';

    private int pending;  // bytes read of the current multi-byte character (0 = none)
    private int needed;   // its total length in bytes
    private int codePoint;
    private int lower = 0x80, upper = 0xBF; // allowed range of the next continuation byte

    /** Decodes {@code bytes} into {@code out}; an unfinished character stays pending. */
    void write(byte[] bytes, StringBuilder out) {
        for (byte b : bytes) {
            write(b & 0xFF, out);
        }
    }

    void write(int x, StringBuilder out) {
        if (pending > 0) {
            if (x >= lower && x <= upper) {
                codePoint = (codePoint << 6) | (x & 0x3F);
                lower = 0x80;
                upper = 0xBF;
                if (++pending == needed) {
                    out.appendCodePoint(codePoint);
                    pending = 0;
                }
                return;
            }
            // The character is cut short: its valid prefix is one U+FFFD, x starts afresh.
            out.append(REPLACEMENT);
            pending = 0;
        }
        if (x < 0x80) {
            out.append((char) x);
        } else if (x >= 0xC2 && x <= 0xDF) {
            start(2, x & 0x1F, 0x80, 0xBF);
        } else if (x >= 0xE0 && x <= 0xEF) {
            // E0 must not start an overlong form; ED must not encode a surrogate.
            start(3, x & 0x0F, x == 0xE0 ? 0xA0 : 0x80, x == 0xED ? 0x9F : 0xBF);
        } else if (x >= 0xF0 && x <= 0xF4) {
            // F0 must not start an overlong form; F4 must stay at or below U+10FFFF.
            start(4, x & 0x07, x == 0xF0 ? 0x90 : 0x80, x == 0xF4 ? 0x8F : 0xBF);
        } else {
            out.append(REPLACEMENT); // 80..C1 and F5..FF never start a character
        }
    }

    private void start(int length, int bits, int lo, int hi) {
        pending = 1;
        needed = length;
        codePoint = bits;
        lower = lo;
        upper = hi;
    }

    /** Ends the input: a pending unfinished character becomes one U+FFFD. */
    void finish(StringBuilder out) {
        if (pending > 0) {
            out.append(REPLACEMENT);
            pending = 0;
        }
        lower = 0x80;
        upper = 0xBF;
    }

    /** Lossy decoding of a whole byte sequence. */
    static String decode(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        Utf8Decoder d = new Utf8Decoder();
        d.write(bytes, out);
        d.finish(out);
        return out.toString();
    }
}
