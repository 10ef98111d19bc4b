package org.jmamba.kernels;

import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.HALVES;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorLanes.UPPER;
import static org.jmamba.kernels.VectorLanes.X1;
import static org.jmamba.kernels.VectorLanes.X16;
import static org.jmamba.kernels.VectorLanes.X2;
import static org.jmamba.kernels.VectorLanes.X4;
import static org.jmamba.kernels.VectorLanes.X8;
import static org.jmamba.kernels.VectorLanes.ZERO;
import static org.jmamba.kernels.VectorLanes.silu;
import static org.jmamba.kernels.VectorLanes.stage;
import static org.jmamba.kernels.VectorLanes.unstage;

import jdk.incubator.vector.FloatVector;

/**
 * The SIMD selective scan: over a sequence (prefill, training), with lanes across channels, and the
 * decode step of one token, with lanes along the state. Same signatures and results (up to
 * rounding) as {@link ScalarKernels}; called through {@link Kernels}.
 */
final class VectorScan {
    private VectorScan() {
    }

    /*
     * The scans are split into passes (softplus of Δ, the recurrence, the gate), each its own
     * method: one method holding every exp, log and division would outgrow the JIT's inlining
     * budget, and a vector operation left as a call costs an object per vector.
     */

    /** softplus, with PyTorch's threshold (identity above 20, where it is exact in float). */
    private static FloatVector softplus(FloatVector x) {
        return VectorMath.softplus(x);
    }

    /**
     * Lanes run across channels: a block of LANES channels shares B_t and C_t (broadcast), so the
     * update of each state row h[n] is three vector FMAs and one vector exp, with no horizontal sums.
     * The block's state [N][LANES] and A (transposed to [N][LANES]) live in small L1-resident arrays.
     */
    static void scan(float[] out, float[] yOut, int off, float[] u, float[] delta, float[] deltaBias,
                     float[] A, float[] bm, int bOff, float[] cm, int cOff, int bcStride, float[] dSkip,
                     float[] z, int zOff, int zStride, float[] state, int stateOff,
                     int L, int D, int N, int d0, int d1) {
        float[] h = new float[N * LANES];
        float[] at = new float[N * LANES];
        float[] dt = new float[L * LANES];
        float[] biasArr = deltaBias != null ? deltaBias : ZERO;
        float[] skipArr = dSkip != null ? dSkip : ZERO;
        for (int d = d0; d < d1; d += LANES) {
            int valid = Math.min(LANES, d1 - d);
            java.util.Arrays.fill(h, 0f);
            java.util.Arrays.fill(at, 0f);
            for (int j = 0; j < valid; j++) {
                for (int n = 0; n < N; n++) {
                    at[n * LANES + j] = A[(d + j) * N + n];
                    h[n * LANES + j] = state != null ? state[stateOff + (d + j) * N + n] : 0f;
                }
            }
            if (valid == LANES) {
                scanDelta(dt, delta, off + d, D, biasArr, deltaBias != null ? d : 0, L);
                scanBlock(out, yOut, off + d, D, u, dt, at, h, bm, bOff, cm, cOff, bcStride,
                        skipArr, dSkip != null ? d : 0, L, N);
                if (z != null) {
                    gateRows(out, off + d, D, z, zOff + d, zStride, L);
                }
            } else {
                // A partial block: the same code on a zero-padded copy of its channels.
                float[] us = stage(u, off + d, D, L, valid);
                float[] ds = stage(delta, off + d, D, L, valid);
                float[] bs = stage(biasArr, deltaBias != null ? d : 0, 0, 1, valid);
                float[] ks = stage(skipArr, dSkip != null ? d : 0, 0, 1, valid);
                float[] os = new float[L * LANES];
                float[] ys = yOut != null ? new float[L * LANES] : null;
                scanDelta(dt, ds, 0, LANES, bs, 0, L);
                scanBlock(os, ys, 0, LANES, us, dt, at, h, bm, bOff, cm, cOff, bcStride, ks, 0, L, N);
                if (z != null) {
                    gateRows(os, 0, LANES, stage(z, zOff + d, zStride, L, valid), 0, LANES, L);
                }
                unstage(os, out, off + d, D, L, valid);
                if (yOut != null) {
                    unstage(ys, yOut, off + d, D, L, valid);
                }
            }
            if (state != null) {
                for (int j = 0; j < valid; j++) {
                    for (int n = 0; n < N; n++) {
                        state[stateOff + (d + j) * N + n] = h[n * LANES + j];
                    }
                }
            }
        }
    }

