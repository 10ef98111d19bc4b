package org.jmamba.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile tokenizer files: each is refused with a message naming the file and the problem. */
class BpeTokenizerValidationTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private static TokenizerFormatException refuseText(String json, String... expected) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.load(
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "bad.json"));
        check(e, expected);
        return e;
    }

    private static void refuse(Consumer<ObjectNode> edit, String... expected) {
        ObjectNode json = TestTokenizers.goldenJson();
        edit.accept(json);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> TestTokenizers.load(json, "bad.json"));
        check(e, expected);
    }

    private static void check(TokenizerFormatException e, String... expected) {
        String m = e.getMessage();
        assertTrue(m.startsWith("bad.json: "), m);
        for (String part : expected) {
            assertTrue(m.contains(part), "message '" + m + "' should mention '" + part + "'");
        }
    }

    private static ObjectNode model(ObjectNode json) {
        return (ObjectNode) json.get("model");
    }

    private static ObjectNode vocab(ObjectNode json) {
        return (ObjectNode) json.get("model").get("vocab");
    }

    private static ArrayNode merges(ObjectNode json) {
        return (ArrayNode) json.get("model").get("merges");
    }

    private static ArrayNode added(ObjectNode json) {
        return (ArrayNode) json.get("added_tokens");
    }

    @Test
    void notJson() {
        refuseText("{\"model\": ", "not valid JSON");
        refuseText("", "expected a JSON object");
        refuseText("[1, 2]", "expected a JSON object");
        refuseText("{} trailing", "not valid JSON");
        refuseText("{\"model\": {\"vocab\": {\"a\": 0, \"a\": 1}}}", "not valid JSON", "a");
    }

    @Test
    void modelAndVocab() {
        refuse(j -> j.remove("model"), "model");
        refuse(j -> model(j).put("type", "WordPiece"), "model.type", "WordPiece", "BPE");
        refuse(j -> model(j).put("type", 3), "model.type");
        refuse(j -> model(j).remove("vocab"), "model.vocab");
        refuse(j -> model(j).set("vocab", F.arrayNode()), "model.vocab");
        refuse(j -> model(j).set("vocab", F.objectNode()), "model.vocab is empty");
        refuse(j -> vocab(j).put("Ġthe", "12"), "Ġthe", "integer");
        refuse(j -> vocab(j).put("Ġthe", 1.5), "Ġthe", "integer");
        refuse(j -> vocab(j).put("Ġthe", -4), "Ġthe", "negative");
        refuse(j -> vocab(j).put("Ġthe", 1L << 40), "Ġthe", "integer");
        refuse(j -> vocab(j).put("Ġthe", 5000), "Ġthe", "5000", "out of range");
        refuse(j -> vocab(j).put("zzzz", 7), "duplicate id 7");
        refuse(j -> vocab(j).put("", 1200), "empty");
        String golden = TestTokenizers.goldenJson().toString();
        assertTrue(golden.contains("\"vocab\":{"));
        refuseText(golden.replace("\"vocab\":{", "\"vocab\":{\"\\ud800x\":1200,"), "unpaired surrogate");
        refuse(j -> model(j).put("unk_token", "<unk>"), "unk_token");
    }

    @Test
    void byteSymbolsMustAllBePresent() {
        refuse(j -> {
            int id = vocab(j).get("Ċ").intValue(); // the symbol of '\n'
            vocab(j).remove("Ċ");
            vocab(j).put("a-new-token", id);
        }, "Ċ", "0x0A");
    }

    @Test
    void merges() {
        refuse(j -> model(j).remove("merges"), "model.merges");
        refuse(j -> merges(j).insert(3, F.arrayNode().add("Ġ").add("nope")), "model.merges[3]", "nope",
                "not in model.vocab");
        refuse(j -> merges(j).insert(0, F.arrayNode().add("x").add("q")), "model.merges[0]", "xq");
        refuse(j -> merges(j).insert(5, F.arrayNode().add("a")), "model.merges[5]");
        refuse(j -> merges(j).insert(5, 17), "model.merges[5]");
        refuse(j -> merges(j).insert(2, "a b c"), "model.merges[2]", "a b c");
        refuse(j -> merges(j).insert(2, "ab"), "model.merges[2]");
        refuse(j -> merges(j).insert(9, "Ġ zork"), "model.merges[9]", "zork");
    }

    @Test
    void addedTokens() {
        refuse(j -> j.put("added_tokens", "x"), "added_tokens");
        refuse(j -> added(j).add(F.objectNode().put("id", 1200)), "added_tokens[2].content");
        refuse(j -> added(j).add(F.objectNode().put("id", 1200).put("content", "")), "added_tokens[2].content", "empty");
        refuse(j -> added(j).add(F.objectNode().put("content", "<x>")), "added_tokens[2].id");
        refuse(j -> added(j).add(F.objectNode().put("id", 99999).put("content", "<x>")), "99999", "out of range");
        refuse(j -> added(j).add(F.objectNode().put("id", 5).put("content", "<x>")), "duplicate id 5");
        refuse(j -> ((ObjectNode) added(j).get(0)).put("id", 3), "<|endoftext|>", "id 3", "model.vocab gives it id 0");
        refuse(j -> added(j).add(F.objectNode().put("id", 1200).put("content", "<|padding|>")), "repeats");
        refuse(j -> ((ObjectNode) added(j).get(0)).put("special", "yes"), "added_tokens[0].special");
    }

    @Test
    void unsupportedPipelines() {
        refuse(j -> j.set("normalizer", F.objectNode().put("type", "Lowercase")), "normalizer", "Lowercase");
        refuse(j -> j.set("normalizer", F.objectNode().put("type", "Sequence")), "normalizer.normalizers");
        refuse(j -> j.remove("pre_tokenizer"), "pre_tokenizer", "ByteLevel");
        refuse(j -> j.set("pre_tokenizer", F.objectNode().put("type", "Whitespace")), "pre_tokenizer", "Whitespace");
        refuse(j -> ((ObjectNode) j.get("pre_tokenizer")).put("add_prefix_space", "no"), "add_prefix_space");
        refuse(j -> j.putNull("decoder"), "decoder");
        refuse(j -> j.set("decoder", F.objectNode().put("type", "WordPiece")), "decoder", "WordPiece");
        refuse(j -> j.set("post_processor", F.objectNode().put("type", "BertProcessing")), "post_processor",
                "BertProcessing");
        refuse(j -> model(j).put("dropout", 0.1), "dropout");
        refuse(j -> model(j).put("continuing_subword_prefix", "##"), "continuing_subword_prefix");
        refuse(j -> model(j).put("end_of_word_suffix", "</w>"), "end_of_word_suffix");
        refuse(j -> model(j).put("ignore_merges", 1), "ignore_merges");
    }

    @Test
    void templates() {
        refuse(j -> j.set("post_processor", F.objectNode().put("type", "TemplateProcessing")), "post_processor.single");
        refuse(j -> j.set("post_processor", template("<bos>", 0)), "<bos>", "special_tokens");
        refuse(j -> j.set("post_processor", template("<|endoftext|>", 1200)), "1200", "out of range");
    }

    private static ObjectNode template(String special, int id) {
        ObjectNode t = F.objectNode().put("type", "TemplateProcessing");
        t.putArray("single").add(F.objectNode().set("SpecialToken", F.objectNode().put("id", special)))
                .add(F.objectNode().set("Sequence", F.objectNode().put("id", "A")));
        ObjectNode st = t.putObject("special_tokens");
        st.putObject("<|endoftext|>").put("id", "<|endoftext|>").putArray("ids").add(id);
        return t;
    }

    @Test
    void acceptableVariationsLoad() throws IOException {
        ObjectNode json = TestTokenizers.goldenJson();
        model(json).remove("type");             // the type may be left implicit
        model(json).put("dropout", 0.0);        // zero dropout is no dropout
        json.putNull("normalizer");
        json.remove("added_tokens");
        json.remove("post_processor");
        merges(json).insert(0, "#version: 0.2"); // a merges.txt header line is skipped
        BpeTokenizer tok = TestTokenizers.load(json, "ok.json");
        assertEquals(1200, tok.vocabSize());
        assertTrue(tok.eosId().isEmpty(), "without added tokens, <|endoftext|> is not special");
        assertEquals("Hello world", tok.decode(tok.encode("Hello world")));
    }

    @Test
    void filesAreNamedInErrors(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"Unigram\"}}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.load(bad));
        assertTrue(e.getMessage().startsWith(bad.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> BpeTokenizer.load(dir.resolve("missing.json")));
    }
}
