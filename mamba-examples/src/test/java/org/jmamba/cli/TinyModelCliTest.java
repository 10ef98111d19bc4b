package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** info, score and generate on the golden tiny model, and the error paths of the CLI. */
class TinyModelCliTest {
    @TempDir
    static Path tmp;
    static Path model;
    static JsonNode golden;

    @BeforeAll
    static void stage() throws Exception {
        model = CliHarness.tinyModel(tmp.resolve("tiny"));
        golden = Json.MAPPER.readTree(model.resolve("golden.json").toFile());
    }

    private static String ids(JsonNode array) {
        List<String> s = new ArrayList<>();
        array.forEach(n -> s.add(n.asText()));
        return String.join(",", s);
    }

    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    /** An error run: the expected exit code, exactly one line on stderr, no stack trace, nothing on stdout. */
    private static String assertOneLineError(int code, CliHarness.Run r) {
        assertEquals(code, r.code(), r.err());
        assertEquals(1, r.errLines().size(), "one line expected:\n" + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertEquals("", r.out());
        return r.err();
    }

    @Test
    void generateTokensJsonPrintsTheGoldenGreedyContinuation() throws Exception {
        CliHarness.Run r = CliHarness.run("generate", "--model", model.toString(), "--tokens", ids(golden.get("greedy_prompt")),
                "--max-new-tokens", "50", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"tokens\":" + golden.get("greedy_output") + "}", r.out().strip());
        assertTrue(r.err().contains("tokens/s prefill") && r.err().contains("tokens/s decode"), r.err());
        assertTrue(r.err().contains("stop: eos"), r.err());
    }

    @Test
    void generateWithoutTokenizerStreamsIds() {
        CliHarness.Run r = CliHarness.run("generate", "--model", model.toString(), "--tokens", ids(golden.get("greedy_prompt")));
        assertEquals(0, r.code(), r.err());
        assertEquals("25,248,0", r.out().strip());
        CliHarness.Run limited = CliHarness.run("generate", "--model", model.toString(), "--tokens",
                ids(golden.get("greedy_prompt")), "--max-new-tokens", "2", "--json");
        assertEquals("{\"tokens\":[47,296,219,86,52,444,504,167,25,248]}", limited.out().strip());
        assertTrue(limited.err().contains("stop: max_tokens"), limited.err());
    }

    @Test
    void dtypeChangesTheLossOnlyByTheRoundingOfTheWeights() throws Exception {
        String tokens = "47,296,219,86,52,444,504,167,25,248,3,9,77";
        double f32 = json(CliHarness.run("score", "--model", model.toString(), "--tokens", tokens).out()).get("loss").asDouble();
        for (String dtype : List.of("bf16", "int8")) {
            CliHarness.Run r = CliHarness.run("score", "--model", model.toString(), "--tokens", tokens, "--dtype", dtype);
            assertEquals(0, r.code(), r.err());
            double loss = json(r.out()).get("loss").asDouble();
            // rounded weights: a different loss, but close (bf16 ~4e-3, int8 ~1e-2 logit error on this model)
            assertTrue(loss != f32 && Math.abs(loss - f32) < 0.05 * f32, dtype + ": " + loss + " vs f32 " + f32);
        }
        CliHarness.Run gen = CliHarness.run("generate", "--model", model.toString(), "--tokens", "47,296,219",
                "--max-new-tokens", "4", "--dtype", "int8", "--json");
        assertEquals(0, gen.code(), gen.err());
        String err = assertOneLineError(1, CliHarness.run("score", "--model", model.toString(), "--tokens", tokens,
                "--dtype", "fp8"));
        assertTrue(err.contains("--dtype") && err.contains("fp8"), err);
    }

    @Test
    void scoreTokensMatchesGoldenLogProbs() throws Exception {
        long[] input;
        float[] expected;
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("golden.safetensors"))) {
            input = f.readLongs("input_ids");
            expected = f.readFloats("next_token_logprobs");
        }
        int len = 37;
        StringBuilder row = new StringBuilder();
        for (int t = 0; t < len; t++) {
            row.append(t == 0 ? "" : ",").append(input[t]);
        }
        // A small --chunk so the recurrent state carries context across chunks.
        CliHarness.Run r = CliHarness.run("score", "--model", model.toString(), "--tokens", row.toString(), "--chunk", "10");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = json(r.out());
        List<String> keys = new ArrayList<>();
        doc.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("tokens", "logprobs", "loss"), keys);
        assertEquals(len, doc.get("tokens").size());
        assertEquals(len - 1, doc.get("logprobs").size());
        double num = 0;
        double den = 0;
        double mean = 0;
        for (int t = 0; t < len - 1; t++) {
            double got = doc.get("logprobs").get(t).asDouble();
            num += (got - expected[t]) * (got - expected[t]);
            den += (double) expected[t] * expected[t];
            mean -= expected[t] / (len - 1.0);
        }
        assertTrue(Math.sqrt(num / den) < 1e-5, "relative error " + Math.sqrt(num / den));
        assertEquals(mean, doc.get("loss").asDouble(), 1e-5 * mean);
    }

    @Test
    void infoReportsConfigAndParameterCount() throws Exception {
        CliHarness.Run r = CliHarness.run("info", "--model", model.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = json(r.out());
        assertEquals(98240, doc.get("parameters").asLong()); // the sum of golden.json's parameter sizes
        assertEquals(64, doc.get("config").get("d_model").asInt());
        assertEquals(2, doc.get("config").get("n_layer").asInt());
        assertEquals(512, doc.get("config").get("vocab_size").asInt());
        assertEquals(16, doc.get("config").get("d_state").asInt());
        assertEquals(4, doc.get("config").get("dt_rank").asInt());
        assertEquals("F32", doc.get("dtype").asText());
        assertEquals(0, doc.get("eos_token_id").asInt());
        assertTrue(doc.get("tokenizer").isNull());
        CliHarness.Run text = CliHarness.run("info", "--model", model.toString());
        assertEquals(0, text.code());
        assertTrue(text.out().contains("98,240"), text.out());
    }

    @Test
    void missingModelFolder() {
        String err = assertOneLineError(1, CliHarness.run("generate", "--model", tmp.resolve("nope").toString(), "--tokens", "1,2"));
        assertTrue(err.startsWith("jmamba generate: model folder ") && err.contains("does not exist"), err);
        assertOneLineError(1, CliHarness.run("info", "--model", tmp.resolve("nope").toString()));
        assertOneLineError(1, CliHarness.run("score", "--model", tmp.resolve("nope").toString(), "--tokens", "1,2"));
    }

    @Test
    void anImpossibleThreadCountIsOneLineNamingIt() {
        // Rejected before any thread starts: the count is checked where the options are made.
        String err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1,2",
                "--threads", "100000"));
        assertTrue(err.contains("threads") && err.contains("100000"), err);
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliHarness.Run r = CliHarness.run("score", "--verbose", "--model", tmp.resolve("nope").toString(), "--tokens", "1,2");
        assertEquals(1, r.code());
        assertTrue(r.errLines().size() > 2, r.err());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void checkpointWithoutTokenizer() {
        String err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--prompt", "hello"));
        assertTrue(err.contains("has no tokenizer.json") && err.contains("--tokenizer"), err);
        err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--stop", "x"));
        assertTrue(err.contains("tokenizer"), err);
    }

    @Test
    void outOfVocabularyAndMalformedIds() {
        String err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1,512"));
        assertTrue(err.contains("512") && err.contains("vocabulary"), err);
        err = assertOneLineError(1, CliHarness.run("score", "--model", model.toString(), "--tokens", "1,2,9999"));
        assertTrue(err.contains("9999"), err);
        err = assertOneLineError(1, CliHarness.run("score", "--model", model.toString(), "--tokens", "1,two"));
        assertTrue(err.contains("'two'"), err);
        err = assertOneLineError(1, CliHarness.run("score", "--model", model.toString(), "--tokens", "7"));
        assertTrue(err.contains("at least 2"), err);
        err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--stop-token", "600"));
        assertTrue(err.contains("600"), err);
    }

    @Test
    void badArgumentsAreUsageErrors() {
        String err = assertOneLineError(2, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--bogus"));
        assertTrue(err.contains("--bogus") && err.contains("--help"), err);
        err = assertOneLineError(2, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--max-new-tokens", "lots"));
        assertTrue(err.contains("lots"), err);
        err = assertOneLineError(2, CliHarness.run("score", "--tokens", "1"));
        assertTrue(err.contains("--model"), err);
        assertOneLineError(2, CliHarness.run("generate", "--model", model.toString()));
        assertOneLineError(2, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--prompt", "x"));
        assertOneLineError(2, CliHarness.run());
        assertOneLineError(2, CliHarness.run("frobnicate"));
        err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--temperature", "-1"));
        assertTrue(err.contains("--temperature"), err);
        err = assertOneLineError(1, CliHarness.run("generate", "--model", model.toString(), "--tokens", "1", "--max-new-tokens", "-3"));
        assertTrue(err.contains("--max-new-tokens"), err);
        assertOneLineError(1, CliHarness.run("score", "--model", model.toString(), "--tokens", "1,2", "--chunk", "0"));
    }

    @Test
    void generateWithoutModelUsesTheBundledModel() {
        CliHarness.Run r = CliHarness.run("generate", "--tokens", "65,110,100", "--max-new-tokens", "5", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"tokens\":[65,110,100,"), r.out());
    }

    @Test
    void brokenCheckpointsNameTheFile() throws Exception {
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        Files.writeString(broken.resolve("config.json"), "{\"d_model\": ");
        Files.copy(model.resolve("model.safetensors"), broken.resolve("model.safetensors"));
        String err = assertOneLineError(1, CliHarness.run("info", "--model", broken.toString()));
        assertTrue(err.contains("config.json"), err);

        Path noWeights = Files.createDirectories(tmp.resolve("noweights"));
        Files.copy(model.resolve("config.json"), noWeights.resolve("config.json"));
        err = assertOneLineError(1, CliHarness.run("generate", "--model", noWeights.toString(), "--tokens", "1"));
        assertTrue(err.contains("no weights"), err);

        Path noConfig = Files.createDirectories(tmp.resolve("noconfig"));
        err = assertOneLineError(1, CliHarness.run("info", "--model", noConfig.toString()));
        assertTrue(err.contains("config.json"), err);

        Path truncated = Files.createDirectories(tmp.resolve("truncated"));
        Files.copy(model.resolve("config.json"), truncated.resolve("config.json"));
        byte[] w = Files.readAllBytes(model.resolve("model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(w, w.length / 2));
        err = assertOneLineError(1, CliHarness.run("score", "--model", truncated.toString(), "--tokens", "1,2"));
        assertTrue(err.contains("model.safetensors"), err);
    }

    @Test
    void versionAndHelp() {
        CliHarness.Run v = CliHarness.run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("jmamba "), v.out());
        CliHarness.Run h = CliHarness.run("--help");
        assertEquals(0, h.code());
        for (String cmd : List.of("info", "score", "generate", "tokenize", "detokenize")) {
            assertTrue(h.out().contains(cmd), h.out());
        }
        assertEquals(0, CliHarness.run("generate", "--help").code());
    }
}
