package org.jmamba.cpu;

import org.jmamba.MambaConfig;

/**
 * Everything one Mamba block computes on its way from residual to residual over [B, L] tokens,
 * kept so that the backward pass need not redo the forward (except the scan's states, which are
 * [B, L, D, N] and are recomputed instead of stored). Row r = b*L + t. Sizes: C = dModel,
 * D = dInner, S = dtRank + 2*dState.
 *
 * <p>At inference one instance is scratch space reused layer after layer ({@link #residualIn} null);
 * for training there is one per layer, with {@link #residualIn} saved.
 */
public final class BlockActivations {
    public final int B;
    public final int L;
    /** [BT, C] the residual stream entering the block (input of the norm); null when not recorded. */
    public final float[] residualIn;
    /** [BT] 1/rms of each row of residualIn. */
    public final float[] rstd;
    /** [BT, C] RMSNorm output, the input of in_proj. */
    public final float[] normed;
    /** [BT, 2D] in_proj output: columns [0, D) are x, [D, 2D) are the gate z. */
    public final float[] xz;
    /** [BT, D] causal conv output before SiLU. */
    public final float[] convOut;
    /** [BT, D] u = silu(convOut), the input of x_proj and of the scan. */
    public final float[] u;
    /** [BT, S] x_proj output: columns [0, R) are Δ low-rank, [R, R+N) are B, [R+N, R+2N) are C. */
    public final float[] dbc;
    /** [BT, D] dt_proj(Δ low-rank) without its bias (the bias and softplus happen inside the scan). */
    public final float[] dt;
    /** [BT, D] scan output y before gating. */
    public final float[] y;
    /** [BT, D] y · silu(z), the input of out_proj. */
    public final float[] gated;
    /** [BT, C] out_proj output, added to the residual. */
    public final float[] out;

    public BlockActivations(MambaConfig c, int B, int L, boolean recordResidual) {
        long bt = (long) B * L;
        long widest = bt * Math.max(2L * c.dInner(), Math.max(c.dModel(), c.xProjOut()));
        if (widest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch " + B + " x length " + L + " is too large for one pass");
        }
        int BT = (int) bt;
        int C = c.dModel();
        int D = c.dInner();
        this.B = B;
        this.L = L;
        this.residualIn = recordResidual ? new float[BT * C] : null;
        this.rstd = new float[BT];
        this.normed = new float[BT * C];
        this.xz = new float[BT * 2 * D];
        this.convOut = new float[BT * D];
        this.u = new float[BT * D];
        this.dbc = new float[BT * c.xProjOut()];
        this.dt = new float[BT * D];
        this.y = new float[BT * D];
        this.gated = new float[BT * D];
        this.out = new float[BT * C];
    }
}
