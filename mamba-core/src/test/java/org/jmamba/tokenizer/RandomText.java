package org.jmamba.tokenizer;

import java.util.Random;

/** Random, well-formed Unicode text mixing the kinds of characters that trouble tokenizers. */
final class RandomText {
    private RandomText() {
    }

    private static final String[] PIECES = {
            "the", "The", " cat", "don't", "it's", "'ll", "'S", "''", "'", " 42", "3.14", "-7", "x1",
            " ", "  ", "   ", "\t", "\n", "\r\n", "\u000B", "\f", "\u0085", "\u00A0", "\u2003", "\u2028", "\u3000",
            "\u001C", "\u001F", "\u200B", "\uFEFF", "\u00AD",
            "é", "e\u0301", "\u0301", "\u0308", "\u0338", ">\u0338", "A\u030A", "\u1100\u1161\u11A8", "한국어",
            "你好", "世界", "日本語", "ｶﾀｶﾅ", "١٢٣", "Ⅻ", "½", "²", "ﬁ",
            "😀", "🚀", "👍🏽", "👨\u200D👩\u200D👧", "🇫🇷", "❤\uFE0F", "𝐀", "𐍈",
            "\u0000", "\u0001", "\u007F", "\uFFFD", "\uFFFF", "\uE000", "\u0378",
            "!", "?", "...", "--", "(", ")", "{}", "[", "]", "<", ">", "|", "&", "\"", "\\", "/",
    };

    /** Up to {@code maxPieces} pieces; roughly half fixed pieces, half random code points from any plane. */
    static String next(Random r, int maxPieces) {
        int n = r.nextInt(maxPieces + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (r.nextBoolean()) {
                sb.append(PIECES[r.nextInt(PIECES.length)]);
            } else {
                sb.appendCodePoint(randomCodePoint(r));
            }
        }
        return sb.toString();
    }

    /** Any code point except surrogates: mostly BMP, some supplementary, some controls. */
    static int randomCodePoint(Random r) {
        while (true) {
            int cp = switch (r.nextInt(6)) {
                case 0 -> r.nextInt(0x80);
                case 1 -> 0x80 + r.nextInt(0x800 - 0x80);
                case 2, 3 -> r.nextInt(0x10000);
                case 4 -> 0x10000 + r.nextInt(0x10FFFF - 0x10000 + 1);
                default -> 0x1F300 + r.nextInt(0x300); // emoji blocks
            };
            if (!Character.isSurrogate((char) cp) || cp >= 0x10000) {
                return cp;
            }
        }
    }
}
