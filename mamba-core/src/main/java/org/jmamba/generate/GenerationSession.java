package org.jmamba.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.jmamba.MambaState;
import org.jmamba.SequenceModel;
import org.jmamba.tokenizer.StreamingDecoder;
import org.jmamba.tokenizer.Tokenizer;

/**
 * One generation run over a batch of prompts, advanced one model call at a time: the first call
 * prefills every prompt (in parallel mode, chunk by chunk), each later call is one recurrent step for
 * the whole batch. Both the listener form and the iterator form of {@link Generator} drive it.
 *
 * <p>Memory does not grow with the number of tokens except for the token ids and text kept for the
 * result. Sequences that have finished keep being stepped with their last token (the state has no
 * way to drop a row) but nothing is sampled or reported for them.
 */
final class GenerationSession implements AutoCloseable {

    /** Per-sequence bookkeeping. */
    private static final class Row {
        final int[] prompt;
        final Sampler sampler;
        final long seed;
        final StreamingDecoder decoder; // null without a tokenizer
        final StopStringMatcher stops;
        final StringBuilder text = new StringBuilder();
        int[] generated = new int[16];
        int count;
        int lastToken;
        FinishReason finish;

        Row(int[] prompt, Sampler sampler, long seed, StreamingDecoder decoder, StopStringMatcher stops) {
            this.prompt = prompt;
            this.sampler = sampler;
            this.seed = seed;
            this.decoder = decoder;
            this.stops = stops;
            this.lastToken = prompt[prompt.length - 1];
        }

