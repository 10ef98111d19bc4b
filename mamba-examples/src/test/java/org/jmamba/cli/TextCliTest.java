package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jmamba.MambaConfig;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.TokenIds;
import org.jmamba.train.ModelInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * tokenize / detokenize against the golden tokenizer encodings, and text generation and perplexity on
 * a small random model whose vocabulary matches that tokenizer (1200 tokens, EOS 0).
 */
class TextCliTest {
    @TempDir
    static Path tmp;
    static Path tokenizer;
    static JsonNode encodings;
    static Path model;

    @BeforeAll
    static void stage() throws Exception {
        tokenizer = CliHarness.tokenizer(tmp.resolve("tok"));
        encodings = Json.MAPPER.readTree(tmp.resolve("tok/encodings.json").toFile());
        model = Files.createDirectories(tmp.resolve("model"));
        MambaConfig c = MambaConfig.of(24, 2, 1200, 8, 4);
        Checkpoints.save(model, ModelInit.initialize(c, 7), TokenIds.of(0, 0, 0));
        Files.copy(tokenizer, model.resolve("tokenizer.json"));
    }

    private static String idsOf(JsonNode array) {
        List<String> s = new ArrayList<>();
        array.forEach(n -> s.add(n.asText()));
        return String.join(",", s);
    }

    @Test
    void tokenizeMatchesTheGoldenEncodings() throws Exception {
        for (JsonNode e : encodings) {
            CliHarness.Run r = CliHarness.run("tokenize", "--tokenizer", tokenizer.toString(), "--text", e.get("text").asText());
            assertEquals(0, r.code(), r.err());
            assertEquals("{\"ids\":" + e.get("ids") + "}", r.out().strip(), e.get("text").asText());
        }
    }

