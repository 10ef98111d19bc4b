package org.jmamba.tokenizer;

/**
 * The GPT-2 pre-tokenizer: splits text into the words that BPE then works on, exactly as the regex
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * would when matched repeatedly (Oniguruma semantics: first alternative that matches wins, each
 * greedy). Every character belongs to some match, so the words cover the text.
 *
 * <p>Written as a scanner instead of a regex so that it is plainly linear: every step either
 * consumes a run of one character class or looks one character ahead. In particular
 * {@code \s+(?!\S)} ("a whitespace run, but leave its last character to the next word if a
 * non-space follows") is decided once per run, not by backtracking.
 */
final class GptPreTokenizer {
    private GptPreTokenizer() {
    }

    /** Receives the words of a text in order: {@code text.substring(start, end)}. */
    interface WordSink {
        void word(String text, int start, int end);
    }

    static final byte SPACE = 0, LETTER = 1, NUMBER = 2, OTHER = 3;

    /** Class of each BMP code point; computed once, never written afterwards. */
    private static final byte[] BMP_CLASS = new byte[0x10000];

    static {
        for (int cp = 0; cp < 0x10000; cp++) {
            BMP_CLASS[cp] = computeClass(cp);
        }
    }

    private static byte computeClass(int cp) {
        if (Text.isSpace(cp)) {
            return SPACE;
        }
        if (Text.isLetter(cp)) {
            return LETTER;
        }
        return Text.isNumber(cp) ? NUMBER : OTHER;
    }

    static byte classOf(int cp) {
        return cp < 0x10000 ? BMP_CLASS[cp] : computeClass(cp);
    }

    /** Splits {@code text[from, to)} into words. {@code text} must be well-formed UTF-16. */
    static void split(String text, int from, int to, WordSink sink) {
        int i = from;
        while (i < to) {
            int end = matchAt(text, i, to);
            sink.word(text, i, end);
            i = end;
        }
    }

    /** End of the match starting at {@code i} (which is &lt; {@code to}). */
    static int matchAt(String text, int i, int to) {
        int cp = text.codePointAt(i);
        if (cp == '\'') {
            int end = contraction(text, i, to);
            if (end > 0) {
                return end;
            }
        }
        byte cls = classOf(cp);
        int runStart = i;
        if (cp == ' ' && i + 1 < to) {
            byte next = classOf(text.codePointAt(i + 1));
            if (next != SPACE) {
                // " ?\p{L}+", " ?\p{N}+" and " ?[^\s\p{L}\p{N}]+": the space joins the run after it.
                cls = next;
                runStart = i + 1;
            }
        }
        if (cls != SPACE) {
            return runEnd(text, runStart, to, cls);
        }
        // A whitespace run. "\s+(?!\S)": all of it at the end of the text, else all but its last
        // character (which then leads the next word, e.g. " world"); "\s+": a single whitespace
        // character followed by a non-space. White space is all in the BMP: one char each.
        int end = runEnd(text, i, to, SPACE);
        if (end == to || end - i == 1) {
            return end;
        }
        return end - 1;
    }

    private static int runEnd(String text, int i, int to, byte cls) {
        while (i < to) {
            int cp = text.codePointAt(i);
            if (classOf(cp) != cls) {
                break;
            }
            i += Character.charCount(cp);
        }
        return i;
    }

    /** End of {@code 's 't 're 've 'm 'll 'd} at {@code i}, or -1. Case-sensitive, like the regex. */
    private static int contraction(String text, int i, int to) {
        if (i + 1 >= to) {
            return -1;
        }
        char a = text.charAt(i + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return i + 2;
        }
        if (i + 2 < to) {
            char b = text.charAt(i + 2);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return i + 3;
            }
        }
        return -1;
    }
}
