package org.jmamba.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import org.jmamba.Mamba;
import org.jmamba.MambaConfig;
import org.jmamba.SequenceModel;
import org.jmamba.cpu.CpuMamba;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generator on real models: a small random CpuMamba and the golden tiny checkpoint. */
class GeneratorModelTest {
    private static final MambaConfig CONFIG = new MambaConfig(16, 2, 48, 4, 4, 32, 2, false, true, 1e-5, true, true);
    private static SequenceModel model;

    @BeforeAll
    static void load() {
        model = CpuMamba.create(RandomModels.weights(CONFIG, 17));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] randomPrompt(Random r, int len) {
        int[] p = new int[len];
        for (int i = 0; i < len; i++) {
            p[i] = r.nextInt(CONFIG.vocabSize());
        }
        return p;
    }

    /** Greedy decoding the slow way: a full parallel forward over the growing sequence per token. */
    private static int[] naiveGreedy(int[] prompt, int n) {
        int[] seq = prompt.clone();
        for (int i = 0; i < n; i++) {
            float[] logits = model.forward(new int[][] {seq}, false).logits().data();
            int v = CONFIG.vocabSize();
            int off = (seq.length - 1) * v;
            int best = 0;
            for (int j = 1; j < v; j++) {
                if (logits[off + j] > logits[off + best]) {
                    best = j;
                }
            }
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    @Test
    void greedyPrefillPlusStepsMatchesFullForwardPasses() {
        Generator g = Generator.forTokens(model, OptionalInt.empty());
        Random r = new Random(1);
        for (int len : new int[] {1, 5, 13}) {
            int[] prompt = randomPrompt(r, len);
            GenerationResult res = g.generate(prompt, SamplingParams.greedy(12));
            assertArrayEquals(naiveGreedy(prompt, 12), res.generated(), "prompt length " + len);
            assertEquals(FinishReason.MAX_TOKENS, res.finish());
        }
    }

    @Test
    void chunkedPrefillGivesTheSameContinuation() {
        int[] prompt = randomPrompt(new Random(2), 23);
        Generator g = Generator.forTokens(model, OptionalInt.empty());
        int[] whole = g.generate(prompt, SamplingParams.greedy(10)).generated();
        int[] chunked = g.withPrefillChunk(5).generate(prompt, SamplingParams.greedy(10)).generated();
        assertArrayEquals(whole, chunked);
    }

    @Test
    void batchOfDifferentLengthsEqualsEachAlone() {
        Random r = new Random(3);
        int[][] prompts = {randomPrompt(r, 7), randomPrompt(r, 1), randomPrompt(r, 19), randomPrompt(r, 4)};
        // EOS = a token row 1 emits early, so that one row stops early while others go on.
        Generator probe = Generator.forTokens(model, OptionalInt.empty());
        int[] row1 = probe.generate(prompts[1], SamplingParams.greedy(3)).generated();
        int eos = row1[2];
        int row1Length = 1 + Arrays.stream(row1).boxed().toList().indexOf(eos);
        Generator g = Generator.forTokens(model, OptionalInt.of(eos));
        SamplingParams p = SamplingParams.greedy(15);
        List<GenerationResult> batch = g.generateBatch(prompts, p, TokenListener.none(), null);
        for (int i = 0; i < prompts.length; i++) {
            GenerationResult alone = g.generate(prompts[i], p);
            assertArrayEquals(alone.generated(), batch.get(i).generated(), "row " + i);
            assertEquals(alone.finish(), batch.get(i).finish(), "row " + i);
        }
        assertEquals(FinishReason.EOS, batch.get(1).finish());
        assertEquals(row1Length, batch.get(1).generated().length);
        assertTrue(batch.stream().anyMatch(x -> x.finish() == FinishReason.MAX_TOKENS),
                "some row should run to the token limit: " + batch);
    }

    @Test
    void samplingIsReproducibleFromTheSeed() {
        Random r = new Random(4);
        int[] prompt = randomPrompt(r, 6);
        Generator g = Generator.forTokens(model, OptionalInt.empty());
        SamplingParams p = SamplingParams.builder().temperature(1.5).topP(0.98).maxNewTokens(40).seed(99).build();
        GenerationResult a = g.generate(prompt, p);
        GenerationResult b = g.generate(prompt, p);
        GenerationResult c = g.generate(prompt, p.withSeed(100));
        assertArrayEquals(a.generated(), b.generated());
        assertFalse(Arrays.equals(a.generated(), c.generated()));
        assertEquals(99, a.seed());
        // Row r of a batch uses seed + r.
        List<GenerationResult> batch = g.generateBatch(new int[][] {prompt, prompt}, p, TokenListener.none(), null);
        assertArrayEquals(a.generated(), batch.get(0).generated());
        assertArrayEquals(c.generated(), batch.get(1).generated());
    }

    @Test
    void goldenTinyModelGreedyContinuationStopsAtEos() throws Exception {
        URL url = GeneratorModelTest.class.getResource("/golden/tiny/golden.json");
        Path dir = Path.of(url.toURI()).getParent();
        JsonNode golden = new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
        int[] prompt = ints(golden.get("greedy_prompt"));
        int[] expected = ints(golden.get("greedy_output"));
        try (SequenceModel tiny = Mamba.load(dir)) {
            Generator g = Generator.forTokens(tiny, OptionalInt.of(0)); // eos_token_id of the config
            GenerationResult res = g.generate(prompt, SamplingParams.greedy(50));
            assertArrayEquals(expected, res.allTokens());
            assertEquals(FinishReason.EOS, res.finish());
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
