package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.jmamba.tokenizer.BpeTokenizer;
import org.jmamba.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

class ByteTokenizerJsonTest {

    @Test
    void byteSymbolsAreGpt2sBijection() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            assertTrue(seen.add(ByteTokenizerJson.byteSymbol(b)), "symbol of byte " + b + " repeats");
        }
        assertEquals('A', ByteTokenizerJson.byteSymbol('A'));
        assertEquals('\u0120', ByteTokenizerJson.byteSymbol(' '));  // "Ġ"
        assertEquals('\u010A', ByteTokenizerJson.byteSymbol('\n')); // "Ċ"
        assertEquals('\u0100', ByteTokenizerJson.byteSymbol(0));
        assertEquals('\u0143', ByteTokenizerJson.byteSymbol(0xAD)); // the last of the 68 remapped bytes
    }

    @Test
    void theTokenizerJsonEncodesLikeTheByteTokenizer() throws Exception {
        BpeTokenizer bpe = BpeTokenizer.load(new ByteArrayInputStream(ByteTokenizerJson.bytes()), "byte tokenizer.json");
        ByteTokenizer bytes = ByteTokenizer.standard();
        assertEquals(ByteTokenizerJson.VOCAB_SIZE, bpe.vocabSize());
        assertEquals(256, bpe.eosId().getAsInt());
        String[] texts = {"In the beginning God created the heaven and the earth.\n",
                "  leading spaces, tabs\tand ünïcödé — “quotes” 😀", "", " ", "a<|endoftext|>b"};
        for (String t : texts) {
            int[] expected = bytes.encode(t);
            assertArrayEquals(expected, bpe.encode(t), t);
            assertEquals(t, bpe.decode(expected));
        }
        byte[] raw = "1:1 In".getBytes(StandardCharsets.UTF_8);
        int[] ids = bpe.encode("1:1 In");
        for (int i = 0; i < raw.length; i++) {
            assertEquals(raw[i] & 0xFF, ids[i]);
        }
    }
}
