package org.jmamba;

/**
 * The architecture of a Mamba-1 language model. Immutable; validated on construction.
 *
 * <p>Names follow the paper and {@code mamba_ssm}: {@code dInner = expand * dModel} (unless a
 * checkpoint states it), {@code dState} is N, {@code dConv} is the causal conv width K and
 * {@code dtRank} is R, the rank of the Δ projection. {@code vocabSize} is the size of the embedding
 * matrix, i.e. already padded the way the checkpoint's layout pads it.
 *
 * @param dModel         width of the residual stream
 * @param nLayer         number of Mamba blocks
 * @param vocabSize      rows of the embedding (and of the head)
 * @param dState         N, the SSM state size per channel
 * @param dConv          K, the depthwise causal convolution width
 * @param dInner         channels of the SSM (expand x dModel in released models)
 * @param dtRank         R, rank of the low-rank Δ projection
 * @param projBias       whether in_proj and out_proj have biases ({@code use_bias} / {@code ssm_cfg.bias})
 * @param convBias       whether conv1d has a bias
 * @param normEps        RMSNorm epsilon
 * @param residualInFp32 whether the residual stream is kept in fp32 (always true on the CPU path)
 * @param tieEmbeddings  whether the head reuses the embedding matrix
 */
public record MambaConfig(
        int dModel,
        int nLayer,
        int vocabSize,
        int dState,
        int dConv,
        int dInner,
        int dtRank,
        boolean projBias,
        boolean convBias,
        double normEps,
        boolean residualInFp32,
        boolean tieEmbeddings) {

    public MambaConfig {
        requirePositive("dModel", dModel);
        requirePositive("nLayer", nLayer);
        requirePositive("vocabSize", vocabSize);
        requirePositive("dState", dState);
        requirePositive("dConv", dConv);
        requirePositive("dInner", dInner);
        requirePositive("dtRank", dtRank);
        if (!(normEps > 0) || Double.isInfinite(normEps)) {
            throw new IllegalArgumentException("normEps must be a positive finite number, got " + normEps);
        }
        // Products that size arrays must fit in an int index: reject absurd configs up front
        // instead of failing later with a huge allocation.
        checkFits("vocabSize * dModel", (long) vocabSize * dModel);
        checkFits("2 * dInner * dModel", 2L * dInner * dModel);
        checkFits("dInner * dState", (long) dInner * dState);
    }

    /** The reference's {@code dt_rank = "auto"}: {@code ceil(dModel / 16)}. */
    public static int autoDtRank(int dModel) {
        return (dModel + 15) / 16;
    }

    /**
     * A config with the reference's defaults for everything but the sizes: expand 2, auto dt rank,
     * no projection bias, conv bias, eps 1e-5, fp32 residual, tied embeddings.
     */
    public static MambaConfig of(int dModel, int nLayer, int vocabSize, int dState, int dConv) {
        return new MambaConfig(dModel, nLayer, vocabSize, dState, dConv, 2 * dModel, autoDtRank(dModel),
                false, true, 1e-5, true, true);
    }

    /** Width of {@code x_proj}'s output: Δ (low rank), B and C. */
    public int xProjOut() {
        return dtRank + 2 * dState;
    }

    /** Total number of trainable scalars (the head counts once when tied). */
    public long parameterCount() {
        long perLayer = dModel                                  // norm
                + 2L * dInner * dModel + (projBias ? 2L * dInner : 0) // in_proj
                + (long) dInner * dConv + (convBias ? dInner : 0)      // conv1d
                + (long) xProjOut() * dInner                         // x_proj
                + (long) dInner * dtRank + dInner                    // dt_proj (always biased)
                + (long) dInner * dState + dInner                    // A_log, D
                + (long) dModel * dInner + (projBias ? dModel : 0);  // out_proj
        long total = (long) vocabSize * dModel + perLayer * nLayer + dModel;
        if (!tieEmbeddings) {
            total += (long) vocabSize * dModel;
        }
        return total;
    }

    private static void requirePositive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    private static void checkFits(String what, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(what + " = " + n + " elements is too large for one tensor");
        }
    }
}
