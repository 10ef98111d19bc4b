package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Round trips and streaming on random text, with the golden GPT-NeoX-style tokenizer. */
class BpeTokenizerPropertyTest {

    private final BpeTokenizer tok = TestTokenizers.golden();

    private static String nfc(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    @Test
    void decodeOfEncodeIsTheNfcText() {
        Random r = new Random(42);
        for (int t = 0; t < 3000; t++) {
            String s = RandomText.next(r, t < 2500 ? 12 : 200);
            assertEquals(nfc(s), tok.decode(tok.encode(s)), () -> "round trip of " + BpeTokenizerReader.quote(s));
        }
    }

    @Test
    void encodingIsDeterministicAndTheCacheChangesNothing() {
        Random r = new Random(43);
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < 300; t++) {
            texts.add(RandomText.next(r, 30));
        }
        List<int[]> first = new ArrayList<>();
        for (String s : texts) {
            first.add(tok.encode(s));
        }
        BpeTokenizer fresh = TestTokenizers.golden(); // an empty cache, words seen in another order
        for (int i = texts.size() - 1; i >= 0; i--) {
            assertArrayEquals(first.get(i), fresh.encode(texts.get(i)));
            assertArrayEquals(first.get(i), tok.encode(texts.get(i)));
        }
    }

    @Test
    void unpairedSurrogatesAreEncodedAsReplacementCharacters() {
        // Defined behaviour: each unpaired surrogate is treated as U+FFFD before anything else.
        String[] cases = {"\uD800", "a\uDC00b", "\uDFFF\uD800", "x\uD83D", "\uDE00y", "😀\uD83D😀", "\uD800\uD800\uDC00"};
        String[] expected = {"\uFFFD", "a\uFFFDb", "\uFFFD\uFFFD", "x\uFFFD", "\uFFFDy", "😀\uFFFD😀", "\uFFFD\uD800\uDC00"};
        for (int i = 0; i < cases.length; i++) {
            assertArrayEquals(tok.encode(expected[i]), tok.encode(cases[i]), "ids of case " + i);
            assertEquals(expected[i], tok.decode(tok.encode(cases[i])), "round trip of case " + i);
        }
        Random r = new Random(44);
        for (int t = 0; t < 500; t++) {
            StringBuilder sb = new StringBuilder(RandomText.next(r, 8));
            int at = r.nextInt(sb.length() + 1);
            // Insert a lone surrogate where it cannot pair up with a neighbour.
            boolean high = r.nextBoolean();
            char lone = (char) ((high ? 0xD800 : 0xDC00) + r.nextInt(0x400));
            if (at > 0 && Character.isHighSurrogate(sb.charAt(at - 1))) {
                at--;
            }
            sb.insert(at, high ? lone + "x" : "x" + lone);
            String s = sb.toString();
            String wellFormed = Text.toWellFormed(s);
            assertFalse(Text.isWellFormed(s));
            assertTrue(Text.isWellFormed(wellFormed));
            assertEquals(s.length(), wellFormed.length());
            assertEquals(nfc(wellFormed), tok.decode(tok.encode(s)));
        }
    }

    @Test
    void streamingDecodeOfEncodedTextEqualsDecode() {
        Random r = new Random(45);
        for (int t = 0; t < 1000; t++) {
            int[] ids = tok.encode(RandomText.next(r, 20));
            assertStreamingAgrees(ids);
        }
    }

    @Test
    void streamingDecodeOfRandomByteTokensEqualsDecode() {
        Random r = new Random(46);
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            byteIds[b] = tok.tokenId(String.valueOf(ByteLevel.charOf(b))).getAsInt();
        }
        for (int t = 0; t < 5000; t++) {
            int n = r.nextInt(14);
            int[] ids = new int[n];
            byte[] raw = new byte[n];
            for (int i = 0; i < n; i++) {
                int b = r.nextInt(3) == 0 ? r.nextInt(0x80) : 0x80 + r.nextInt(0x80);
                raw[i] = (byte) b;
                ids[i] = byteIds[b];
            }
            assertStreamingAgrees(ids);
            assertEquals(Utf8Decoder.decode(raw), tok.decode(ids));
        }
        // And random ids of any kind (multi-byte tokens, special tokens).
        for (int t = 0; t < 2000; t++) {
            int[] ids = new int[r.nextInt(10)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(tok.vocabSize());
            }
            assertStreamingAgrees(ids);
        }
    }

    private void assertStreamingAgrees(int[] ids) {
        String whole = tok.decode(ids);
        StreamingDecoder sd = tok.newStreamingDecoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = sd.accept(id);
            assertTrue(Text.isWellFormed(piece), "a piece never splits a surrogate pair");
            sb.append(piece);
            assertTrue(whole.startsWith(sb.toString()), "text once emitted is never taken back");
        }
        sb.append(sd.finish());
        assertEquals(whole, sb.toString());
        // finish() leaves the decoder ready for another stream.
        StringBuilder again = new StringBuilder();
        for (int id : ids) {
            again.append(sd.accept(id));
        }
        again.append(sd.finish());
        assertEquals(whole, again.toString());
    }

    @Test
    void aTokenEndingInsideACharacterYieldsNothingUntilItCompletes() {
        int[] ids = tok.encode("😀"); // four byte tokens in this small vocabulary
        byte[] utf8 = "😀".getBytes(StandardCharsets.UTF_8);
        int bytesSoFar = 0;
        StreamingDecoder sd = tok.newStreamingDecoder();
        for (int i = 0; i < ids.length; i++) {
            bytesSoFar += tok.tokenBytes(ids[i]).length;
            String piece = sd.accept(ids[i]);
            assertEquals(bytesSoFar == utf8.length ? "😀" : "", piece);
        }
        assertEquals(utf8.length, bytesSoFar);
        assertEquals("", sd.finish());
        // Cut short, the pending bytes come out as one U+FFFD at the end...
        StreamingDecoder cut = tok.newStreamingDecoder();
        assertEquals("", cut.accept(ids[0]));
        assertEquals("\uFFFD", cut.finish());
        // ... or as soon as a byte that cannot continue the character arrives.
        StreamingDecoder broken = tok.newStreamingDecoder();
        assertEquals("", broken.accept(ids[0]));
        assertEquals("\uFFFDa", broken.accept(tok.tokenId("a").getAsInt()));
    }

    @Test
    void aSpecialTokenFollowedByACombiningMarkIsNotComposedWithIt() {
        // Added tokens are split off before normalisation (as in Hugging Face), so NFC never sees
        // ">" and U+0338 together even though they compose to "≯" in plain text.
        String s = "<|endoftext|>\u0338";
        int[] ids = tok.encode(s);
        assertEquals(0, ids[0]);
        assertEquals(s, tok.decode(ids));
        assertEquals("a\u226F", tok.decode(tok.encode("a>\u0338")));
    }
}
