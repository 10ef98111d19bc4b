package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-written scanner against the GPT-2 regex itself (java.util.regex, same classes). */
class GptPreTokenizerTest {

    // \s as Oniguruma defines it (Unicode White_Space), spelled out because Java's \s differs.
    private static final String WS = "\\t\\n\\x0B\\f\\r\\x{85}\\p{Zs}\\p{Zl}\\p{Zp}";
    private static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + WS + "\\p{L}\\p{N}]+|[" + WS + "]+(?![^" + WS + "])|[" + WS + "]+");

    private static List<String> byRegex(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = GPT2.matcher(s);
        int end = 0;
        while (m.find()) {
            assertEquals(end, m.start(), "the regex leaves no gaps in " + BpeTokenizerReader.quote(s));
            out.add(m.group());
            end = m.end();
        }
        assertEquals(s.length(), end);
        return out;
    }

    private static List<String> byScanner(String s) {
        List<String> out = new ArrayList<>();
        GptPreTokenizer.split(s, 0, s.length(), (text, start, end) -> out.add(text.substring(start, end)));
        return out;
    }

    @Test
    void handPickedCases() {
        assertEquals(List.of("Hello", " world"), byScanner("Hello world"));
        assertEquals(List.of(" ", " leading", "  ", " runs"), byScanner("  leading   runs"));
        assertEquals(List.of("don", "'t", " it", "'s", " I", "'m", " '", "ll"), byScanner("don't it's I'm 'll"));
        assertEquals(List.of("?'", "s"), byScanner("?'s"));
        assertEquals(List.of("'", "S"), byScanner("'S")); // contractions are case-sensitive
        // "\s+(?!\S)" leaves the last white space before a word to "\s+" when it is not a space.
        assertEquals(List.of("\t", "\t", "a"), byScanner("\t\ta"));
        assertEquals(List.of("\t", "a"), byScanner("\ta"));
        assertEquals(List.of(" \t", "\t", "a"), byScanner(" \t\ta"));
        assertEquals(List.of("end", "   "), byScanner("end   "));
        assertEquals(List.of("x", "\n\n", " y"), byScanner("x\n\n y"));
        assertEquals(List.of("123", " 456", ".", "7"), byScanner("123 456.7"));
        assertEquals(List.of("a", "\u00A0", "b"), byScanner("a\u00A0b")); // NBSP is \s but not ' '
        assertEquals(List.of("a", "\u001F", "b"), byScanner("a\u001Fb")); // U+001F is not \s for Oniguruma
        assertEquals(byRegex("\t\ta"), byScanner("\t\ta"));
    }

    @Test
    void agreesWithTheRegexOnRandomText() {
        Random r = new Random(20240611);
        String[] alphabet = {" ", " ", "  ", "\t", "\n", "\u00A0", "\u3000", "\u001C", "'", "'s", "'ll", "'re", "'D",
                "a", "Z", "é", "你", "𝐀", "1", "٣", "½", "Ⅻ", "!", ".", "-", "😀", "\u0301", "\u0000", "\u00AD"};
        for (int t = 0; t < 20_000; t++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(16);
            for (int i = 0; i < n; i++) {
                if (r.nextInt(5) == 0) {
                    sb.appendCodePoint(RandomText.randomCodePoint(r));
                } else {
                    sb.append(alphabet[r.nextInt(alphabet.length)]);
                }
            }
            String s = sb.toString();
            assertEquals(byRegex(s), byScanner(s), () -> "split of " + BpeTokenizerReader.quote(s));
        }
    }

    @Test
    void splitsOnlyTheGivenRange() {
        List<String> out = new ArrayList<>();
        GptPreTokenizer.split("xx  ab cdyy", 2, 9, (text, start, end) -> out.add(text.substring(start, end)));
        assertEquals(List.of(" ", " ab", " cd"), out); // the lookahead stops at the range's end
    }
}
