package org.jmamba.generate;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import org.jmamba.SequenceModel;
import org.jmamba.tokenizer.Tokenizer;

/**
 * Generates continuations of prompts with a {@link SequenceModel}: the prompt goes through the
 * parallel path ({@link SequenceModel#prefill}, in chunks so that memory stays bounded for any prompt
 * length), then each new token is one recurrent {@link SequenceModel#step} in constant time and memory.
 *
 * <p>Three ways to consume the output: {@link #generate} returns the result when done and can
 * stream tokens to a {@link TokenListener} meanwhile (return false from it to stop); {@link #stream}
 * gives an {@link java.util.Iterator} / {@link java.util.stream.Stream} that generates as it is
 * pulled; {@link #generateBatch} runs several prompts of different lengths in one batch. A
 * {@link CancellationToken} lets another thread stop a run between two model calls.
 *
 * <p>Generation ends, per sequence, at the end-of-sequence token ({@link #eosTokenId()}), a stop
 * token id, a stop string, or after {@code maxNewTokens}. With sampling, sequence {@code r} of a batch
 * uses the seed {@code seed + r}, so row 0 of a batch matches a single run with the same seed.
 *
 * <p>A generator is immutable and may be shared; each call has its own state.
 */
public final class Generator {

    /** Prompt tokens per prefill call: bounds the activations' memory for long prompts. */
    public static final int DEFAULT_PREFILL_CHUNK = 1024;

    private final SequenceModel model;
    private final Tokenizer tokenizer;
    private final OptionalInt eos;
    private final int prefillChunk;

    /**
     * @param model     the model
     * @param tokenizer decodes the generated text (for the streamed pieces and stop strings); may
     *                  be null to work on token ids alone. Its end-of-sequence token stops generation.
     */
    public Generator(SequenceModel model, Tokenizer tokenizer) {
        this(model, tokenizer, tokenizer == null ? OptionalInt.empty() : tokenizer.eosId(), DEFAULT_PREFILL_CHUNK);
    }

    private Generator(SequenceModel model, Tokenizer tokenizer, OptionalInt eos, int prefillChunk) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = tokenizer;
        this.eos = Objects.requireNonNull(eos, "eos");
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefill chunk must be at least 1 token, got " + prefillChunk);
        }
        this.prefillChunk = prefillChunk;
        if (eos.isPresent() && (eos.getAsInt() < 0 || eos.getAsInt() >= model.config().vocabSize())) {
            throw new IllegalArgumentException("end-of-sequence id " + eos.getAsInt() + " is outside the model's vocabulary [0, "
                    + model.config().vocabSize() + ")");
        }
    }

    /** A generator for token ids alone (no text), stopping at {@code eosTokenId} if present. */
    public static Generator forTokens(SequenceModel model, OptionalInt eosTokenId) {
        return new Generator(model, null, eosTokenId, DEFAULT_PREFILL_CHUNK);
    }

    /** The same generator with another end-of-sequence token (empty: none). */
    public Generator withEosTokenId(OptionalInt eosTokenId) {
        return new Generator(model, tokenizer, eosTokenId, prefillChunk);
    }

    /** The same generator feeding prompts through the model {@code tokens} at a time. */
    public Generator withPrefillChunk(int tokens) {
        return new Generator(model, tokenizer, eos, tokens);
    }

    public SequenceModel model() {
        return model;
    }

    /** The tokenizer, or null. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public OptionalInt eosTokenId() {
        return eos;
    }

    /** Generates a continuation of {@code prompt}. */
    public GenerationResult generate(int[] prompt, SamplingParams params) {
        return generate(prompt, params, TokenListener.none(), null);
    }

    /** Generates a continuation of {@code prompt}, streaming each token to {@code listener}. */
    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener) {
        return generate(prompt, params, listener, null);
    }

    /**
     * Generates a continuation of {@code prompt}, streaming each token to {@code listener}, until it
     * ends or {@code cancel} (may be null) fires.
     */
    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener,
                                     CancellationToken cancel) {
        return generateBatch(new int[][] {prompt}, params, listener, cancel).get(0);
    }

    /** Encodes {@code prompt} with the tokenizer and generates its continuation. */
    public GenerationResult generate(String prompt, SamplingParams params, TokenListener listener) {
        return generate(encode(prompt), params, listener, null);
    }

    /**
     * Generates continuations of several prompts (any lengths) together in one batched state. The
     * listener sees tokens of all sequences ({@link GeneratedToken#row()} tells which); returning
     * false stops that sequence only.
     *
     * @return one result per prompt, in order
     */
    public List<GenerationResult> generateBatch(int[][] prompts, SamplingParams params, TokenListener listener,
                                                CancellationToken cancel) {
        Objects.requireNonNull(listener, "listener");
        try (GenerationSession session = newSession(prompts, params, cancel)) {
            while (session.advance(listener)) {
                // one model call per iteration
            }
            return session.results();
        }
    }

    /**
     * Generation as a lazy iterator: each {@code next()} returns a token, running the model when
     * needed. Close the stream to stop early and free the state.
     */
    public TokenStream stream(int[] prompt, SamplingParams params) {
        return new TokenStream(newSession(new int[][] {prompt}, params, null));
    }

    /** Like {@link #stream(int[], SamplingParams)} for a batch: tokens of all rows interleaved. */
    public TokenStream streamBatch(int[][] prompts, SamplingParams params) {
        return new TokenStream(newSession(prompts, params, null));
    }

    /** The tokenizer's encoding of {@code text}. */
    public int[] encode(String text) {
        if (tokenizer == null) {
            throw new IllegalStateException("this generator has no tokenizer to encode text");
        }
        return tokenizer.encode(text);
    }

    private GenerationSession newSession(int[][] prompts, SamplingParams params, CancellationToken cancel) {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(params, "params");
        return new GenerationSession(model, tokenizer, eos, prompts, params, cancel, prefillChunk);
    }
}
