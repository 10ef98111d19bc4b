package org.jmamba.cpu;

import java.util.Arrays;
import org.jmamba.MambaConfig;

/**
 * Gradient buffers of {@link MambaBlock#backward} for one [B, L] pass: one slab per intermediate
 * of the block, reused layer after layer (the gradients of one layer are dead once the next layer
 * down has consumed them). Row r = b*L + t, sizes as in {@link BlockActivations}.
 */
final class BlockBackwardScratch {
    final int B;
    final int L;
    /** [BT, D] ∂/∂(y·silu(z)), the input of out_proj; later reused for ∂/∂(conv output). */
    final float[] dGated;
    /** [BT, D] ∂/∂u (scan input and x_proj input). */
    final float[] du;
    /** [BT, D] ∂/∂Δ before bias and softplus (dt_proj's output). */
    final float[] dDelta;
    /** [BT, S] ∂/∂(x_proj output): Δ low-rank, B, C. */
    final float[] dDbc;
    /** [BT, 2D] ∂/∂(in_proj output): x then z. */
    final float[] dXz;
    /** [BT, C] ∂/∂(norm output). */
    final float[] dNormed;
    /** [D, N] ∂/∂A. */
    final float[] dA;

    BlockBackwardScratch(MambaConfig c, int B, int L) {
        int BT = B * L; // BlockActivations of the same [B, L] has already checked the sizes
        int D = c.dInner();
        this.B = B;
        this.L = L;
        dGated = new float[BT * D];
        du = new float[BT * D];
        dDelta = new float[BT * D];
        dDbc = new float[BT * c.xProjOut()];
        dXz = new float[BT * 2 * D];
        dNormed = new float[BT * c.dModel()];
        dA = new float[D * c.dState()];
    }

    /** Zeroes every buffer: each backward kernel adds into its gradient. */
    void zero() {
        Arrays.fill(dGated, 0f);
        Arrays.fill(du, 0f);
        Arrays.fill(dDelta, 0f);
        Arrays.fill(dDbc, 0f);
        Arrays.fill(dXz, 0f);
        Arrays.fill(dNormed, 0f);
        Arrays.fill(dA, 0f);
    }
}