    @Test
    void tokenizeTextFileIsTakenByteForByte() throws Exception {
        for (JsonNode e : encodings) {
            Path f = tmp.resolve("in.txt");
            Files.write(f, e.get("text").asText().getBytes(StandardCharsets.UTF_8)); // CR LF, tabs, no final newline
            CliHarness.Run r = CliHarness.run("tokenize", "--model", model.toString(), "--text-file", f.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals("{\"ids\":" + e.get("ids") + "}", r.out().strip());
        }
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', 'b', (byte) 0xC3, 'c'});
        CliHarness.Run r = CliHarness.run("tokenize", "--tokenizer", tokenizer.toString(), "--text-file", bad.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("not valid UTF-8") && r.err().contains("offset 2"), r.err());
    }

    @Test
    void detokenizeInvertsTheGoldenEncodings() throws Exception {
        for (JsonNode e : encodings) {
            String ids = idsOf(e.get("ids"));
            CliHarness.Run plain = CliHarness.run("detokenize", "--tokenizer", tokenizer.toString(), "--ids", ids);
            assertEquals(0, plain.code(), plain.err());
            assertEquals(e.get("decoded").asText() + System.lineSeparator(), plain.out());
            CliHarness.Run raw = CliHarness.run("detokenize", "--tokenizer", tokenizer.toString(), "--ids", ids, "-n");
            assertEquals(e.get("decoded").asText(), raw.out());
            CliHarness.Run json = CliHarness.run("detokenize", "--tokenizer", tokenizer.toString(), "--ids", ids, "--json");
            assertEquals(e.get("decoded").asText(), Json.MAPPER.readTree(json.out()).get("text").asText());
        }
        CliHarness.Run oov = CliHarness.run("detokenize", "--tokenizer", tokenizer.toString(), "--ids", "5,1200");
        assertEquals(1, oov.code());
        assertEquals(1, oov.errLines().size(), oov.err());
        assertTrue(oov.err().contains("1200") && oov.err().contains("vocabulary"), oov.err());
        CliHarness.Run missing = CliHarness.run("detokenize", "--tokenizer", tmp.resolve("none.json").toString(), "--ids", "1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("none.json"), missing.err());
        Path garbage = tmp.resolve("garbage.json");
        Files.writeString(garbage, "{\"model\": 3}");
        CliHarness.Run bad = CliHarness.run("detokenize", "--tokenizer", garbage.toString(), "--ids", "1");
        assertEquals(1, bad.code());
        assertEquals(1, bad.errLines().size(), bad.err());
        assertTrue(bad.err().contains("garbage.json"), bad.err());
    }

    @Test
    void streamedTextEqualsTheDecodedContinuation() throws Exception {
        String[] common = {"generate", "--model", model.toString(), "--prompt", "Hello world", "--max-new-tokens", "24",
                "--ignore-eos", "--temperature", "1.0", "--seed", "5"};
        CliHarness.Run json = CliHarness.run(concat(common, "--json"));
        assertEquals(0, json.code(), json.err());
        JsonNode doc = Json.MAPPER.readTree(json.out());
        assertEquals(6 + 24, doc.get("tokens").size());
        for (int i = 0; i < 6; i++) {
            assertEquals(encodings.get(0).get("ids").get(i).asInt(), doc.get("tokens").get(i).asInt());
        }
        // The JSON text is the decoded continuation...
        List<String> cont = new ArrayList<>();
        for (int i = 6; i < doc.get("tokens").size(); i++) {
            cont.add(doc.get("tokens").get(i).asText());
        }
        CliHarness.Run decoded = CliHarness.run("detokenize", "--tokenizer", tokenizer.toString(), "--ids",
                String.join(",", cont), "-n");
        assertEquals(decoded.out(), doc.get("text").asText());
        // ...and the streamed text (same seed) is the same.
        CliHarness.Run streamed = CliHarness.run(common);
        assertEquals(0, streamed.code(), streamed.err());
        assertEquals(doc.get("text").asText() + System.lineSeparator(), streamed.out());
        assertTrue(streamed.err().contains("seed 5"), streamed.err());
        // Another seed, another text.
        common[common.length - 1] = "6";
        assertNotEquals(streamed.out(), CliHarness.run(common).out());
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        String[] base = {"generate", "--model", model.toString(), "--prompt", "The GNU", "--max-new-tokens", "30", "--ignore-eos"};
        CliHarness.Run full = CliHarness.run(base);
        assertEquals(0, full.code(), full.err());
        String text = full.out().substring(0, full.out().length() - System.lineSeparator().length());
        assertTrue(text.length() > 8, "random model produced too little text: " + text);
        String stop = text.substring(4, 8); // four characters from the middle of the stream
        int at = text.indexOf(stop);
        CliHarness.Run stopped = CliHarness.run(concat(base, "--stop", stop));
        assertEquals(0, stopped.code(), stopped.err());
        assertEquals(text.substring(0, at) + System.lineSeparator(), stopped.out());
        assertTrue(stopped.err().contains("stop: stop_string"), stopped.err());
        CliHarness.Run echoed = CliHarness.run(concat(base, "--echo"));
        assertEquals("The GNU" + full.out(), echoed.out());
    }

    @Test
    void greedyIgnoresSamplingFiltersWithANote() {
        CliHarness.Run r = CliHarness.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-new-tokens", "3",
                "--top-k", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("no effect"), r.err());
    }

    @Test
    void scoreTextFileReportsPerplexityConsistentWithTokenScores() throws Exception {
        String text = "The GNU General Public License is a free, copyleft license.\nCafé café naïve über 你好，世界\n".repeat(6);
        Path f = tmp.resolve("text.txt");
        Files.writeString(f, text);
        CliHarness.Run ids = CliHarness.run("tokenize", "--model", model.toString(), "--text-file", f.toString());
        String tokenList = idsOf(Json.MAPPER.readTree(ids.out()).get("ids"));
        int n = Json.MAPPER.readTree(ids.out()).get("ids").size();
        CliHarness.Run tokens = CliHarness.run("score", "--model", model.toString(), "--tokens", tokenList);
        double loss = Json.MAPPER.readTree(tokens.out()).get("loss").asDouble();

        CliHarness.Run r = CliHarness.run("score", "--model", model.toString(), "--text-file", f.toString(), "--json",
                "--chunk", "64");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = Json.MAPPER.readTree(r.out());
        assertEquals(n, doc.get("tokens").asInt());
        assertEquals(n - 1, doc.get("scored").asInt());
        assertEquals(loss, doc.get("loss").asDouble(), 1e-6 * loss);
        assertEquals(Math.exp(loss), doc.get("perplexity").asDouble(), 1e-5 * Math.exp(loss));
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, doc.get("bytes").asInt());
        assertTrue(r.err().contains("scoring") && r.err().contains("100%"), "progress bar: " + r.err());

        CliHarness.Run plain = CliHarness.run("score", "--model", model.toString(), "--text-file", f.toString(), "--no-progress");
        assertEquals(0, plain.code(), plain.err());
        assertTrue(plain.out().contains("perplexity"), plain.out());
        assertEquals("", plain.err());
    }

    @Test
    void unexpectedFailuresAreOneLineWithAHintAndOutOfMemoryIsReported() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out), new PrintWriter(err));
        cl.addSubcommand("npe", new Failing(new NullPointerException()));
        cl.addSubcommand("oom", new Failing(new OutOfMemoryError("Java heap space")));
        cl.setErr(new PrintWriter(err)); // reaches the subcommands added after commandLine() set it
        assertEquals(1, cl.execute("npe"));
        List<String> lines = err.toString().lines().toList();
        assertEquals(2, lines.size(), err.toString());
        assertTrue(lines.get(0).contains("NullPointerException"), lines.get(0));
        assertTrue(lines.get(1).contains("--verbose"), lines.get(1));
        err.getBuffer().setLength(0);
        assertEquals(1, cl.execute("oom"));
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().contains("out of memory") && err.toString().contains("-Xmx"), err.toString());
        assertFalse(err.toString().contains("\tat "));
    }

    @CommandLine.Command
    static final class Failing implements Callable<Integer> {
        private final Throwable t;

        Failing(Throwable t) {
            this.t = t;
        }

        @Override
        public Integer call() throws Exception {
            if (t instanceof Error e) {
                throw e;
            }
            throw (Exception) t;
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
