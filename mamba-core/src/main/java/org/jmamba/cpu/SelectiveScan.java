package org.jmamba.cpu;

import org.jmamba.kernels.Kernels;

/**
 * The selective scan, fused the way the reference's {@code selective_scan_fn} is: discretisation,
 * the linear recurrence, the D skip connection and the z gate in one pass, per channel, keeping only
 * the current [N] state (never the [B, L, D, N] tensor of all states).
 *
 * <pre>
 *   Δ'_t    = softplus(Δ_t + deltaBias)                      per token and channel
 *   h_t     = exp(Δ'_t · A) ⊙ h_{t-1} + Δ'_t · B_t · u_t      ZOH for A, Euler for B  (h: [N])
 *   y_t     = ⟨h_t, C_t⟩ + D · u_t
 *   out_t   = y_t · silu(z_t)
 * </pre>
 * A = -exp(A_log) is [D, N] and passed in already negated; B_t and C_t are [N] per token, shared by
 * all channels (they come from x_proj). Layout is token-major: u, Δ, out are [B, L, D]; B and C are
 * rows of a wider [B, L, S] buffer read at an offset.
 */
public final class SelectiveScan {
    /** Channels per parallel task: enough work per task, and the block's state fits in L1. */
    private static final int CHANNEL_BLOCK = 32;

    private SelectiveScan() {
    }