    /** dt[t][lane] = softplus(delta[i0 + t*ld + lane] + bias[bi + lane]) for a block of channels. */
    private static void scanDelta(float[] dt, float[] delta, int i0, int ld, float[] bias, int bi, int L) {
        FloatVector b = FloatVector.fromArray(F, bias, bi);
        for (int t = 0; t < L; t++) {
            softplus(FloatVector.fromArray(F, delta, i0 + t * ld).add(b)).intoArray(dt, t * LANES);
        }
    }

    /** The recurrence of one block of channels over L tokens; out (and yOut) receive y. */
    private static void scanBlock(float[] out, float[] yOut, int i0, int ld, float[] u, float[] dt, float[] at,
                                  float[] h, float[] bm, int bOff, float[] cm, int cOff, int bcStride,
                                  float[] skip, int ki, int L, int N) {
        FloatVector sk = FloatVector.fromArray(F, skip, ki);
        for (int t = 0; t < L; t++) {
            int i = i0 + t * ld;
            FloatVector uu = FloatVector.fromArray(F, u, i);
            FloatVector dtv = FloatVector.fromArray(F, dt, t * LANES);
            FloatVector dtu = dtv.mul(uu);
            int bi = bOff + t * bcStride;
            int ci = cOff + t * bcStride;
            FloatVector y = FloatVector.zero(F);
            for (int n = 0; n < N; n++) {
                int hi = n * LANES;
                FloatVector dA = VectorMath.expAtMostHi(dtv.mul(FloatVector.fromArray(F, at, hi))); // Δ ≥ 0, A ≤ 0
                FloatVector hn = FloatVector.fromArray(F, h, hi).fma(dA, dtu.mul(bm[bi + n]));
                hn.intoArray(h, hi);
                y = hn.fma(FloatVector.broadcast(F, cm[ci + n]), y);
            }
            FloatVector yy = sk.fma(uu, y);
            if (yOut != null) {
                yy.intoArray(yOut, i);
            }
            yy.intoArray(out, i);
        }
    }

    /** out[i0 + t*ld + lane] *= silu(z[z0 + t*zld + lane]) for L rows of one block. */
    private static void gateRows(float[] out, int i0, int ld, float[] z, int z0, int zld, int L) {
        for (int t = 0; t < L; t++) {
            int i = i0 + t * ld;
            FloatVector.fromArray(F, out, i).mul(silu(FloatVector.fromArray(F, z, z0 + t * zld))).intoArray(out, i);
        }
    }

    /**
     * One token (L = 1) with the state in its [D, N] layout: lanes run along n within a channel, so
     * no transposition is needed. Softplus of Δ and the gate are computed for all channels at once
     * (vectorised across channels), in passes of their own; {@code out} holds Δ' in between.
     */
    static void scanStep(float[] out, int off, float[] u, float[] delta, float[] deltaBias,
                         float[] A, float[] bm, int bOff, float[] cm, int cOff, float[] dSkip,
                         float[] z, int zOff, float[] state, int stateOff, int D, int N, int d0, int d1) {
        stepDelta(out, off, delta, deltaBias, d0, d1);
        if (LANES == 16 && N == 16) {
            stepRecurrenceOneVector(out, off, u, A, bm, bOff, cm, cOff, dSkip, state, stateOff, d0, d1);
        } else {
            stepRecurrence(out, off, u, A, bm, bOff, cm, cOff, dSkip, state, stateOff, N, d0, d1);
        }
        if (z != null) {
            stepGate(out, off, z, zOff, d0, d1);
        }
    }

