package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lossy UTF-8 decoding with U+FFFD per maximal ill-formed subpart (Unicode 3.9, Rust from_utf8_lossy). */
class Utf8DecoderTest {

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    private static final String R = "\uFFFD";

    @Test
    void theUnicodeStandardExamples() {
        // Unicode 15, section 3.9, tables 3-8 to 3-11.
        assertEquals("a" + R + R + R + "b" + R + "c" + R + R + "d", Utf8Decoder.decode(
                bytes(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64)));
        assertEquals(R.repeat(8) + "A", Utf8Decoder.decode(bytes(0xC0, 0xAF, 0xE0, 0x80, 0xBF, 0xF0, 0x81, 0x82, 0x41)));
        assertEquals(R.repeat(8) + "A", Utf8Decoder.decode(bytes(0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF, 0xED, 0xAF, 0x41)));
        assertEquals(R.repeat(5) + "A" + R + R + "B", Utf8Decoder.decode(
                bytes(0xF4, 0x91, 0x92, 0x93, 0xFF, 0x41, 0x80, 0xBF, 0x42)));
        assertEquals(R.repeat(4) + "A", Utf8Decoder.decode(bytes(0xE1, 0x80, 0xE2, 0xF0, 0x91, 0x92, 0xF1, 0xBF, 0x41)));
    }

    @Test
    void boundariesOfTheValidRanges() {
        assertEquals("\uD7FF", Utf8Decoder.decode(bytes(0xED, 0x9F, 0xBF)));
        assertEquals("\uE000", Utf8Decoder.decode(bytes(0xEE, 0x80, 0x80)));
        assertEquals(new String(Character.toChars(0x10FFFF)), Utf8Decoder.decode(bytes(0xF4, 0x8F, 0xBF, 0xBF)));
        assertEquals(R.repeat(4), Utf8Decoder.decode(bytes(0xF4, 0x90, 0x80, 0x80))); // above U+10FFFF
        assertEquals(new String(Character.toChars(0x10000)), Utf8Decoder.decode(bytes(0xF0, 0x90, 0x80, 0x80)));
        assertEquals(R, Utf8Decoder.decode(bytes(0xF0, 0x9F, 0x98))); // a truncated emoji is one U+FFFD
        assertEquals(R + "é", Utf8Decoder.decode(bytes(0xC3, 0xC3, 0xA9)));
        assertEquals("\u0000\u007F" + R, Utf8Decoder.decode(bytes(0x00, 0x7F, 0x80)));
        assertEquals("", Utf8Decoder.decode(bytes()));
    }

    @Test
    void validTextDecodesToItself() {
        Random r = new Random(3);
        for (int t = 0; t < 2000; t++) {
            String s = RandomText.next(r, 20);
            assertEquals(s, Utf8Decoder.decode(s.getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void agreesWithJavasDecoderExceptForEncodedSurrogates() {
        // Java's decoder follows the same practice except after ED A0..BF (an encoded surrogate),
        // where it consumes more bytes per U+FFFD; Rust and the Unicode standard replace ED alone.
        Random r = new Random(11);
        int compared = 0;
        for (int t = 0; t < 50_000; t++) {
            byte[] b = new byte[r.nextInt(10)];
            boolean hasEd = false;
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (r.nextBoolean() ? 0x80 + r.nextInt(128) : r.nextInt(256));
                hasEd |= (b[i] & 0xFF) == 0xED;
            }
            if (hasEd) {
                continue;
            }
            assertEquals(new String(b, StandardCharsets.UTF_8), Utf8Decoder.decode(b));
            compared++;
        }
        assertEquals(true, compared > 40_000);
    }

    @Test
    void feedingInPiecesGivesTheSameText() {
        Random r = new Random(5);
        for (int t = 0; t < 5000; t++) {
            byte[] b = new byte[r.nextInt(16)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (r.nextInt(3) == 0 ? r.nextInt(0x80) : 0x80 + r.nextInt(128));
            }
            Utf8Decoder d = new Utf8Decoder();
            StringBuilder sb = new StringBuilder();
            int i = 0;
            while (i < b.length) {
                int len = Math.min(b.length - i, 1 + r.nextInt(4));
                byte[] piece = new byte[len];
                System.arraycopy(b, i, piece, 0, len);
                d.write(piece, sb);
                i += len;
            }
            d.finish(sb);
            assertEquals(Utf8Decoder.decode(b), sb.toString());
        }
    }
}
