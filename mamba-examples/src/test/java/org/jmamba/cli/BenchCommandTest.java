package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.jmamba.MambaConfig;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.TokenIds;
import org.jmamba.perf.BenchShapes;
import org.jmamba.train.ModelInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code bench} command's JSON contract, on the tiny shape so that it runs in a second. */
class BenchCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode bench(String... extra) throws Exception {
        String[] base = {"bench", "--shape", "tiny", "--threads", "2", "--tokens", "4", "--repeat", "1", "--json"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliHarness.Run r = CliHarness.run(args);
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, "one JSON object on stdout: " + r.out());
        return JSON.readTree(lines[0]);
    }

    @Test
    void decodeReportsThroughputAndTheBandwidthFloor() throws Exception {
        JsonNode j = bench("--mode", "decode", "--dtype", "int8", "--batch", "2", "--probe-mb", "8");
        assertEquals("decode", j.get("mode").asText());
        assertEquals("int8", j.get("dtype").asText());
        assertEquals(2, j.get("threads").asInt());
        assertEquals(2, j.get("batch").asInt());
        assertTrue(j.get("tokens_per_s").asDouble() > 0);
        assertTrue(j.get("bandwidth_gb_s").asDouble() > 0);
        double floor = j.get("floor_tokens_per_s").asDouble();
        assertEquals(j.get("tokens_per_s").asDouble() / floor, j.get("fraction_of_floor").asDouble(), 1e-2);
        assertTrue(j.get("weight_bytes_per_step").asLong() > 0);
        assertTrue(j.get("state_bytes_per_sequence").asLong() > 0);
        assertFirstRunWithinWarmUp(j, "first_step_s");
    }

    /** The warm-up's first run is reported on its own: timed, and part of the warm-up. */
    private static void assertFirstRunWithinWarmUp(JsonNode j, String field) {
        double first = j.get(field).asDouble();
        assertTrue(first > 0 && first <= j.get("warmup_s").asDouble() + 1e-3, field + " " + first + " in " + j);
    }

    @Test
    void decodeReportsEveryRepetitionAgainstItsOwnProbe() throws Exception {
        CliHarness.Run r = CliHarness.run("bench", "--shape", "tiny", "--mode", "decode", "--dtype", "bf16",
                "--threads", "2", "--tokens", "4", "--repeat", "3", "--probe-mb", "8", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out().strip());
        JsonNode reps = j.get("repetitions");
        assertEquals(3, reps.size(), j.toString());
        double[] tps = new double[3];
        for (int i = 0; i < 3; i++) {
            JsonNode rep = reps.get(i);
            tps[i] = rep.get("tokens_per_s").asDouble();
            double floor = rep.get("bandwidth_gb_s").asDouble() * 1e9 / j.get("weight_bytes_per_step").asDouble();
            // the JSON rounds to three decimals
            assertEquals(tps[i] / floor, rep.get("fraction_of_floor").asDouble(), 6e-4 + 1e-3 * tps[i] / floor,
                    rep.toString());
        }
        java.util.Arrays.sort(tps);
        assertEquals(tps[1], j.get("tokens_per_s").asDouble(), 1e-2, "the median repetition");
    }

    @Test
    void decodePhasesAddUpToTheStep() throws Exception {
        JsonNode j = bench("--mode", "decode", "--dtype", "bf16", "--no-probe", "--phases");
        JsonNode phases = j.get("phases");
        double share = phases.get("other").get("share").asDouble();
        long bytes = 0;
        for (String p : new String[] {"in", "x", "scan", "out", "head"}) {
            assertTrue(phases.get(p).get("us_per_step").asDouble() > 0, phases.toString());
            share += phases.get(p).get("share").asDouble();
            bytes += phases.get(p).get("weight_bytes_per_step").asLong();
        }
        assertEquals(1.0, share, 0.01, phases.toString());
        // the products read the matrices; the rest of a step's bytes are the small tensors
        assertTrue(bytes > 0 && bytes < j.get("weight_bytes_per_step").asLong(), phases.toString());
        assertEquals(4, phases.get("steps").asInt(), "as many steps as the timed runs: " + phases);
        CliHarness.Run r = CliHarness.run("bench", "--shape", "tiny", "--mode", "prefill", "--phases");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--phases applies to --mode decode only"), r.err());
    }

    @Test
    void decodeAndPrefillRunOnWeightsOffTheHeapToo() throws Exception {
        for (String memory : new String[] {"off-heap", "mapped"}) {
            JsonNode d = bench("--mode", "decode", "--dtype", "bf16", "--weight-memory", memory);
            assertEquals(memory, d.get("weight_memory").asText());
            assertTrue(d.get("tokens_per_s").asDouble() > 0 && d.get("off_heap_bytes").asLong() > 0, d.toString());
            assertEquals(memory.equals("mapped"), d.get("mapped_bytes").asLong() > 0, d.toString());
        }
        JsonNode p = bench("--mode", "prefill", "--dtype", "int8", "--len", "8", "--weight-memory", "off-heap");
        assertEquals("off-heap", p.get("weight_memory").asText());
        assertEquals(0, p.get("mapped_bytes").asLong(), "int8 is never mapped");
        CliHarness.Run r = CliHarness.run("bench", "--mode", "train", "--weight-memory", "off-heap");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("off-heap"), r.err());
        r = CliHarness.run("bench", "--weight-memory", "disk");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--weight-memory"), r.err());
    }

    @Test
    void prefillAndTrainReportTokensPerSecond() throws Exception {
        JsonNode p = bench("--mode", "prefill", "--dtype", "bf16", "--len", "16");
        assertEquals("prefill", p.get("mode").asText());
        assertEquals(16, p.get("len").asInt());
        assertTrue(p.get("tokens_per_s").asDouble() > 0);
        assertFirstRunWithinWarmUp(p, "first_prompt_s");
        JsonNode t = bench("--mode", "train", "--len", "8");
        assertEquals("train", t.get("mode").asText());
        assertEquals("f32", t.get("dtype").asText());
        assertTrue(t.get("tokens_per_s").asDouble() > 0);
        assertFirstRunWithinWarmUp(t, "first_step_s");
    }

    @Test
    void loadReportsTimeAndHeapOfARandomCheckpointAndOfAGivenOne(@TempDir Path dir) throws Exception {
        JsonNode j = bench("--mode", "load", "--dtype", "int8");
        assertEquals("load", j.get("mode").asText());
        assertEquals("int8", j.get("dtype").asText());
        assertEquals(BenchShapes.TINY.parameterCount(), j.get("parameters").asLong());
        assertTrue(j.get("checkpoint_bytes").asLong() > 4 * BenchShapes.TINY.parameterCount());
        assertTrue(j.get("load_s").asDouble() > 0);
        assertTrue(j.has("heap_model_bytes") && j.has("heap_peak_bytes") && j.has("first_step_s"));
        // heap and off-heap weights, each load listed with its time and the heap in use after it
        assertTrue(j.get("off_heap_available").asBoolean(), "the build runs on Java 22+ with the Vector API");
        assertTrue(j.get("off_heap_load_s").asDouble() > 0);
        assertTrue(j.get("off_heap_native_bytes").asLong() > 0, "int8 is converted into native memory");
        assertEquals(0, j.get("off_heap_mapped_bytes").asLong());
        assertTrue(j.has("off_heap_heap_model_bytes") && j.has("off_heap_heap_peak_bytes"));
        assertTrue(j.get("mapped_native_bytes").asLong() > 0, "int8 is converted even when mapping is asked for");
        JsonNode runs = j.get("runs");
        assertEquals(3, runs.size());
        assertEquals("heap", runs.get(0).get("weight_memory").asText());
        assertEquals("off-heap", runs.get(1).get("weight_memory").asText());
        assertEquals("mapped", runs.get(2).get("weight_memory").asText());
        assertTrue(runs.get(1).get("load_s").asDouble() > 0 && runs.get(1).get("heap_after_load_bytes").asLong() > 0);

        MambaConfig c = MambaConfig.of(16, 1, 32, 4, 2);
        Checkpoints.save(dir, ModelInit.initialize(c, 3), TokenIds.NONE);
        JsonNode g = bench("--mode", "load", "--model", dir.toString());
        assertEquals(c.parameterCount(), g.get("parameters").asLong());
        assertTrue(g.get("mapped_mapped_bytes").asLong() > 0, "f32 weights of an f32 checkpoint are mapped: " + g);
        assertEquals(0, g.get("off_heap_mapped_bytes").asLong(), "and copied by default: " + g);
        JsonNode one = bench("--mode", "load", "--model", dir.toString(), "--weight-memory", "mapped");
        assertFalse(one.has("load_s") || one.has("off_heap_load_s"), "only the mapped loads: " + one);
        assertTrue(one.get("mapped_load_s").asDouble() > 0);
        assertEquals(1, one.get("runs").size());
        assertEquals(dir.toString(), g.get("shape").asText());

        CliHarness.Run r = CliHarness.run("bench", "--mode", "decode", "--model", dir.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--model"), r.err());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        CliHarness.Run r = CliHarness.run("bench", "--shape", "huge", "--json");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--shape"), r.err());
        r = CliHarness.run("bench", "--shape", "tiny", "--dtype", "fp8");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--dtype"), r.err());
        r = CliHarness.run("bench", "--shape", "tiny", "--mode", "train", "--dtype", "int8");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("f32"), r.err());
    }
}