    /** out[off+d] = softplus(delta[off+d] + bias[d]) for d in [d0, d1). */
    private static void stepDelta(float[] out, int off, float[] delta, float[] deltaBias, int d0, int d1) {
        float[] bias = deltaBias != null ? deltaBias : ZERO;
        int d = d0;
        if (deltaBias != null) {
            for (; d <= d1 - LANES; d += LANES) {
                FloatVector x = FloatVector.fromArray(F, delta, off + d).add(FloatVector.fromArray(F, bias, d));
                softplus(x).intoArray(out, off + d);
            }
        } else {
            for (; d <= d1 - LANES; d += LANES) {
                softplus(FloatVector.fromArray(F, delta, off + d)).intoArray(out, off + d);
            }
        }
        for (; d < d1; d++) {
            out[off + d] = ScalarMath.softplus(delta[off + d] + (deltaBias != null ? deltaBias[d] : 0f));
        }
    }

    /** out[off+d] *= silu(z[zOff+d]) for d in [d0, d1). */
    private static void stepGate(float[] out, int off, float[] z, int zOff, int d0, int d1) {
        int d = d0;
        for (; d <= d1 - LANES; d += LANES) {
            FloatVector.fromArray(F, out, off + d).mul(silu(FloatVector.fromArray(F, z, zOff + d))).intoArray(out, off + d);
        }
        for (; d < d1; d++) {
            out[off + d] *= ScalarMath.silu(z[zOff + d]);
        }
    }

