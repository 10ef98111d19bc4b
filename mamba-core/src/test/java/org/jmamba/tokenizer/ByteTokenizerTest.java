package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteTokenizerTest {

    private final ByteTokenizer tok = ByteTokenizer.standard();

    @Test
    void idsAreTheUtf8Bytes() {
        assertEquals(257, tok.vocabSize());
        assertEquals(OptionalInt.of(256), tok.eosId());
        assertArrayEquals(new int[]{0x48, 0x69, 0xC3, 0xA9}, tok.encode("Hié"));
        assertArrayEquals(new int[]{0x61, 256, 0x62}, tok.encode("a<|endoftext|>b"));
        assertEquals("a<|endoftext|>b", tok.decode(new int[]{0x61, 256, 0x62}));
        assertArrayEquals(new int[]{0xEF, 0xBF, 0xBD}, tok.encode("\uD800"), "unpaired surrogate -> U+FFFD");
        assertEquals("\uFFFD\uFFFD", tok.decode(new int[]{0xC3, 0xFF}));
    }

    @Test
    void roundTripIsExactWithoutNormalisation() {
        Random r = new Random(9);
        for (int t = 0; t < 3000; t++) {
            String s = RandomText.next(r, 20);
            int[] ids = tok.encode(s);
            assertEquals(s, tok.decode(ids));
            if (!s.contains("<|endoftext|>")) {
                assertEquals(s.getBytes(StandardCharsets.UTF_8).length, ids.length);
            }
        }
        assertEquals("e\u0301", tok.decode(tok.encode("e\u0301")), "no NFC");
    }

    @Test
    void streamingMatchesDecode() {
        Random r = new Random(10);
        for (int t = 0; t < 3000; t++) {
            int[] ids = new int[r.nextInt(12)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(4) == 0 ? r.nextInt(257) : 0x80 + r.nextInt(0x80);
            }
            StreamingDecoder sd = tok.newStreamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(sd.accept(id));
            }
            sb.append(sd.finish());
            assertEquals(tok.decode(ids), sb.toString());
        }
        StreamingDecoder sd = tok.newStreamingDecoder();
        assertEquals("", sd.accept(0xE4));
        assertEquals("", sd.accept(0xBD));
        assertEquals("你", sd.accept(0xA0));
    }

    @Test
    void tokenTextsAndIds() {
        assertEquals("<0x41>", tok.tokenText(0x41));
        assertEquals("<|endoftext|>", tok.tokenText(256));
        for (int id = 0; id < tok.vocabSize(); id++) {
            assertEquals(OptionalInt.of(id), tok.tokenId(tok.tokenText(id)));
            assertEquals(id >= 256, tok.isSpecial(id));
        }
        assertEquals(OptionalInt.empty(), tok.tokenId("<0xZZ>"));
        assertEquals(OptionalInt.empty(), tok.tokenId("<0x4a>"), "hex digits are upper case");
        assertArrayEquals(new byte[]{(byte) 0xFF}, tok.tokenBytes(0xFF));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{257}));
        assertThrows(IllegalArgumentException.class, () -> tok.tokenText(-1));
    }

    @Test
    void customSpecialTokens() {
        ByteTokenizer t = ByteTokenizer.withSpecialTokens(List.of("<pad>", "<eos>", "<eos2>"), "<eos>");
        assertEquals(259, t.vocabSize());
        assertEquals(OptionalInt.of(257), t.eosId());
        assertArrayEquals(new int[]{258, 256, 'x'}, t.encode("<eos2><pad>x"), "longest match first");
        assertEquals(List.of("<pad>", "<eos>", "<eos2>"), t.specialTokens());
        ByteTokenizer none = ByteTokenizer.withSpecialTokens(List.of(), null);
        assertEquals(256, none.vocabSize());
        assertTrue(none.eosId().isEmpty());
        assertFalse(none.isSpecial(255));
        assertArrayEquals(new int[]{'<', 'a', '>'}, none.encode("<a>"));
        assertThrows(IllegalArgumentException.class, () -> ByteTokenizer.withSpecialTokens(List.of("a", "a"), null));
        assertThrows(IllegalArgumentException.class, () -> ByteTokenizer.withSpecialTokens(List.of(""), null));
        assertThrows(IllegalArgumentException.class, () -> ByteTokenizer.withSpecialTokens(List.of("a"), "b"));
    }
}
