package org.jmamba.cpu;

import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.kernels.WeightType;

/**
 * One Mamba block (Gu and Dao 2023, figure 3), residual to residual:
 * <pre>
 *   h        = RMSNorm(residual)
 *   x, z     = in_proj(h)                       split along channels
 *   u        = silu(conv1d(x))                  depthwise, causal
 *   Δr, B, C = x_proj(u)
 *   Δ        = dt_proj(Δr)                      without bias: bias and softplus are fused into the scan
 *   g        = scan(u, Δ, A, B, C, D) · silu(z)
 *   residual = residual + out_proj(g)
 * </pre>
 * Two modes: {@link #forward} over [B, L] tokens (training, prompts) and {@link #step} for one token
 * per sequence (generation), which must agree.
 */
public final class MambaBlock {
    private MambaBlock() {
    }

    /** A = -exp(A_log), [D, N]. Models cache it; it only changes when the weights do. */
    public static float[] negExpA(float[] aLog) {
        float[] a = new float[aLog.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) -Math.exp(aLog[i]);
        }
        return a;
    }

    /**
     * Parallel mode over [B, L] tokens; {@code residual} [BT, C] is updated in place.
     *
     * @param A         [D, N] = -exp(A_log)
     * @param act       receives every intermediate (see {@link BlockActivations})
     * @param convState [B, K-1, D] or null: the previous conv inputs, updated to the last K-1 inputs
     * @param ssmState  [B, D, N] or null: the initial SSM state, updated to the last one
     */
    public static void forward(Parallel par, MambaConfig c, LayerWeights w, float[] A, float[] residual,
                               int B, int L, BlockActivations act, float[] convState, float[] ssmState) {
        forward(par, c, w, LayerMatrices.of(c, w, WeightType.F32), A, residual, B, L, act, convState, ssmState);
    }

    /**
     * {@link #forward} with the projections taken from {@code m} (the inference storage type of
     * the model: f32, bf16 or block-int8); everything else from {@code w}.
     */
    public static void forward(Parallel par, MambaConfig c, LayerWeights w, LayerMatrices m, float[] A,
                               float[] residual, int B, int L, BlockActivations act, float[] convState,
                               float[] ssmState) {
        int BT = B * L;
        int C = c.dModel();
        int D = c.dInner();
        int N = c.dState();
        int R = c.dtRank();
        int K = c.dConv();
        int S = c.xProjOut();
        if (act.residualIn != null) {
            System.arraycopy(residual, 0, act.residualIn, 0, BT * C);
        }
        RmsNorm.forward(act.normed, act.rstd, residual, w.norm().data(), BT, C, c.normEps());
        Linear.forward(par, act.xz, act.normed, 0, C, m.inProj(), data(w.inProjBias()), BT);
        CausalConv1d.forward(par, act.convOut, act.xz, 0, 2 * D, w.convWeight().data(), data(w.convBias()),
                convState, B, L, D, K);
        Silu.forward(act.u, act.convOut, BT * D);
        Linear.forward(par, act.dbc, act.u, 0, D, m.xProj(), null, BT);
        Linear.forward(par, act.dt, act.dbc, 0, S, m.dtProj(), null, BT);
        SelectiveScan.forward(par, act.gated, act.y, act.u, act.dt, w.dtBias().data(), A,
                act.dbc, R, act.dbc, R + N, S, w.d().data(), act.xz, D, 2 * D, ssmState, B, L, D, N);
        Linear.forward(par, act.out, act.gated, 0, D, m.outProj(), data(w.outProjBias()), BT);
        for (int i = 0; i < BT * C; i++) {
            residual[i] += act.out[i];
        }
    }

    /**
     * Backward of {@link #forward} (run from a zero state with {@code act.residualIn} recorded).
     * On entry {@code dResidual} [BT, C] holds ∂loss/∂(residual after the block); on return it holds
     * ∂loss/∂(residual before the block). The block's parameter gradients are <em>added</em> into
     * {@code grads}. The steps are the forward's in reverse:
     * <pre>
     *   residual += out_proj(g)        dg = dResidual · W_out; the skip passes dResidual through
     *   g = scan(u, Δ, A, B, C, D, z)  dA, dB, dC, dD, du, dΔ, dz, d dt_bias (recomputing states)
     *   A = -exp(A_log)                dA_log = dA ⊙ A
     *   Δ = dt_proj(Δr)                dΔr, d W_dt
     *   Δr, B, C = x_proj(u)           du += ..., d W_x
     *   u = silu(conv)                 dconv = du ⊙ silu'(conv)
     *   conv = conv1d(x)               dx, d conv weight, d conv bias
     *   x, z = in_proj(h)              dh, d W_in
     *   h = RMSNorm(residual)          dResidual += ∂h/∂residual, d norm weight
     * </pre>
     *
     * @param A       [D, N] = -exp(A_log), as passed to the forward
     * @param act     the forward's activations of this layer
     * @param scratch gradient buffers for the same [B, L], overwritten
     */
    static void backward(Parallel par, MambaConfig c, LayerWeights w, float[] A, BlockActivations act,
                         float[] dResidual, LayerWeights grads, BlockBackwardScratch scratch) {
        if (act.residualIn == null) {
            throw new IllegalArgumentException("backward needs activations recorded with the block's input residual");
        }
        if (scratch.B != act.B || scratch.L != act.L) {
            throw new IllegalArgumentException("scratch is for [" + scratch.B + ", " + scratch.L + "] but activations are ["
                    + act.B + ", " + act.L + "]");
        }
        int B = act.B;
        int L = act.L;
        int BT = B * L;
        int C = c.dModel();
        int D = c.dInner();
        int N = c.dState();
        int R = c.dtRank();
        int K = c.dConv();
        int S = c.xProjOut();
        BlockBackwardScratch s = scratch;
        s.zero();

        Linear.backward(par, s.dGated, grads.outProj().data(), data(grads.outProjBias()), dResidual, act.gated,
                w.outProj().data(), BT, D, C);
        SelectiveScan.backward(par, s.du, s.dDelta, grads.dtBias().data(), s.dA,
                s.dDbc, R, s.dDbc, R + N, S, grads.d().data(), s.dXz, D, 2 * D, s.dGated,
                act.u, act.dt, w.dtBias().data(), A, act.dbc, R, act.dbc, R + N, S, w.d().data(),
                act.xz, D, 2 * D, B, L, D, N);
        float[] dALog = grads.aLog().data();
        for (int i = 0; i < dALog.length; i++) {
            dALog[i] += s.dA[i] * A[i]; // d(-exp(a))/da = -exp(a) = A
        }
        // dt_proj has no bias of its own here: dt_bias is applied inside the scan.
        Linear.backward(par, s.dDbc, 0, S, grads.dtProj().data(), null, s.dDelta, act.dbc, 0, S,
                w.dtProj().data(), BT, R, D);
        Linear.backward(par, s.du, grads.xProj().data(), null, s.dDbc, act.u, w.xProj().data(), BT, D, S);
        float[] dConv = s.dGated; // dead since the scan's backward: reuse it
        java.util.Arrays.fill(dConv, 0f);
        Silu.backward(par, dConv, s.du, act.convOut, BT * D);
        CausalConv1d.backward(par, s.dXz, 0, 2 * D, grads.convWeight().data(), data(grads.convBias()), dConv,
                act.xz, 0, 2 * D, w.convWeight().data(), B, L, D, K);
        Linear.backward(par, s.dNormed, grads.inProj().data(), data(grads.inProjBias()), s.dXz, act.normed,
                w.inProj().data(), BT, C, 2 * D);
        RmsNorm.backward(par, dResidual, grads.norm().data(), s.dNormed, act.residualIn, act.rstd, w.norm().data(), BT, C);
    }

    /**
     * Recurrent mode: one token for each of B sequences; {@code residual} [B, C] is updated in place
     * and both states advance by one token.
     *
     * @param convState [B, K-1, D]
     * @param ssmState  [B, D, N]
     */
    public static void step(Parallel par, MambaConfig c, LayerWeights w, float[] A, float[] residual, int B,
                            StepScratch s, float[] convState, float[] ssmState) {
        int C = c.dModel();
        int D = c.dInner();
        int N = c.dState();
        int R = c.dtRank();
        int S = c.xProjOut();
        RmsNorm.forward(s.normed, null, residual, w.norm().data(), B, C, c.normEps());
        Linear.forward(par, s.xz, s.normed, w.inProj().data(), data(w.inProjBias()), B, C, 2 * D);
        CausalConv1d.step(s.u, s.xz, 0, 2 * D, w.convWeight().data(), data(w.convBias()), convState, B, D, c.dConv());
        Silu.forward(s.u, s.u, B * D);
        Linear.forward(par, s.dbc, s.u, w.xProj().data(), null, B, D, S);
        Linear.forward(par, s.dt, s.dbc, 0, S, w.dtProj().data(), null, B, R, D);
        SelectiveScan.step(par, s.gated, s.u, s.dt, w.dtBias().data(), A, s.dbc, R, s.dbc, R + N, S,
                w.d().data(), s.xz, D, 2 * D, ssmState, B, D, N);
        Linear.forward(par, s.out, s.gated, w.outProj().data(), data(w.outProjBias()), B, D, C);
        for (int i = 0; i < B * C; i++) {
            residual[i] += s.out[i];
        }
    }

    /** Scratch for {@link #step}: one [B, ·] slab per intermediate, reused across layers. */
    public static final class StepScratch {
        final float[] normed;
        final float[] xz;
        final float[] u;
        final float[] dbc;
        final float[] dt;
        final float[] gated;
        final float[] out;

        public StepScratch(MambaConfig c, int B) {
            normed = new float[B * c.dModel()];
            xz = new float[B * 2 * c.dInner()];
            u = new float[B * c.dInner()];
            dbc = new float[B * c.xProjOut()];
            dt = new float[B * c.dInner()];
            gated = new float[B * c.dInner()];
            out = new float[B * c.dModel()];
        }
    }

    static float[] data(org.jmamba.FloatTensor t) {
        return t == null ? null : t.data();
    }
}