    /**
     * Per channel: reads Δ' from out, advances the state, writes y = ⟨h, C⟩ + D·u to out.
     *
     * <p>Two channels at a time. One channel is a chain of dependent steps (exp, the state update,
     * the lane sum) that leaves the FMA units waiting; two interleaved keep them busy, and their lane
     * sums are taken together (the first channel's in the lower half, the second's in the upper,
     * each in the order of the one-vector tree of {@link VectorLanes#sum}), so a channel gets the same bits
     * whichever channel it is paired with (an odd last one with itself), wherever a thread's range
     * starts. Δ ≥ 0 and A ≤ 0, so e^(Δ·A) needs no overflow step
     * ({@link VectorMath#expAtMostHi}, the same bits as exp there). Both together: 1.47× one
     * channel at a time with exp (one thread, a 130m layer in cache; docs/cpu-kernels.md). Four
     * channels at a time ran slower (0.73–0.83×): their exponentials' registers no longer fit.
     */
    static void stepRecurrence(float[] out, int off, float[] u, float[] A, float[] bm, int bOff, float[] cm,
                                       int cOff, float[] dSkip, float[] state, int stateOff, int N, int d0, int d1) {
        int nv = N - N % LANES;
        for (int d = d0; d < d1; d += 2) {
            // An odd last channel is paired with itself: computed twice by the same code (both copies
            // read the old state before either writes) and stored twice with the same bits. A path
            // of its own would be cold, and the JIT leaves a cold call to expAtMostHi un-inlined,
            // which boxes its vectors (384 bytes a step in DecoderTest's odd-width model).
            int e = d + 1 < d1 ? d + 1 : d;
            float dt0 = out[off + d], dt1 = out[off + e];
            float u0 = u[off + d], u1 = u[off + e];
            float dtu0 = dt0 * u0, dtu1 = dt1 * u1;
            int s0 = stateOff + d * N, s1 = stateOff + e * N;
            int a0 = d * N, a1 = e * N;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int n = 0;
            for (; n < nv; n += LANES) {
                FloatVector b = FloatVector.fromArray(F, bm, bOff + n);
                FloatVector c = FloatVector.fromArray(F, cm, cOff + n);
                FloatVector h0 = FloatVector.fromArray(F, state, s0 + n)
                        .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, a0 + n).mul(dt0)), b.mul(dtu0));
                FloatVector h1 = FloatVector.fromArray(F, state, s1 + n)
                        .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, a1 + n).mul(dt1)), b.mul(dtu1));
                h0.intoArray(state, s0 + n);
                h1.intoArray(state, s1 + n);
                acc0 = h0.fma(c, acc0);
                acc1 = h1.fma(c, acc1);
            }
            // Both lane sums at once, written out (a call could box the vectors): the halves swapped
            // and added (acc0's sums in the lower half, acc1's in the upper), then the tree within
            // each half — the levels of VectorLanes.sum's tree, in the same order.
            FloatVector t = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
            if (LANES >= 64) {
                t = t.add(t.rearrange(X16));
            }
            if (LANES >= 32) {
                t = t.add(t.rearrange(X8));
            }
            if (LANES >= 16) {
                t = t.add(t.rearrange(X4));
            }
            if (LANES >= 8) {
                t = t.add(t.rearrange(X2));
            }
            t = t.add(t.rearrange(X1));
            float y0 = t.lane(0), y1 = t.lane(LANES / 2);
            for (; n < N; n++) { // N not a multiple of the vector: the lanes' arithmetic, one by one
                float h0 = Math.fma(state[s0 + n], ScalarMath.exp(A[a0 + n] * dt0), bm[bOff + n] * dtu0);
                float h1 = Math.fma(state[s1 + n], ScalarMath.exp(A[a1 + n] * dt1), bm[bOff + n] * dtu1);
                state[s0 + n] = h0;
                state[s1 + n] = h1;
                y0 = Math.fma(h0, cm[cOff + n], y0);
                y1 = Math.fma(h1, cm[cOff + n], y1);
            }
            out[off + d] = y0 + (dSkip != null ? dSkip[d] * u0 : 0f);
            out[off + e] = y1 + (dSkip != null ? dSkip[e] * u1 : 0f);
        }
    }

    /**
     * {@link #stepRecurrence} for N = LANES = 16 (d_state 16, every Mamba checkpoint's, at 16 lanes), the
     * same operations in the same order, so the same bits: a channel's state is one vector, so
     * there is no loop over it and no tail. Written out, the loop over channels is straight-line
     * code with B, C and zero loaded once; in the general form the JIT set up the inner loop's
     * bounds and range checks again for every pair of channels (docs/cpu-kernels.md).
     */
    static void stepRecurrenceOneVector(float[] out, int off, float[] u, float[] A, float[] bm, int bOff,
                                                float[] cm, int cOff, float[] dSkip, float[] state, int stateOff,
                                                int d0, int d1) {
        FloatVector b = FloatVector.fromArray(F, bm, bOff);
        FloatVector c = FloatVector.fromArray(F, cm, cOff);
        FloatVector zero = FloatVector.zero(F);
        for (int d = d0; d < d1; d += 2) {
            int e = d + 1 < d1 ? d + 1 : d; // an odd last channel pairs with itself (see stepRecurrence)
            float dt0 = out[off + d], dt1 = out[off + e];
            float u0 = u[off + d], u1 = u[off + e];
            float dtu0 = dt0 * u0, dtu1 = dt1 * u1;
            int s0 = stateOff + d * LANES, s1 = stateOff + e * LANES;
            FloatVector h0 = FloatVector.fromArray(F, state, s0)
                    .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, d * LANES).mul(dt0)), b.mul(dtu0));
            FloatVector h1 = FloatVector.fromArray(F, state, s1)
                    .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, e * LANES).mul(dt1)), b.mul(dtu1));
            h0.intoArray(state, s0);
            h1.intoArray(state, s1);
            FloatVector acc0 = h0.fma(c, zero), acc1 = h1.fma(c, zero);
            // stepRecurrence's pair of lane sums (16 lanes: halves, then X4, X2, X1).
            FloatVector t = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
            t = t.add(t.rearrange(X4));
            t = t.add(t.rearrange(X2));
            t = t.add(t.rearrange(X1));
            float y0 = t.lane(0), y1 = t.lane(LANES / 2);
            out[off + d] = y0 + (dSkip != null ? dSkip[d] * u0 : 0f);
            out[off + e] = y1 + (dSkip != null ? dSkip[e] * u1 : 0f);
        }
    }
}