        void add(int token) {
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, count * 2);
            }
            generated[count++] = token;
            lastToken = token;
        }
    }

    private final SequenceModel model;
    private final Tokenizer tokenizer;
    private final OptionalInt eos;
    private final SamplingParams params;
    private final CancellationToken cancel;
    private final int prefillChunk;
    private final int[] stopIds; // sorted
    private final Row[] rows;
    private final int[] stepTokens;
    private MambaState state;
    private boolean prefilled;
    private int live;

    private long promptTokens;
    private long prefillNanos;
    private long decodeTokens;
    private long generatedTokens;
    private long decodeStart;
    private long decodeNanos;

    GenerationSession(SequenceModel model, Tokenizer tokenizer, OptionalInt eos, int[][] prompts,
                      SamplingParams params, CancellationToken cancel, int prefillChunk) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.eos = eos;
        this.params = params;
        this.cancel = cancel == null ? new CancellationToken() : cancel;
        this.prefillChunk = prefillChunk;
        if (prompts.length == 0) {
            throw new IllegalArgumentException("no prompts given");
        }
        if (!params.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer to decode the generated text");
        }
        this.stopIds = params.stopTokenIds().stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
        int vocab = model.config().vocabSize();
        long baseSeed = params.seed().isPresent() ? params.seed().getAsLong()
                : java.util.concurrent.ThreadLocalRandom.current().nextLong();
        this.rows = new Row[prompts.length];
        for (int r = 0; r < prompts.length; r++) {
            int[] p = prompts[r];
            if (p == null || p.length == 0) {
                throw new IllegalArgumentException("prompt " + r + " is empty: give at least one token (e.g. the BOS token)");
            }
            long seed = baseSeed + r;
            Sampler s = new Sampler(params, vocab, seed);
            try {
                s.observeAll(p); // also checks every id against the vocabulary
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt " + r + ": " + e.getMessage(), e);
            }
            rows[r] = new Row(p.clone(), s, seed, tokenizer == null ? null : tokenizer.newStreamingDecoder(),
                    new StopStringMatcher(params.stopStrings()));
        }
        this.stepTokens = new int[prompts.length];
        this.live = params.maxNewTokens() == 0 ? 0 : prompts.length;
        if (live == 0) {
            for (Row row : rows) {
                row.finish = FinishReason.MAX_TOKENS;
            }
        }
    }

    /** Whether some sequence is still generating. */
    boolean isActive() {
        return live > 0;
    }

    /**
     * Runs one model call (the prefill, or one step) and reports each live sequence's new token.
     *
     * @return whether some sequence is still generating
     */
    boolean advance(TokenListener listener) {
        if (live == 0) {
            return false;
        }
        if (cancel.isCancelled()) {
            cancelAll();
            return false;
        }
        float[][] logits;
        if (!prefilled) {
            logits = prefill();
            prefilled = true;
            if (logits == null) { // cancelled between chunks
                cancelAll();
                return false;
            }
            decodeStart = System.nanoTime();
        } else {
            for (int r = 0; r < rows.length; r++) {
                stepTokens[r] = rows[r].lastToken;
            }
            logits = model.step(state, stepTokens);
            decodeTokens += live;
        }
        for (int r = 0; r < rows.length; r++) {
            Row row = rows[r];
            if (row.finish == null) {
                emit(r, row, logits[r], listener);
                if (row.finish != null) {
                    live--;
                }
            }
        }
        decodeNanos = System.nanoTime() - decodeStart;
        if (live == 0) {
            closeState();
        }
        return live > 0;
    }

    /** Feeds every prompt through the model in chunks; returns each row's last logits, or null if cancelled. */
    private float[][] prefill() {
        long t0 = System.nanoTime();
        state = model.newState(rows.length);
        int longest = 0;
        for (Row row : rows) {
            longest = Math.max(longest, row.prompt.length);
            promptTokens += row.prompt.length;
        }
        float[][] last = new float[rows.length][];
        int[][] chunk = new int[rows.length][];
        for (int from = 0; from < longest; from += prefillChunk) {
            if (cancel.isCancelled()) {
                return null;
            }
            for (int r = 0; r < rows.length; r++) {
                int[] p = rows[r].prompt;
                int lo = Math.min(from, p.length);
                int hi = Math.min(from + prefillChunk, p.length);
                chunk[r] = lo == 0 && hi == p.length ? p : Arrays.copyOfRange(p, lo, hi);
            }
            float[][] logits = model.prefill(state, chunk);
            for (int r = 0; r < rows.length; r++) {
                if (chunk[r].length > 0) {
                    last[r] = logits[r];
                }
            }
        }
        prefillNanos = System.nanoTime() - t0;
        return last;
    }

    /** Samples row {@code r}'s next token, decides whether it ends the sequence and reports it. */
    private void emit(int r, Row row, float[] logits, TokenListener listener) {
        int token = row.sampler.sample(logits);
        row.sampler.observe(token);
        row.add(token);
        generatedTokens++;
        FinishReason finish = null;
        String piece;
        if (eos.isPresent() && token == eos.getAsInt()) {
            finish = FinishReason.EOS;
            piece = endText(row);
        } else if (Arrays.binarySearch(stopIds, token) >= 0) {
            finish = FinishReason.STOP_TOKEN;
            piece = endText(row);
        } else {
            piece = row.stops.push(decode(row, token));
            if (row.stops.matched()) {
                finish = FinishReason.STOP_STRING;
            } else if (row.count == params.maxNewTokens()) {
                String rest = endText(row);
                finish = row.stops.matched() ? FinishReason.STOP_STRING : FinishReason.MAX_TOKENS;
                piece = piece + rest;
            }
        }
        row.text.append(piece);
        boolean goOn = listener.onToken(new GeneratedToken(r, row.count - 1, token, piece, finish));
        if (finish == null && !goOn) {
            finish = FinishReason.CANCELLED;
        }
        row.finish = finish;
    }

    /** The text of one token; ids the tokenizer does not know (padding rows of the embedding) have none. */
    private String decode(Row row, int token) {
        if (row.decoder == null || token >= tokenizer.vocabSize()) {
            return "";
        }
        return row.decoder.accept(token);
    }

    /** Everything still held back when a sequence ends: an unfinished character, a partial stop string. */
    private static String endText(Row row) {
        if (row.decoder == null) {
            return "";
        }
        String piece = row.stops.push(row.decoder.finish());
        return row.stops.matched() ? piece : piece + row.stops.flush();
    }

    private void cancelAll() {
        for (Row row : rows) {
            if (row.finish == null) {
                row.finish = FinishReason.CANCELLED;
            }
        }
        live = 0;
        if (prefilled) {
            decodeNanos = System.nanoTime() - decodeStart;
        }
        closeState();
    }

    /** Stops the run: unfinished sequences end as cancelled. */
    void cancel() {
        if (live > 0) {
            cancelAll();
        }
    }

    /** The results so far (final once {@link #isActive()} is false). */
    List<GenerationResult> results() {
        GenerationStats stats = new GenerationStats(promptTokens, prefillNanos, decodeTokens, generatedTokens, decodeNanos);
        List<GenerationResult> out = new ArrayList<>(rows.length);
        for (Row row : rows) {
            out.add(new GenerationResult(row.prompt, Arrays.copyOf(row.generated, row.count), row.text.toString(),
                    row.finish, row.seed, stats));
        }
        return out;
    }

    private void closeState() {
        if (state != null) {
            state.close();
            state = null;
        }
    }

    @Override
    public void close() {
        cancel();
        closeState();
    }
}