    /** softplus with PyTorch's default threshold: above 20 it is the identity to float precision. */
    public static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    /**
     * @param out       [B, L, D] gated output y·silu(z) (y itself when z is null)
     * @param yOut      [B, L, D] or null: receives y before gating (the backward pass of the gate needs it)
     * @param u         [B, L, D] input
     * @param delta     [B, L, D] Δ before bias and softplus
     * @param deltaBias [D] or null
     * @param A         [D, N], negative
     * @param Bm        B_t[n] at {@code bOff + (b*L+t)*bcStride + n}
     * @param Cm        C_t[n] at {@code cOff + (b*L+t)*bcStride + n}
     * @param Dskip     [D] or null
     * @param z         z[b,t,d] at {@code zOff + (b*L+t)*zStride + d}, or null for no gate
     * @param state     [B, D, N] or null. If given it is the initial state and receives the last one
     *                  (recurrent continuation, prefill); if null the scan starts from zero.
     */
    public static void forward(Parallel par, float[] out, float[] yOut, float[] u, float[] delta, float[] deltaBias,
                               float[] A, float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                               float[] z, int zOff, int zStride, float[] state, int B, int L, int D, int N) {
        int blocks = (D + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        // Threads take blocks of channels of a sequence; each thread's run of blocks within one
        // sequence is one call of the kernel (vectorised across channels, see Kernels.scan).
        par.parallelFor(B * blocks, (long) L * CHANNEL_BLOCK * N * 4, (i0, i1) -> {
            int i = i0;
            while (i < i1) {
                int b = i / blocks;
                int last = Math.min(i1, (b + 1) * blocks); // blocks [i, last) belong to sequence b
                int d0 = (i % blocks) * CHANNEL_BLOCK;
                int d1 = Math.min(D, (last - b * blocks) * CHANNEL_BLOCK);
                int row = b * L;
                Kernels.scan(out, yOut, row * D, u, delta, deltaBias, A, Bm, bOff + row * bcStride,
                        Cm, cOff + row * bcStride, bcStride, Dskip, z, zOff + row * zStride, zStride,
                        state, b * D * N, L, D, N, d0, d1);
                i = last;
            }
        });
    }

    /** Time steps per recomputation chunk of {@link #backward}; its [chunk, block, N] buffers stay in L2. */
    static final int BACKWARD_CHUNK = 64;
    /** At most this many channel groups in {@link #backward}, each with its own [BT, 2N] dB, dC partials. */
    private static final int MAX_BACKWARD_GROUPS = 8;

    /**
     * Backward of {@link #forward} from a zero initial state, with no gradient on the final state.
     * Given {@code dout = ∂loss/∂out} it <em>adds</em> ∂loss/∂ of every input into the gradients.
     *
     * <p>Per channel, with Δ'_t = softplus(Δ_t + bias), e_t = exp(Δ'_t·A) and g_t = ∂loss/∂h_t:
     * <pre>
     *   dy_t  = dout_t · silu(z_t)                dz_t += dout_t · y_t · silu'(z_t)
     *   g_t   = dy_t · C_t + e_{t+1} ⊙ g_{t+1}    (g_L = 0: the reverse recurrence)
     *   dC_t += dy_t · h_t                        dB_t += g_t · Δ'_t·u_t
     *   du_t += dy_t · D + Δ'_t · ⟨g_t, B_t⟩      dD   += dy_t · u_t
     *   dA   += g_t ⊙ e_t ⊙ h_{t-1} · Δ'_t
     *   dΔ'_t = ⟨g_t ⊙ e_t ⊙ h_{t-1}, A⟩ + u_t · ⟨g_t, B_t⟩
     *   dΔ_t += dΔ'_t · sigmoid(Δ_t + bias)       dbias += the same
     * </pre>
     * The reverse pass needs h_{t-1} and h_t, which the forward never stored ([B, L, D, N] is what
     * the fused scan exists to avoid). They are recomputed: a first pass runs the recurrence and
     * keeps h only at every {@value #BACKWARD_CHUNK}-th step; then the chunks are walked from the
     * last to the first, each chunk's states (and e_t, Δ'_t, y_t) are recomputed from its saved
     * boundary state into a chunk-sized buffer, and the reverse recurrence runs through it. The
     * scalar path recomputes with the forward's exact expressions (its states are the forward's bit
     * for bit); where the Vector API is present the same algorithm runs vectorised across channels
     * ({@link ScanBackwardVector}, about 4x faster), rounding slightly differently. Memory beyond the gradients: per thread, for one block of {@value #CHANNEL_BLOCK} channels,
     * the boundary states (L/chunk · N each), one chunk of states (chunk · N) and Δ' (L); plus
     * [groups, B·L, 2N] partial sums of dB and dC — nothing of size B·L·D·N.
     *
     * <p>B_t and C_t are shared by all channels, so dB and dC are sums over channels: the channels
     * are split into at most {@value #MAX_BACKWARD_GROUPS} groups fixed by D alone, each group sums
     * its channels in order into its own partial rows, and the groups are added in order at the end;
     * dA, dD and dbias are summed over the batch in order. The result is therefore the same for any
     * thread count, bit for bit.
     *
     * @param du         [B, L, D]
     * @param dDelta     [B, L, D] gradient of Δ before the bias and softplus
     * @param dDeltaBias [D] or null to skip
     * @param dA         [D, N] gradient of A itself (A_log's is dA · A)
     * @param dBm        dB_t[n] at {@code dbOff + (b*L+t)*dbcStride + n}
     * @param dCm        dC_t[n] at {@code dcOff + (b*L+t)*dbcStride + n}
     * @param dDskip     [D] or null to skip
     * @param dz         dz[b,t,d] at {@code dzOff + (b*L+t)*dzStride + d}, or null to skip
     * @param dout       [B, L, D] ∂loss/∂out
     * @param u          the forward's arguments, same layouts as in {@link #forward}
     */
    public static void backward(Parallel par, float[] du, float[] dDelta, float[] dDeltaBias, float[] dA,
                                float[] dBm, int dbOff, float[] dCm, int dcOff, int dbcStride, float[] dDskip,
                                float[] dz, int dzOff, int dzStride, float[] dout,
                                float[] u, float[] delta, float[] deltaBias, float[] A,
                                float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                                float[] z, int zOff, int zStride, int B, int L, int D, int N) {
        backward(VECTOR_LANES > 0, par, du, dDelta, dDeltaBias, dA, dBm, dbOff, dCm, dcOff, dbcStride, dDskip,
                dz, dzOff, dzStride, dout, u, delta, deltaBias, A, Bm, bOff, Cm, cOff, bcStride, Dskip,
                z, zOff, zStride, B, L, D, N);
    }

    /**
     * Lanes of the SIMD backward ({@link ScanBackwardVector}), or 0 when it is not used: the Vector
     * API is absent or disabled ({@code -Djmamba.vector=false}), or its vectors are wider than a block.
     */
    static final int VECTOR_LANES = Kernels.simd() && ScanBackwardVector.LANES <= CHANNEL_BLOCK
            ? ScanBackwardVector.LANES : 0;

    /** {@link #backward} with the SIMD path chosen explicitly (tests compare the two). */
    static void backward(boolean vector, Parallel par, float[] du, float[] dDelta, float[] dDeltaBias, float[] dA,
                         float[] dBm, int dbOff, float[] dCm, int dcOff, int dbcStride, float[] dDskip,
                         float[] dz, int dzOff, int dzStride, float[] dout,
                         float[] u, float[] delta, float[] deltaBias, float[] A,
                         float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                         float[] z, int zOff, int zStride, int B, int L, int D, int N) {
        if (vector && VECTOR_LANES == 0) {
            throw new IllegalStateException("the SIMD scan backward is not available in this JVM");
        }
        int BT = B * L;
        int blocks = (D + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        int groups = Math.min(MAX_BACKWARD_GROUPS, blocks);
        long partial = (long) groups * BT * 2 * N;
        if (partial > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("scan backward: batch " + B + " x length " + L + " is too large for one pass");
        }
        float[] partBC = new float[(int) partial];  // [group][row][B's N | C's N]
        double[] accA = new double[B * D * N];      // [b][d][n]: each task owns its (b, channels) slice
        double[] accD = new double[B * D];
        double[] accBias = new double[B * D];
        par.parallelFor(B * groups, (long) L * ((D + groups - 1) / groups) * N * 24, (i0, i1) -> {
            ScanBackwardScratch s = new ScanBackwardScratch(L, N);
            for (int i = i0; i < i1; i++) {
                int b = i / groups;
                int grp = i % groups;
                // Groups are whole blocks, so every block but the last is full width.
                for (int blk = blocks * grp / groups; blk < blocks * (grp + 1) / groups; blk++) {
                    int d0 = blk * CHANNEL_BLOCK;
                    int d1 = Math.min(D, d0 + CHANNEL_BLOCK);
                    int dv = d0;
                    if (vector) {
                        dv = d0 + (d1 - d0) / VECTOR_LANES * VECTOR_LANES;
                        if (dv > d0) {
                            ScanBackwardVector.block(s, b, d0, dv, grp * BT, partBC, accA, accD, accBias,
                                    du, dDelta, dz, dzOff, dzStride, dout, u, delta, deltaBias, A, Bm, bOff, Cm, cOff,
                                    bcStride, Dskip, z, zOff, zStride, L, D, N);
                        }
                    }
                    if (dv < d1) {
                        backwardBlock(s, b, dv, d1, grp * BT, partBC, accA, accD, accBias,
                                du, dDelta, dz, dzOff, dzStride, dout, u, delta, deltaBias, A, Bm, bOff, Cm, cOff,
                                bcStride, Dskip, z, zOff, zStride, L, D, N);
                    }
                }
            }
        });
        // dB, dC: add the groups' partial rows in group order.
        par.parallelFor(BT, (long) groups * 2 * N, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int n = 0; n < N; n++) {
                    float sb = 0f;
                    float sc = 0f;
                    for (int g = 0; g < groups; g++) {
                        int p = ((g * BT) + r) * 2 * N + n;
                        sb += partBC[p];
                        sc += partBC[p + N];
                    }
                    dBm[dbOff + r * dbcStride + n] += sb;
                    dCm[dcOff + r * dbcStride + n] += sc;
                }
            }
        });
        // Per-channel parameters: add the batch rows in order.
        for (int dn = 0; dn < D * N; dn++) {
            double sum = 0;
            for (int b = 0; b < B; b++) {
                sum += accA[b * D * N + dn];
            }
            dA[dn] += (float) sum;
        }
        for (int d = 0; d < D; d++) {
            double sd = 0;
            double sb = 0;
            for (int b = 0; b < B; b++) {
                sd += accD[b * D + d];
                sb += accBias[b * D + d];
            }
            if (dDskip != null) {
                dDskip[d] += (float) sd;
            }
            if (dDeltaBias != null) {
                dDeltaBias[d] += (float) sb;
            }
        }
    }

    /** Per-thread buffers of {@link #backward}, allocated once per task range, reused by every block. */
    static final class ScanBackwardScratch {
        final float[] g;        // [block, N] e_{t+1} ⊙ g_{t+1}, carried backwards across chunks
        final float[] ckpt;     // [chunks, block, N] h just before each chunk starts
        final float[] hs;       // [chunk + 1, block, N] h_{t0-1} .. h_{t1-1} of the current chunk
        final float[] es;       // [chunk, block, N] e_t = exp(Δ'_t · A)
        final float[] dts;      // [L, block] Δ'_t for the whole sequence: softplus is costly, compute it once
        final float[] ys;       // [chunk, block] y_t before the gate
        final float[] state;    // [block, N] forward state of the first pass
        // Used by the SIMD path only (ScanBackwardVector):
        final float[] at;        // [N, block] A transposed
        final float[] chunkA;    // [N, block] this chunk's dA, folded into the double sums per chunk
        final float[] chunkD;    // [block] likewise dD
        final float[] chunkBias; // [block] likewise d dt_bias
        final float[] pAcc;      // [2N, lanes] per-lane partial dB_t, dC_t
        final float[] tmp;       // [N, block] exp arguments of one step
        final float[] sigZ;      // [block] sigmoid(z_t)
        final float[] sigV;      // [block] sigmoid(Δ_t + bias)

        ScanBackwardScratch(int L, int N) {
            int bn = CHANNEL_BLOCK * N;
            int chunks = (L + BACKWARD_CHUNK - 1) / BACKWARD_CHUNK;
            g = new float[bn];
            state = new float[bn];
            ckpt = new float[chunks * bn];
            hs = new float[(BACKWARD_CHUNK + 1) * bn];
            es = new float[BACKWARD_CHUNK * bn];
            dts = new float[L * CHANNEL_BLOCK];
            ys = new float[BACKWARD_CHUNK * CHANNEL_BLOCK];
            at = new float[bn];
            chunkA = new float[bn];
            chunkD = new float[CHANNEL_BLOCK];
            chunkBias = new float[CHANNEL_BLOCK];
            pAcc = new float[2 * N * CHANNEL_BLOCK];
            tmp = new float[bn];
            sigZ = new float[CHANNEL_BLOCK];
            sigV = new float[CHANNEL_BLOCK];
        }
    }

    /** The backward pass of one sequence b over channels [d0, d1), one block: see {@link #backward}. */
    private static void backwardBlock(ScanBackwardScratch s, int b, int d0, int d1, int partRow0, float[] partBC,
                                      double[] accA, double[] accD, double[] accBias,
                                      float[] du, float[] dDelta, float[] dz, int dzOff, int dzStride, float[] dout,
                                      float[] u, float[] delta, float[] deltaBias, float[] A,
                                      float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                                      float[] z, int zOff, int zStride, int L, int D, int N) {
        final int T = BACKWARD_CHUNK;
        final int bw = d1 - d0;
        final int bn = bw * N;
        final int chunks = (L + T - 1) / T;
        final int N2 = 2 * N;
        float[] h = s.state;
        float[] ckpt = s.ckpt;
        float[] hs = s.hs;
        float[] es = s.es;
        float[] dts = s.dts;
        float[] ys = s.ys;
        float[] g = s.g;

        // Pass 1: the forward recurrence, keeping only the state at each chunk start (and Δ').
        java.util.Arrays.fill(h, 0, bn, 0f);
        int lastStart = (chunks - 1) * T;
        for (int t = 0; t < L; t++) {
            int row = b * L + t;
            for (int d = d0; d < d1; d++) {
                int idx = row * D + d;
                dts[t * bw + d - d0] = softplus(delta[idx] + (deltaBias != null ? deltaBias[d] : 0f));
            }
        }
        for (int t = 0; t < lastStart; t++) {
            if (t % T == 0) {
                System.arraycopy(h, 0, ckpt, (t / T) * bn, bn);
            }
            int row = b * L + t;
            int bc = row * bcStride;
            for (int d = d0; d < d1; d++) {
                int idx = row * D + d;
                float dt = dts[t * bw + d - d0];
                float dtu = dt * u[idx];
                int hOff = (d - d0) * N;
                int aOff = d * N;
                for (int n = 0; n < N; n++) {
                    h[hOff + n] = (float) Math.exp(dt * A[aOff + n]) * h[hOff + n] + dtu * Bm[bOff + bc + n];
                }
            }
        }
        System.arraycopy(h, 0, ckpt, (chunks - 1) * bn, bn);

        // Pass 2: chunks from last to first; g carries e_{t+1} ⊙ g_{t+1} across chunk boundaries.
        java.util.Arrays.fill(g, 0, bn, 0f);
        for (int c = chunks - 1; c >= 0; c--) {
            int t0 = c * T;
            int len = Math.min(L, t0 + T) - t0;
            // Recompute this chunk: hs slot 0 is h_{t0-1}, slot k+1 is h_{t0+k}.
            System.arraycopy(ckpt, c * bn, hs, 0, bn);
            for (int k = 0; k < len; k++) {
                int row = b * L + t0 + k;
                int bc = row * bcStride;
                for (int d = d0; d < d1; d++) {
                    int dd = d - d0;
                    int idx = row * D + d;
                    float uu = u[idx];
                    float dt = dts[(t0 + k) * bw + dd];
                    float dtu = dt * uu;
                    int prev = (k * bw + dd) * N;
                    int cur = prev + bn;
                    int aOff = d * N;
                    float acc = 0f;
                    for (int n = 0; n < N; n++) {
                        float e = (float) Math.exp(dt * A[aOff + n]);
                        float hn = e * hs[prev + n] + dtu * Bm[bOff + bc + n];
                        es[prev + n] = e;
                        hs[cur + n] = hn;
                        acc += hn * Cm[cOff + bc + n];
                    }
                    ys[k * bw + dd] = acc + (Dskip != null ? Dskip[d] * uu : 0f);
                }
            }
            // The reverse recurrence through the chunk.
            for (int k = len - 1; k >= 0; k--) {
                int row = b * L + t0 + k;
                int bc = row * bcStride;
                int pB = (partRow0 + row) * N2;
                int pC = pB + N;
                for (int d = d0; d < d1; d++) {
                    int dd = d - d0;
                    int idx = row * D + d;
                    float go = dout[idx];
                    float dy = go;
                    if (z != null) {
                        // silu(z) = z·σ(z), silu'(z) = σ(z)·(1 + z·(1 − σ(z))): one exp for both.
                        float zz = z[zOff + row * zStride + d];
                        double sig = 1.0 / (1.0 + Math.exp(-zz));
                        dy = go * (float) (zz * sig);
                        if (dz != null) {
                            dz[dzOff + row * dzStride + d] += go * ys[k * bw + dd] * (float) (sig * (1.0 + zz * (1.0 - sig)));
                        }
                    }
                    float uu = u[idx];
                    float dt = dts[(t0 + k) * bw + dd];
                    float dtu = dt * uu;
                    int prev = (k * bw + dd) * N; // h_{t-1} in hs and e_t in es
                    int cur = prev + bn;            // h_t in hs
                    int gOff = dd * N;
                    int aOff = d * N;
                    int accOff = (b * D + d) * N;
                    float sumGB = 0f;
                    float sumX = 0f;
                    for (int n = 0; n < N; n++) {
                        float gn = g[gOff + n] + dy * Cm[cOff + bc + n];
                        float e = es[prev + n];
                        float x = gn * e * hs[prev + n];   // ∂loss/∂(Δ'·A[n])
                        accA[accOff + n] += x * dt;
                        sumX += x * A[aOff + n];
                        sumGB += gn * Bm[bOff + bc + n];
                        partBC[pB + n] += gn * dtu;
                        partBC[pC + n] += dy * hs[cur + n];
                        g[gOff + n] = gn * e;
                    }
                    float ddt = sumX + sumGB * uu;
                    du[idx] += (Dskip != null ? dy * Dskip[d] : 0f) + dt * sumGB;
                    if (Dskip != null) {
                        accD[b * D + d] += dy * uu;
                    }
                    // softplus'(v) = sigmoid(v); above the threshold softplus is the identity.
                    float v = delta[idx] + (deltaBias != null ? deltaBias[d] : 0f);
                    float dv = v > 20f ? ddt : (float) (ddt / (1.0 + Math.exp(-v)));
                    dDelta[idx] += dv;
                    accBias[b * D + d] += dv;
                }
            }
        }
    }

    /**
     * One token per sequence (recurrent mode), advancing {@code state} in place; the same math as
     * {@link #forward} with L = 1, written for a [B, D] slab of inputs.
     *
     * @param out   [B, D]
     * @param u     [B, D]
     * @param delta [B, D] Δ before bias and softplus
     * @param Bm    B[b][n] at {@code bOff + b*bcStride + n}; likewise Cm
     * @param z     z[b,d] at {@code zOff + b*zStride + d}, or null
     * @param state [B, D, N], updated in place
     */
    public static void step(Parallel par, float[] out, float[] u, float[] delta, float[] deltaBias, float[] A,
                            float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                            float[] z, int zOff, int zStride, float[] state, int B, int D, int N) {
        par.parallelFor(B * D, (long) N * 4, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int b = i / D;
                int d = i % D;
                float uu = u[i];
                float dt = softplus(delta[i] + (deltaBias != null ? deltaBias[d] : 0f));
                int s = i * N;
                int bc = b * bcStride;
                float acc = 0f;
                for (int n = 0; n < N; n++) {
                    float hn = (float) Math.exp(dt * A[d * N + n]) * state[s + n] + dt * uu * Bm[bOff + bc + n];
                    state[s + n] = hn;
                    acc += hn * Cm[cOff + bc + n];
                }
                float y = acc + (Dskip != null ? Dskip[d] * uu : 0f);
                out[i] = z != null ? y * Silu.silu(z[zOff + b * zStride + d]) : y;
            }
        });
    }
}
