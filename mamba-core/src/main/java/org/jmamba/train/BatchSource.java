package org.jmamba.train;

/**
 * Where training batches come from. A source is a pure function of the generator it is given: all
 * randomness comes from {@code rng}, so that a trainer that saves and restores its generator
 * resumes with exactly the batches an uninterrupted run would have seen.
 */
public interface BatchSource {

    /** Draws one micro-batch. */
    Batch next(Rng rng);

    /** Vocabulary the batches use (every token id is below this). */
    int vocabSize();

    /** Sequences per micro-batch. */
    int batchSize();

    /** Tokens per sequence. */
    int seqLen();
}
