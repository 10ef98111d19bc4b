package org.jmamba.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden encodings made with Hugging Face tokenizers: both the modern ({@code ["a","b"]}) and
 * the legacy ({@code "a b"}) merge encodings must reproduce every id and every decoded string.
 */
class BpeTokenizerGoldenTest {

    static Stream<Arguments> cases() {
        JsonNode encodings = TestTokenizers.readJson("/golden/tokenizer/encodings.json");
        List<Arguments> out = new ArrayList<>();
        for (String file : List.of(TestTokenizers.GOLDEN, TestTokenizers.LEGACY)) {
            for (JsonNode c : encodings) {
                out.add(Arguments.of(file, c.get("text").asText(), TestTokenizers.ints(c.get("ids")),
                        c.get("decoded").asText()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void reproducesHuggingFace(String file, String text, int[] ids, String decoded) throws IOException {
        BpeTokenizer tok = BpeTokenizer.load(TestTokenizers.resourcePath(file));
        assertArrayEquals(ids, tok.encode(text), "ids of " + text);
        assertEquals(decoded, tok.decode(ids));
        StringBuilder streamed = new StringBuilder();
        StreamingDecoder sd = tok.newStreamingDecoder();
        for (int id : ids) {
            streamed.append(sd.accept(id));
        }
        streamed.append(sd.finish());
        assertEquals(decoded, streamed.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {TestTokenizers.GOLDEN, TestTokenizers.LEGACY})
    void bothMergeEncodingsLoadTheSameModel(String file) throws IOException {
        BpeTokenizer tok = BpeTokenizer.load(TestTokenizers.resourcePath(file));
        assertEquals(1200, tok.vocabSize());
        assertEquals(942, tok.mergeCount());
        assertEquals(OptionalInt.of(0), tok.eosId());
        assertEquals("<|endoftext|>", tok.tokenText(0));
        assertEquals("<|padding|>", tok.tokenText(1));
        assertTrue(tok.isSpecial(0));
        assertTrue(tok.isSpecial(1));
        assertFalse(tok.isSpecial(2));
        assertEquals(OptionalInt.of(0), tok.tokenId("<|endoftext|>"));
        assertEquals(OptionalInt.empty(), tok.tokenId("no such token"));
        for (int id = 0; id < tok.vocabSize(); id++) {
            assertEquals(OptionalInt.of(id), tok.tokenId(tok.tokenText(id)), "id " + id);
        }
        int space = tok.tokenId("\u0120").getAsInt(); // Ġ is the byte-level symbol of ' '
        assertArrayEquals(new byte[]{' '}, tok.tokenBytes(space));
        assertEquals(" ", tok.decode(new int[]{space}));
    }

    @Test
    void loadsFromAStream() throws IOException {
        try (InputStream in = getClass().getResourceAsStream(TestTokenizers.LEGACY)) {
            BpeTokenizer tok = BpeTokenizer.load(in, "legacy stream");
            assertEquals("legacy stream", tok.source());
            assertArrayEquals(new int[]{41, 70, 358, 80, 1130, 590}, tok.encode("Hello world"));
        }
    }

    @Test
    void rejectsIdsOutOfRange() {
        BpeTokenizer tok = TestTokenizers.golden();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{5, 1200}));
        assertTrue(e.getMessage().contains("1200"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{-1}));
        assertThrows(IllegalArgumentException.class, () -> tok.tokenText(1200));
        assertThrows(IllegalArgumentException.class, () -> tok.tokenBytes(-3));
        assertThrows(IllegalArgumentException.class, () -> tok.isSpecial(99999));
        StreamingDecoder sd = tok.newStreamingDecoder();
        assertEquals("", sd.accept(tok.tokenId("\u00C3").getAsInt())); // first byte of "é"
        assertThrows(IllegalArgumentException.class, () -> sd.accept(1200));
        assertEquals("é", sd.accept(tok.tokenId("\u00A9").getAsInt())); // state kept across the bad id
    }

    @Test
    void specialTokensAreFoundAnywhereInTheText() {
        BpeTokenizer tok = TestTokenizers.golden();
        int[] ids = tok.encode("a<|endoftext|>b<|padding|><|endoftext|>");
        assertArrayEquals(new int[]{66, 0, 67, 1, 0}, ids);
        assertEquals("a<|endoftext|>b<|padding|><|endoftext|>", tok.decode(ids));
        // Not a special token: an incomplete one is ordinary text.
        int[] partial = tok.encode("<|endoftext|");
        for (int id : partial) {
            assertFalse(tok.isSpecial(id));
        }
        assertEquals("<|endoftext|", tok.decode(partial));
    }
}
