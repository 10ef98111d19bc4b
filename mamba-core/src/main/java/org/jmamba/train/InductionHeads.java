package org.jmamba.train;

/**
 * Induction heads (Olsson et al. 2022; Mamba paper Section 4.1.2, Table 2 and Figure 4), in the
 * form of the H3/safari generator the paper's experiment builds on: a sequence of random content
 * tokens contains one special trigger token at a random place; the sequence ends with the trigger
 * again and the model must predict the token that followed the first trigger.
 *
 * <pre>
 *   tokens:  c c c c T a c c c c ... c c T      (T = trigger, a = the answer, c = random content)
 *   scored:  only the last position, target a
 * </pre>
 * Vocabulary: {@code vocabSize} tokens, the last one ({@code vocabSize - 1}) the trigger, the others
 * content drawn uniformly (the paper: vocabulary 16). The first trigger's position is uniform over
 * every place that leaves its answer before the final trigger, so at test lengths up to 2^20 the
 * answer may lie a million tokens back.
 */
public final class InductionHeads implements SyntheticTask {
    private final int vocabSize;

    public InductionHeads(int vocabSize) {
        if (vocabSize < 3) {
            throw new IllegalArgumentException("induction heads needs a vocabulary of at least 3 tokens, got " + vocabSize);
        }
        this.vocabSize = vocabSize;
    }

    /** The paper's setting: vocabulary 16 (15 content tokens and the trigger). */
    public static InductionHeads paper() {
        return new InductionHeads(16);
    }

    @Override
    public String name() {
        return "induction";
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** The trigger token. */
    public int trigger() {
        return vocabSize - 1;
    }

    @Override
    public int minLength() {
        return 3;
    }

    @Override
    public Example sample(int length, Rng rng) {
        if (length < minLength()) {
            throw new IllegalArgumentException("induction heads needs length >= 3, got " + length);
        }
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = rng.nextInt(vocabSize - 1);
        }
        int p = rng.nextInt(length - 2); // first trigger in [0, length-3]; its answer at p+1 <= length-2
        tokens[p] = trigger();
        tokens[length - 1] = trigger();
        return new Example(tokens, new int[] {length - 1}, new int[] {tokens[p + 1]});
    }
}
