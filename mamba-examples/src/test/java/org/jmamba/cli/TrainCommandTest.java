package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jmamba.io.Checkpoints;
import org.jmamba.tokenizer.BpeTokenizer;
import org.jmamba.train.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    private static long stepLines(Path metrics) throws Exception {
        return Files.readAllLines(metrics).stream().filter(l -> l.contains("\"loss\"")).count();
    }

    @Test
    void trainsATaskResumesAndEvaluates(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        String[] common = {"train", "--task", "induction", "--d-model", "16", "--n-layer", "1", "--d-state", "4",
                "--seq-len", "24", "--batch", "2", "--eval-every", "3", "--eval-samples", "4",
                "--checkpoint-every", "3", "--threads", "1", "--no-progress", "--out", out.toString()};
        Run r = run(concat(common, "--steps", "6"));
        assertEquals(0, r.code(), r.err());
        JsonNode summary = Json.MAPPER.readTree(r.out());
        assertEquals(6, summary.get("steps").asInt());
        assertEquals(6L * 2 * 24, summary.get("tokens_seen").asLong());
        assertTrue(summary.get("final_eval").has("acc@24"));
        for (String f : List.of("config.json", "model.safetensors", "loss.png", "accuracy.png", "metrics.jsonl")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-00000006/trainer_state.json")));
        assertEquals(6, stepLines(out.resolve("metrics.jsonl")));

        // resume from the folder with a longer run: the stored options are reused, those given
        // again replace them (a list option too)
        Run resumed = run("train", "--resume", out.toString(), "--steps", "9", "--eval-lengths", "16");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resumed from"), resumed.err());
        JsonNode finalEval = Json.MAPPER.readTree(resumed.out()).get("final_eval");
        assertTrue(finalEval.has("acc@16") && !finalEval.has("acc@24"), finalEval.toString());
        assertEquals(9, TrainingCheckpoint.readState(out).step());
        assertEquals(9, stepLines(out.resolve("metrics.jsonl")));
        assertEquals(16, Checkpoints.load(out).config().dModel());

        Run ev = run("eval", "--task", "induction", "--model", out.toString(), "--lengths", "16,64", "--samples", "4",
                "--threads", "1", "--json");
        assertEquals(0, ev.code(), ev.err());
        JsonNode results = Json.MAPPER.readTree(ev.out()).get("results");
        assertEquals(2, results.size());
        assertEquals(64, results.get(1).get("length").asInt());
        assertEquals(4, results.get(1).get("total").asInt());

        Run table = run("eval", "--task", "induction", "--model", out.toString(), "--lengths", "5000", "--samples", "2",
                "--batch", "2", "--chunk", "1024", "--threads", "1");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("recurrent"), table.out());
    }

    @Test
    void progressBarLogAndEvaluationLinesDoNotOverlap(@TempDir Path dir) {
        Run r = run("train", "--task", "induction", "--d-model", "16", "--n-layer", "1", "--d-state", "4",
                "--seq-len", "24", "--batch", "2", "--steps", "4", "--eval-every", "2", "--eval-samples", "4",
                "--log-every", "2", "--threads", "1", "--out", dir.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        List<String> shown = ProgressBarTest.render(r.err());
        // the terminal shows whole lines: evaluations, log lines, and the bar last
        assertTrue(shown.stream().anyMatch(l -> l.startsWith("eval at update 0: acc@24 ")), shown.toString());
        assertTrue(shown.stream().anyMatch(l -> l.startsWith("step 2/4 loss ")), shown.toString());
        assertTrue(shown.stream().anyMatch(l -> l.startsWith("eval at update 4: acc@24 ")), shown.toString());
        String last = shown.get(shown.size() - 1);
        assertTrue(last.startsWith("train [") && last.contains("100% 4/4 steps") && last.contains(" tok/s"), last);
        for (String l : shown) {
            assertTrue(l.startsWith("train [") == l.contains("ETA"), "a line mixes the bar with other output: " + l);
        }
    }

    @Test
    void trainsOnBytesAndShipsAByteTokenizer(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("text.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("In the beginning God created the heaven and the earth. ").append(i).append('\n');
        }
        Files.writeString(text, sb);
        Path out = dir.resolve("bytes");
        Run r = run("train", "--data", text.toString(), "--d-model", "16", "--n-layer", "1", "--d-state", "4",
                "--seq-len", "32", "--batch", "2", "--steps", "3", "--eval-batches", "1", "--threads", "1",
                "--no-progress", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Json.MAPPER.readTree(r.out()).get("final_eval").has("val_loss"));
        assertEquals(257, Checkpoints.load(out).config().vocabSize());
        BpeTokenizer tok = BpeTokenizer.load(out.resolve("tokenizer.json"));
        assertEquals("God", tok.decode(tok.encode("God")));
        assertEquals(3, tok.encode("God").length);
    }

    @Test
    void badOptionsGiveOneLineErrors(@TempDir Path dir) {
        Run both = run("train", "--task", "induction", "--data", "x.txt", "--out", dir.toString());
        assertEquals(Main.EXIT_ERROR, both.code());
        assertTrue(both.err().contains("exactly one of --data FILE and --task NAME"), both.err());
        Run noOut = run("train", "--task", "induction");
        assertEquals(Main.EXIT_ERROR, noOut.code());
        assertTrue(noOut.err().contains("--out"), noOut.err());
        Run task = run("train", "--task", "copying", "--out", dir.toString());
        assertEquals(Main.EXIT_ERROR, task.code());
        assertTrue(task.err().contains("unknown task"), task.err());
        Run nothing = run("train", "--resume", dir.resolve("none").toString());
        assertEquals(Main.EXIT_ERROR, nothing.code());
        Run evalShort = run("eval", "--task", "selective-copying", "--model", dir.toString(), "--lengths", "16");
        assertEquals(Main.EXIT_ERROR, evalShort.code());
        assertTrue(evalShort.err().contains("at least 32"), evalShort.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
