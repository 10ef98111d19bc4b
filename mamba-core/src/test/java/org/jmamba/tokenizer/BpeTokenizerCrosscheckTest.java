package org.jmamba.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Differential test against Hugging Face tokenizers on variants of the golden tokenizer: added
 * tokens with every option (lstrip, rstrip, single_word, normalized, overlapping contents),
 * add_prefix_space with NFKC, use_regex off with ignore_merges, and a BOS/EOS template; hundreds of
 * hand-written and random texts each, plus decoding of ill-formed byte sequences. The expected data
 * was made by {@code src/test/scripts/make_tokenizer_crosscheck.js} with the Rust library itself.
 */
class BpeTokenizerCrosscheckTest {

    @TestFactory
    List<DynamicTest> reproducesHuggingFaceOnEveryVariant() {
        JsonNode data = TestTokenizers.readJson("/tokenizer/hf-crosscheck.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode variant : data.get("variants")) {
            String name = variant.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> checkVariant(variant)));
        }
        assertEquals(5, tests.size());
        return tests;
    }

    private static void checkVariant(JsonNode variant) throws IOException {
        ObjectNode json = TestTokenizers.goldenJson();
        for (Map.Entry<String, JsonNode> e : variant.get("set").properties()) {
            json.set(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, JsonNode> e : variant.get("model_set").properties()) {
            ((ObjectNode) json.get("model")).set(e.getKey(), e.getValue());
        }
        String name = variant.get("name").asText();
        BpeTokenizer tok = TestTokenizers.load(json, name);
        assertEquals(variant.get("vocab_size").intValue(), tok.vocabSize());

        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (JsonNode c : variant.get("cases")) {
            String text = c.get("text").asText();
            int[] expected = TestTokenizers.ints(c.get("ids"));
            int[] actual = tok.encode(text);
            if (!Arrays.equals(expected, actual)) {
                failures.add("encode " + BpeTokenizerReader.quote(text) + ": expected " + Arrays.toString(expected)
                        + " got " + Arrays.toString(actual));
            }
            String decoded = tok.decode(expected);
            if (!decoded.equals(c.get("decoded").asText())) {
                failures.add("decode " + Arrays.toString(expected) + ": got " + BpeTokenizerReader.quote(decoded));
            }
            cases++;
        }
        for (JsonNode c : variant.get("decodes")) {
            int[] ids = TestTokenizers.ints(c.get("ids"));
            String decoded = tok.decode(ids);
            if (!decoded.equals(c.get("decoded").asText())) {
                failures.add("decode " + Arrays.toString(ids) + ": got " + BpeTokenizerReader.quote(decoded));
            }
            cases++;
        }
        assertTrue(cases > 400, name + ": only " + cases + " cases");
        assertTrue(failures.isEmpty(), name + ": " + failures.size() + " of " + cases + " cases differ, e.g.\n"
                + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }
}
