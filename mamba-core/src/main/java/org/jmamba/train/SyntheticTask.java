package org.jmamba.train;

/**
 * A synthetic sequence task of the Mamba paper (Section 4.1): examples of any supported length,
 * generated from a {@link Rng}, scored at their answer positions.
 */
public interface SyntheticTask {

    /** Short name ({@code induction}, {@code selective-copying}). */
    String name();

    /** Tokens used, special ones included. */
    int vocabSize();

    /** Shortest sequence length the task can generate. */
    int minLength();

    /** One example of exactly {@code length} tokens. */
    Example sample(int length, Rng rng);

    /** Parses a task name as the CLI spells it. */
    static SyntheticTask byName(String name) {
        return switch (name) {
            case "induction", "induction-heads" -> InductionHeads.paper();
            case "selective-copying", "selective-copy" -> SelectiveCopying.paper();
            default -> throw new IllegalArgumentException("unknown task '" + name
                    + "' (known: induction, selective-copying)");
        };
    }

    /** A training source: batches of {@code batchSize} fresh examples of {@code seqLen} tokens. */
    default BatchSource source(int batchSize, int seqLen) {
        SyntheticTask task = this;
        if (seqLen < minLength()) {
            throw new IllegalArgumentException(name() + " needs sequences of at least " + minLength()
                    + " tokens, got " + seqLen);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        return new BatchSource() {
            @Override
            public Batch next(Rng rng) {
                int[][] in = new int[batchSize][];
                int[][] tg = new int[batchSize][];
                for (int b = 0; b < batchSize; b++) {
                    Example e = task.sample(seqLen, rng);
                    in[b] = e.tokens();
                    tg[b] = e.targets();
                }
                return new Batch(in, tg);
            }

            @Override
            public int vocabSize() {
                return task.vocabSize();
            }

            @Override
            public int batchSize() {
                return batchSize;
            }

            @Override
            public int seqLen() {
                return seqLen;
            }
        };
    }
}
