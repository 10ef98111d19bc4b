package org.jmamba.generate;

import static org.jmamba.generate.PieceTokenizer.b;
import static org.jmamba.generate.PieceTokenizer.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Generator logic (stopping, streamed text, cancellation, chunking) against a scripted model. */
class GeneratorScriptedTest {

    // id: 0 <eos>, 1 "Hello", 2 " wo", 3 "rl", 4 "d!", 5 " STO", 6 "P", 7 " more",
    //     8 first byte of "€", 9 last two bytes of "€", 10 "é", 11 first half of 😀, 12 second half, 13 "x"
    private static final PieceTokenizer TOK = new PieceTokenizer(
            s("<eos>"), s("Hello"), s(" wo"), s("rl"), s("d!"), s(" STO"), s("P"), s(" more"),
            b(0xE2), b(0x82, 0xAC), s("é"), b(0xF0, 0x9F), b(0x98, 0x80), s("x"));

    private static final int[] PROMPT = {13, 13};

    private static Generator generator(int[]... scripts) {
        return new Generator(new ScriptedModel(TOK.vocabSize(), scripts), TOK);
    }

    /** Runs a generation and returns the streamed events. */
    private static List<GeneratedToken> run(Generator g, int[] prompt, SamplingParams p, GenerationResult[] result) {
        List<GeneratedToken> events = new ArrayList<>();
        result[0] = g.generate(prompt, p, TokenListener.of(events::add));
        return events;
    }

    private static List<String> pieces(List<GeneratedToken> events) {
        return events.stream().map(GeneratedToken::text).collect(Collectors.toList());
    }

    private static String joined(List<GeneratedToken> events) {
        return events.stream().map(GeneratedToken::text).collect(Collectors.joining());
    }

