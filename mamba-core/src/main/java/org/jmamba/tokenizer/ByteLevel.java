package org.jmamba.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible map between bytes and printable characters.
 *
 * <p>Byte-level BPE works on bytes, but its vocabulary is written as strings. The 188 bytes that
 * are printable Latin-1 ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) stand for themselves; the other
 * 68 (controls, space, DEL, NBSP, soft hyphen...) are given the characters U+0100, U+0101, ... in
 * byte order, so that space (0x20) becomes {@code Ġ} (U+0120) and newline {@code Ċ} (U+010A).
 */
final class ByteLevel {
    private ByteLevel() {
    }

    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by character, for characters below {@link #CHAR_LIMIT}; -1 where no byte maps there. */
    private static final short[] CHAR_TO_BYTE;
    private static final int CHAR_LIMIT = 0x100 + 68;

    static {
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) next++;
        }
        short[] back = new short[CHAR_LIMIT];
        java.util.Arrays.fill(back, (short) -1);
        for (int b = 0; b < 256; b++) {
            back[BYTE_TO_CHAR[b]] = (short) b;
        }
        CHAR_TO_BYTE = back;
    }

    /** The character that stands for byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte that {@code c} stands for, or -1 if it stands for none. */
    static int byteOf(char c) {
        return c < CHAR_LIMIT ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The bytes a token string contributes under the ByteLevel decoder: when every character of the
     * token stands for a byte, those bytes; otherwise (a special token such as {@code "<pad token>"})
     * the UTF-8 of the string itself. This is Hugging Face's rule.
     */
    static byte[] decodeToken(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return token.getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** The byte-level form of {@code text}: its UTF-8 bytes, each written as its character. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(chars);
    }
}
