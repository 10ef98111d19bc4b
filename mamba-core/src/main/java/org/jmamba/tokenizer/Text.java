package org.jmamba.tokenizer;

/** Character facts the tokenizers need, defined the way Hugging Face tokenizers defines them. */
final class Text {
    private Text() {
    }

    static final char REPLACEMENT = '\uFFFD';

    /**
     * {@code s} with every unpaired surrogate replaced by U+FFFD (so that it has a UTF-8 form);
     * {@code s} itself when it is already well-formed.
     */
    static String toWellFormed(String s) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        if (i == n) {
            return s;
        }
        StringBuilder sb = new StringBuilder(n);
        sb.append(s, 0, i);
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(i + 1));
                i += 2;
            } else {
                sb.append(Character.isSurrogate(c) ? REPLACEMENT : c);
                i++;
            }
        }
        return sb.toString();
    }

    /** Whether {@code s} contains no unpaired surrogate. */
    static boolean isWellFormed(String s) {
        return toWellFormed(s) == s;
    }

    /**
     * Unicode White_Space, which is what Oniguruma's and Rust regex's {@code \s} match: U+0009..U+000D,
     * U+0085 and the separators (Zs, Zl, Zp). Narrower than {@link Character#isWhitespace}, which
     * also counts U+001C..U+001F and excludes no-break spaces.
     */
    static boolean isSpace(int cp) {
        if (cp <= 0x20) {
            return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        }
        if (cp < 0x85) {
            return false;
        }
        if (cp == 0x85) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.SPACE_SEPARATOR || t == Character.LINE_SEPARATOR
                || t == Character.PARAGRAPH_SEPARATOR;
    }

    /** Unicode general category L (Lu, Ll, Lt, Lm, Lo): {@code \p{L}}. */
    static boolean isLetter(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> true;
            default -> false;
        };
    }

    /** Unicode general category N (Nd, Nl, No): {@code \p{N}}. */
    static boolean isNumber(int cp) {
        return switch (Character.getType(cp)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> true;
            default -> false;
        };
    }

    /**
     * Rust regex's {@code \w}: Alphabetic, marks, decimal digits, connector punctuation and the
     * join controls. Used for added tokens marked {@code single_word}.
     */
    static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || cp == 0x200C || cp == 0x200D) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> false;
        };
    }
}