    @Test
    void stopStringSplitAcrossTokensIsNotEmitted() {
        Generator g = generator(new int[] {1, 2, 3, 4, 5, 6, 7, 7, 7});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.builder().addStopString("STOP").build(), r);
        // " STO" could start "STOP": its "STO" is held back, then dropped when "P" completes it.
        assertEquals(List.of("Hello", " wo", "rl", "d!", " ", ""), pieces(ev));
        assertEquals("Hello world! ", r[0].text());
        assertEquals(FinishReason.STOP_STRING, r[0].finish());
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6}, r[0].generated());
        assertEquals(FinishReason.STOP_STRING, ev.get(5).finish());
        assertTrue(ev.get(5).isLast());
        for (int i = 0; i < 5; i++) {
            assertNull(ev.get(i).finish());
            assertEquals(i, ev.get(i).index());
        }
    }

    @Test
    void heldBackTextIsReleasedWhenNoStopStringCompletes() {
        Generator g = generator(new int[] {1, 5, 6, 7, 0});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.builder().addStopString("STOX").build(), r);
        assertEquals(List.of("Hello", " ", "STOP", " more", ""), pieces(ev));
        assertEquals("Hello STOP more", r[0].text());
        assertEquals(FinishReason.EOS, r[0].finish());
        assertArrayEquals(new int[] {1, 5, 6, 7, 0}, r[0].generated());
    }

    @Test
    void stopStringSpanningThreeTokensAndTheEarliestMatchWins() {
        Generator g = generator(new int[] {1, 2, 3, 4, 7});
        GenerationResult[] r = new GenerationResult[1];
        run(g, PROMPT, SamplingParams.builder().addStopString("world").addStopString("o wor").build(), r);
        assertEquals("Hell", r[0].text()); // "o wor" starts before "world"
        assertEquals(FinishReason.STOP_STRING, r[0].finish());
        assertArrayEquals(new int[] {1, 2, 3}, r[0].generated());
    }

    @Test
    void multiByteCharactersSplitAcrossTokensStreamWhole() {
        Generator g = generator(new int[] {10, 8, 9, 11, 12, 13, 0});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.greedy(50), r);
        assertEquals(List.of("é", "", "€", "", "😀", "x", ""), pieces(ev));
        assertEquals("é€😀x", r[0].text());
        int[] gen = r[0].generated();
        assertEquals(TOK.decode(Arrays.copyOf(gen, gen.length - 1)), joined(ev), "stream == full decode");
        assertEquals(FinishReason.EOS, r[0].finish());
    }

    @Test
    void stopStringWithAMultiByteCharacter() {
        Generator g = generator(new int[] {10, 8, 9, 13});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.builder().addStopString("€").build(), r);
        assertEquals(List.of("é", "", ""), pieces(ev));
        assertEquals(FinishReason.STOP_STRING, r[0].finish());
    }

    @Test
    void unfinishedCharacterAtTheEndBecomesAReplacementCharacter() {
        Generator g = generator(new int[] {13, 8, 8, 8});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.greedy(2), r);
        assertEquals(List.of("x", "\uFFFD"), pieces(ev));
        assertEquals(FinishReason.MAX_TOKENS, r[0].finish());
        assertEquals(TOK.decode(r[0].generated()), r[0].text());
    }

    @Test
    void maxNewTokensFlushesHeldBackText() {
        Generator g = generator(new int[] {1, 5, 6});
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(g, PROMPT, SamplingParams.builder().maxNewTokens(2).addStopString("STOP").build(), r);
        assertEquals(List.of("Hello", " STO"), pieces(ev));
        assertEquals(FinishReason.MAX_TOKENS, ev.get(1).finish());
        assertEquals(FinishReason.MAX_TOKENS, r[0].finish());
    }

    @Test
    void eosAndStopTokensEndGenerationAndAreKeptWithoutText() {
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> ev = run(generator(new int[] {1, 0, 2}), PROMPT, SamplingParams.greedy(10), r);
        assertEquals(List.of("Hello", ""), pieces(ev));
        assertArrayEquals(new int[] {1, 0}, r[0].generated());
        assertEquals(FinishReason.EOS, r[0].finish());
        assertArrayEquals(new int[] {13, 13, 1, 0}, r[0].allTokens());

        ev = run(generator(new int[] {1, 2, 7, 3}), PROMPT, SamplingParams.greedy(10).withStopTokenIds(List.of(7)), r);
        assertEquals(List.of("Hello", " wo", ""), pieces(ev));
        assertArrayEquals(new int[] {1, 2, 7}, r[0].generated());
        assertEquals(FinishReason.STOP_TOKEN, r[0].finish());

        // Without an EOS id, token 0 is an ordinary token.
        Generator noEos = generator(new int[] {1, 0, 2}).withEosTokenId(java.util.OptionalInt.empty());
        GenerationResult plain = noEos.generate(PROMPT, SamplingParams.greedy(3));
        assertArrayEquals(new int[] {1, 0, 2}, plain.generated());
        assertEquals(FinishReason.MAX_TOKENS, plain.finish());
    }

    @Test
    void listenerReturningFalseStopsAtOnce() {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13});
        Generator g = new Generator(m, TOK);
        int[] seen = {0};
        GenerationResult r = g.generate(PROMPT, SamplingParams.greedy(1000), t -> ++seen[0] < 3);
        assertEquals(3, seen[0]);
        assertEquals(3, r.generated().length);
        assertEquals(FinishReason.CANCELLED, r.finish());
        assertEquals(2, m.steps.get(), "no model call after the cancelling token");
        assertTrue(m.states.get(0).closed, "state freed");
    }

    @Test
    void cancellationTokenFromAnotherThreadStopsPromptly() throws Exception {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13});
        CountDownLatch running = new CountDownLatch(100);
        m.onStep = running::countDown;
        Generator g = new Generator(m, TOK);
        CancellationToken cancel = new CancellationToken();
        CompletableFuture<GenerationResult> f = CompletableFuture.supplyAsync(
                () -> g.generate(PROMPT, SamplingParams.greedy(Integer.MAX_VALUE), TokenListener.none(), cancel));
        assertTrue(running.await(10, TimeUnit.SECONDS));
        cancel.cancel();
        int stepsAtCancel = m.steps.get();
        GenerationResult r = f.get(5, TimeUnit.SECONDS);
        assertEquals(FinishReason.CANCELLED, r.finish());
        assertTrue(m.steps.get() - stepsAtCancel <= 1, "at most the step in flight finishes");
        assertEquals(m.steps.get() + 1, r.generated().length);
    }

    @Test
    void cancelledBeforeStartGeneratesNothing() {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13});
        CancellationToken cancel = new CancellationToken();
        cancel.cancel();
        GenerationResult r = new Generator(m, TOK).generate(PROMPT, SamplingParams.greedy(10), TokenListener.none(), cancel);
        assertEquals(0, r.generated().length);
        assertEquals(FinishReason.CANCELLED, r.finish());
        assertTrue(m.prefillChunkLengths.isEmpty());
    }

    @Test
    void iteratorGivesTheSameTokensAndCanBeClosedEarly() {
        int[] script = {1, 2, 3, 4, 5, 6, 0};
        GenerationResult[] r = new GenerationResult[1];
        List<GeneratedToken> viaListener = run(generator(script), PROMPT, SamplingParams.greedy(20), r);
        List<GeneratedToken> viaIterator = new ArrayList<>();
        try (TokenStream ts = generator(script).stream(PROMPT, SamplingParams.greedy(20))) {
            ts.forEachRemaining(viaIterator::add);
            assertEquals(FinishReason.EOS, ts.result().finish());
            assertArrayEquals(r[0].generated(), ts.result().generated());
        }
        assertEquals(viaListener, viaIterator);

        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13});
        TokenStream ts = new Generator(m, TOK).stream(PROMPT, SamplingParams.greedy(1_000_000));
        List<Integer> firstTwo;
        try (Stream<GeneratedToken> st = ts.stream()) {
            firstTwo = st.limit(2).map(GeneratedToken::tokenId).collect(Collectors.toList());
        }
        assertEquals(List.of(13, 13), firstTwo);
        assertFalse(ts.hasNext());
        assertEquals(FinishReason.CANCELLED, ts.result().finish());
        assertEquals(2, ts.result().generated().length);
        assertEquals(1, m.steps.get());
        assertTrue(m.states.get(0).closed);
    }

    @Test
    void batchRowsStopIndependently() {
        Generator g = generator(new int[] {1, 0}, new int[] {1, 2, 3, 4, 7, 7}, new int[] {13, 5, 6});
        List<GeneratedToken> ev = new ArrayList<>();
        List<GenerationResult> rs = g.generateBatch(new int[][] {{13}, {13, 13, 13}, {1, 2}},
                SamplingParams.builder().maxNewTokens(5).addStopString("STOP").build(), TokenListener.of(ev::add), null);
        assertEquals(FinishReason.EOS, rs.get(0).finish());
        assertEquals(FinishReason.MAX_TOKENS, rs.get(1).finish());
        assertEquals(FinishReason.STOP_STRING, rs.get(2).finish());
        assertEquals("Hello", rs.get(0).text());
        assertEquals("Hello world! more", rs.get(1).text());
        assertEquals("x ", rs.get(2).text());
        for (int row = 0; row < 3; row++) {
            int rr = row;
            assertEquals(rs.get(row).text(), ev.stream().filter(t -> t.row() == rr).map(GeneratedToken::text)
                    .collect(Collectors.joining()));
        }
        // Tokens arrive step by step: row 0, 1, 2 of the first step, then of the second...
        assertEquals(List.of(0, 1, 2, 0, 1, 2, 1, 2, 1, 1), ev.stream().map(GeneratedToken::row).collect(Collectors.toList()));
    }

    @Test
    void promptsArePrefilledInChunksAndRaggedRowsGetEmptyChunks() {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13}, new int[] {13});
        Generator g = new Generator(m, TOK).withPrefillChunk(4);
        GenerationResult one = g.generate(new int[] {1, 2, 3, 4, 5, 6, 7, 1, 2, 3}, SamplingParams.greedy(1));
        assertEquals(List.of("[4]", "[4]", "[2]"), m.prefillChunkLengths.stream().map(Arrays::toString).toList().subList(0, 3));
        assertEquals(10, one.stats().promptTokens());
        m.prefillChunkLengths.clear();
        g.generateBatch(new int[][] {{1, 2, 3, 4, 5, 6, 7, 1, 2, 3}, {1, 2, 3}}, SamplingParams.greedy(1),
                TokenListener.none(), null);
        assertEquals(List.of("[4, 3]", "[4, 0]", "[2, 0]"), m.prefillChunkLengths.stream().map(Arrays::toString).toList());
    }

    @Test
    void statsCountPrefillAndDecodeTokens() {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13}, new int[] {1, 0});
        List<GenerationResult> rs = new Generator(m, TOK).generateBatch(new int[][] {{1, 2, 3}, {4}},
                SamplingParams.greedy(4), TokenListener.none(), null);
        GenerationStats st = rs.get(0).stats();
        assertEquals(4, st.promptTokens());
        assertEquals(6, st.generatedTokens()); // 4 + 2
        assertEquals(3 + 1, st.decodeTokens()); // row 0 fed back 3 tokens, row 1 one
        assertTrue(st.prefillNanos() > 0);
        assertTrue(st.decodeNanos() > 0);
        assertTrue(st.decodeTokensPerSecond() > 0);
        assertTrue(st.toString().contains("tokens/s"));
    }

    @Test
    void zeroNewTokensRunsNothing() {
        ScriptedModel m = new ScriptedModel(TOK.vocabSize(), new int[] {13});
        GenerationResult r = new Generator(m, TOK).generate(PROMPT, SamplingParams.greedy(0));
        assertEquals(0, r.generated().length);
        assertEquals(FinishReason.MAX_TOKENS, r.finish());
        assertTrue(m.prefillChunkLengths.isEmpty());
    }

    @Test
    void badPromptsAreRejectedClearly() {
        Generator g = generator(new int[] {13});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[0], SamplingParams.greedy(3)));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.generate(new int[] {1, 99}, SamplingParams.greedy(3)));
        assertTrue(e.getMessage().contains("99"), e.getMessage());
        Generator noText = Generator.forTokens(new ScriptedModel(TOK.vocabSize(), new int[] {13}), java.util.OptionalInt.of(0));
        e = assertThrows(IllegalArgumentException.class,
                () -> noText.generate(PROMPT, SamplingParams.builder().addStopString("x").build()));
        assertTrue(e.getMessage().contains("tokenizer"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> generator(new int[] {1}).withEosTokenId(java.util.OptionalInt.of(500)));
    }

    @Test
    void textPromptsAreEncoded() {
        GenerationResult r = generator(new int[] {4, 0}).generate("Hello wo", SamplingParams.greedy(5), TokenListener.none());
        assertArrayEquals(new int[] {1, 2}, r.prompt());
        assertEquals("d!", r.text());
    }
}
