package org.jmamba.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD twin of {@link SelectiveScan}'s per-block backward ({@code backwardBlock}): the same
 * math, chunked recomputation and accumulation order, with lanes running across channels (a block's
 * channels share B_t and C_t, which are broadcast), so the state update is vector FMAs with no
 * horizontal sums; only dB and dC, sums over channels, need one lane sum per (t, n).
 *
 * <p>Loaded only when {@code Kernels.simd()} is true (it references {@code jdk.incubator.vector}).
 *
 * <p><b>Reproducibility.</b> The Vector API's own {@code EXP} gives different bits when interpreted
 * (it falls back to {@code Math.exp}) and when compiled (SVML), so results would depend on when the
 * JIT kicks in. This class therefore computes exp itself ({@link #expArray}: range reduction and a
 * polynomial, i.e. adds, multiplies, FMAs and bit operations only, which are exact in every tier)
 * and sums lanes in a fixed scalar order instead of {@code reduceLanes}: the bits depend neither on
 * the JIT, nor the run, nor the thread count.
 *
 * <p><b>Allocation.</b> A vector crossing a method boundary that C2 does not inline is boxed on the
 * heap, and C2 declines to inline a method whose own compiled code is large (as vector code is). So
 * no method here takes or returns a vector: helpers work on small arrays (e.g. the exp arguments of
 * a whole step), and each step is its own method so that every compiled unit stays small enough for
 * all of its Vector API calls to become SIMD instructions.
 *
 * <p>State-sized buffers are laid out [.., n, channel] here (the scalar path uses [.., channel, n]).
 */
final class ScanBackwardVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145752f;   // ln 2 split so that k·LN2_HI is exact
    private static final float LN2_LO = 1.42860677e-6f;
    private static final float ROUNDER = 12582912f;     // 1.5·2^23: adding it rounds to an integer
    private static final float X_MIN = -87.3f;          // exp(X_MIN) ≈ 1.2e-38, the normal range's floor
    private static final float X_MAX = 88.7f;

    private ScanBackwardVector() {
    }

    /**
     * a[off, off+n) = e^a in place, n a multiple of {@link #LANES}. About 1 ulp for x in
     * [-87.3, 88.7]; inputs outside are clamped (below, the result is ~1e-38 instead of a subnormal
     * or zero, which no use here can tell apart). x = k·ln2 + r with |r| ≤ ln2/2; e^r by its degree-7
     * Taylor polynomial (truncation < 6e-9); 2^k through the exponent bits.
     */
    static void expArray(float[] a, int off, int n) {
        FloatVector lnHi = FloatVector.broadcast(F, -LN2_HI);
        FloatVector lnLo = FloatVector.broadcast(F, -LN2_LO);
        for (int i = off; i < off + n; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, a, i).max(X_MIN).min(X_MAX);
            FloatVector shifted = x.fma(LOG2E, ROUNDER);   // ROUNDER + round(x·log2 e)
            FloatVector k = shifted.sub(ROUNDER);
            FloatVector r = k.fma(lnHi, x);                 // x − k·ln2, in two steps for accuracy
            r = k.fma(lnLo, r);
            FloatVector p = r.fma(1f / 5040f, 1f / 720f);
            p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
            p = p.fma(r, FloatVector.broadcast(F, 0.5f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            // The low mantissa bits of `shifted` hold k (two's complement around ROUNDER's pattern).
            IntVector kBits = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER) - 127)
                    .lanewise(VectorOperators.LSHL, 23);
            p.mul(kBits.reinterpretAsFloats()).intoArray(a, i);
        }
    }

    /** a = 1 / (1 + e^-a) in place, n a multiple of {@link #LANES}. */
    static void sigmoidArray(float[] a, int off, int n) {
        for (int i = off; i < off + n; i += LANES) {
            FloatVector.fromArray(F, a, i).neg().intoArray(a, i);
        }
        expArray(a, off, n);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = off; i < off + n; i += LANES) {
            one.div(FloatVector.fromArray(F, a, i).add(1f)).intoArray(a, i);
        }
    }

    /**
     * softplus(x) = log(1 + e^x) with PyTorch's threshold, from the intrinsic Math.exp and Math.log
     * (the same bits in every JIT tier, and far cheaper than StrictMath's log1p): log1p(e) is taken
     * as log(u)·e/(u − 1) with u = 1 + e, which cancels the rounding of u (Goldberg's identity).
     */
    static float softplus(float x) {
        if (x > 20f) {
            return x;
        }
        double e = Math.exp(x);
        double u = 1.0 + e;
        return (float) (u == 1.0 ? e : Math.log(u) * e / (u - 1.0));
    }

    // ---------------------------------------------------------------- the block

    /**
     * Channels [d0, d1) of sequence b; {@code d1 - d0} is a positive multiple of {@link #LANES} and at
     * most the block size. Arguments as in {@code SelectiveScan.backwardBlock}.
     */
    static void block(SelectiveScan.ScanBackwardScratch s, int b, int d0, int d1, int partRow0, float[] partBC,
                      double[] accA, double[] accD, double[] accBias,
                      float[] du, float[] dDelta, float[] dz, int dzOff, int dzStride, float[] dout,
                      float[] u, float[] delta, float[] deltaBias, float[] A,
                      float[] Bm, int bOff, float[] Cm, int cOff, int bcStride, float[] Dskip,
                      float[] z, int zOff, int zStride, int L, int D, int N) {
        final int T = SelectiveScan.BACKWARD_CHUNK;
        final int bw = d1 - d0;
        final int bn = bw * N;
        final int chunks = (L + T - 1) / T;
        for (int n = 0; n < N; n++) {
            for (int dd = 0; dd < bw; dd++) {
                s.at[n * bw + dd] = A[(d0 + dd) * N + n];
            }
        }
        // Δ' for the whole sequence, once (softplus is the costly part of a step).
        for (int t = 0; t < L; t++) {
            int row = (b * L + t) * D;
            for (int dd = 0; dd < bw; dd++) {
                int d = d0 + dd;
                s.dts[t * bw + dd] = softplus(delta[row + d] + (deltaBias != null ? deltaBias[d] : 0f));
            }
        }
        checkpoints(s, b, d0, bw, u, Bm, bOff, bcStride, L, D, N);

        // Pass 2: chunks from last to first; g carries e_{t+1} ⊙ g_{t+1} across chunk boundaries.
        java.util.Arrays.fill(s.g, 0, bn, 0f);
        for (int c = chunks - 1; c >= 0; c--) {
            int t0 = c * T;
            int len = Math.min(L, t0 + T) - t0;
            System.arraycopy(s.ckpt, c * bn, s.hs, 0, bn);
            for (int k = 0; k < len; k++) {
                int row = b * L + t0 + k;
                recompute(s, k, (t0 + k) * bw, u, row * D + d0, Bm, bOff + row * bcStride, Cm, cOff + row * bcStride,
                        Dskip, d0, bw, N);
            }
            java.util.Arrays.fill(s.chunkA, 0, bn, 0f);
            java.util.Arrays.fill(s.chunkD, 0, bw, 0f);
            java.util.Arrays.fill(s.chunkBias, 0, bw, 0f);
            for (int k = len - 1; k >= 0; k--) {
                int row = b * L + t0 + k;
                gates(s, row * D + d0, bw, delta, deltaBias, d0, z, z == null ? 0 : zOff + row * zStride + d0);
                java.util.Arrays.fill(s.pAcc, 0, 2 * N * LANES, 0f);
                for (int v = 0; v < bw; v += LANES) {
                    reverse(s, k, v, row, t0, d0, bw, N, du, dDelta, dz, dzOff, dzStride, dout, u, delta, deltaBias,
                            Bm, bOff + row * bcStride, Cm, cOff + row * bcStride, Dskip, z, zOff, zStride, D);
                }
                sumLanes(s.pAcc, partBC, (partRow0 + row) * 2 * N, 2 * N);
            }
            // Fold the chunk's per-channel sums into the double accumulators.
            for (int dd = 0; dd < bw; dd++) {
                int d = d0 + dd;
                int a = (b * D + d) * N;
                for (int n = 0; n < N; n++) {
                    accA[a + n] += s.chunkA[n * bw + dd];
                }
                accD[b * D + d] += s.chunkD[dd];
                accBias[b * D + d] += s.chunkBias[dd];
            }
        }
    }

    /** Pass 1: the recurrence from a zero state, keeping the state at each chunk start in s.ckpt. */
    private static void checkpoints(SelectiveScan.ScanBackwardScratch s, int b, int d0, int bw, float[] u,
                                    float[] Bm, int bOff, int bcStride, int L, int D, int N) {
        final int T = SelectiveScan.BACKWARD_CHUNK;
        int bn = bw * N;
        int chunks = (L + T - 1) / T;
        java.util.Arrays.fill(s.state, 0, bn, 0f);
        int lastStart = (chunks - 1) * T;
        for (int t = 0; t < lastStart; t++) {
            if (t % T == 0) {
                System.arraycopy(s.state, 0, s.ckpt, (t / T) * bn, bn);
            }
            int row = b * L + t;
            advance(s, t * bw, u, row * D + d0, Bm, bOff + row * bcStride, bw, N);
        }
        System.arraycopy(s.state, 0, s.ckpt, (chunks - 1) * bn, bn);
    }

    /** One step of the recurrence for the block: h = exp(Δ'·A) ⊙ h + Δ'·u·B_t (h in s.state). */
    private static void advance(SelectiveScan.ScanBackwardScratch s, int dtOff, float[] u, int uOff,
                                float[] Bm, int bRow, int bw, int N) {
        float[] e = s.tmp;
        float[] h = s.state;
        for (int v = 0; v < bw; v += LANES) {
            FloatVector dt = FloatVector.fromArray(F, s.dts, dtOff + v);
            for (int n = 0; n < N; n++) {
                int hi = n * bw + v;
                dt.mul(FloatVector.fromArray(F, s.at, hi)).intoArray(e, hi);
            }
        }
        expArray(e, 0, bw * N);
        for (int v = 0; v < bw; v += LANES) {
            FloatVector dtu = FloatVector.fromArray(F, s.dts, dtOff + v).mul(FloatVector.fromArray(F, u, uOff + v));
            for (int n = 0; n < N; n++) {
                int hi = n * bw + v;
                FloatVector.fromArray(F, h, hi).fma(FloatVector.fromArray(F, e, hi), dtu.mul(Bm[bRow + n])).intoArray(h, hi);
            }
        }
    }

    /** Step k of the chunk: e_t into es slot k, h_t into hs slot k+1 (from slot k), y_t into ys. */
    private static void recompute(SelectiveScan.ScanBackwardScratch s, int k, int dtOff, float[] u, int uOff,
                                  float[] Bm, int bRow, float[] Cm, int cRow, float[] Dskip, int d0, int bw, int N) {
        int bn = bw * N;
        int eOff = k * bn;
        float[] es = s.es;
        float[] hs = s.hs;
        for (int v = 0; v < bw; v += LANES) {
            FloatVector dt = FloatVector.fromArray(F, s.dts, dtOff + v);
            for (int n = 0; n < N; n++) {
                int i = n * bw + v;
                dt.mul(FloatVector.fromArray(F, s.at, i)).intoArray(es, eOff + i);
            }
        }
        expArray(es, eOff, bn);
        for (int v = 0; v < bw; v += LANES) {
            FloatVector uu = FloatVector.fromArray(F, u, uOff + v);
            FloatVector dtu = FloatVector.fromArray(F, s.dts, dtOff + v).mul(uu);
            FloatVector y = FloatVector.zero(F);
            for (int n = 0; n < N; n++) {
                int prev = eOff + n * bw + v;
                FloatVector hn = FloatVector.fromArray(F, hs, prev)
                        .fma(FloatVector.fromArray(F, es, prev), dtu.mul(Bm[bRow + n]));
                hn.intoArray(hs, prev + bn);
                y = hn.fma(FloatVector.broadcast(F, Cm[cRow + n]), y);
            }
            if (Dskip != null) {
                y = FloatVector.fromArray(F, Dskip, d0 + v).fma(uu, y);
            }
            y.intoArray(s.ys, k * bw + v);
        }
    }

    /** sigmoid(z_t) into s.sigZ (when there is a gate) and sigmoid(Δ_t + bias) into s.sigV, for the block. */
    private static void gates(SelectiveScan.ScanBackwardScratch s, int idx, int bw, float[] delta, float[] deltaBias,
                              int d0, float[] z, int zi) {
        if (z != null) {
            System.arraycopy(z, zi, s.sigZ, 0, bw);
            sigmoidArray(s.sigZ, 0, bw);
        }
        for (int dd = 0; dd < bw; dd++) {
            s.sigV[dd] = delta[idx + dd] + (deltaBias != null ? deltaBias[d0 + dd] : 0f);
        }
        sigmoidArray(s.sigV, 0, bw);
    }

    /** The reverse recurrence at step k of the chunk for the LANES channels starting at block offset v. */
    private static void reverse(SelectiveScan.ScanBackwardScratch s, int k, int v, int row, int t0, int d0, int bw, int N,
                                float[] du, float[] dDelta, float[] dz, int dzOff, int dzStride, float[] dout,
                                float[] u, float[] delta, float[] deltaBias, float[] Bm, int bRow, float[] Cm, int cRow,
                                float[] Dskip, float[] z, int zOff, int zStride, int D) {
        float[] hs = s.hs;
        float[] es = s.es;
        float[] g = s.g;
        float[] at = s.at;
        float[] chunkA = s.chunkA;
        float[] pAcc = s.pAcc;
        int bn = bw * N;
        int d = d0 + v;
        int idx = row * D + d;
        FloatVector go = FloatVector.fromArray(F, dout, idx);
        FloatVector dy = go;
        if (z != null) {
            // silu(z) = z·σ(z), silu'(z) = σ(z)·(1 + z·(1 − σ(z)))
            FloatVector zz = FloatVector.fromArray(F, z, zOff + row * zStride + d);
            FloatVector sig = FloatVector.fromArray(F, s.sigZ, v);
            dy = go.mul(zz.mul(sig));
            if (dz != null) {
                FloatVector dsilu = sig.mul(zz.mul(sig.neg().add(1f)).add(1f));
                int zi = dzOff + row * dzStride + d;
                go.mul(FloatVector.fromArray(F, s.ys, k * bw + v)).fma(dsilu, FloatVector.fromArray(F, dz, zi))
                        .intoArray(dz, zi);
            }
        }
        FloatVector uu = FloatVector.fromArray(F, u, idx);
        FloatVector dt = FloatVector.fromArray(F, s.dts, (t0 + k) * bw + v);
        FloatVector dtu = dt.mul(uu);
        FloatVector sumGB = FloatVector.zero(F);
        FloatVector sumX = FloatVector.zero(F);
        for (int n = 0; n < N; n++) {
            int gi = n * bw + v;
            int prev = k * bn + gi;
            FloatVector gn = dy.fma(FloatVector.broadcast(F, Cm[cRow + n]), FloatVector.fromArray(F, g, gi));
            FloatVector e = FloatVector.fromArray(F, es, prev);
            FloatVector x = gn.mul(e).mul(FloatVector.fromArray(F, hs, prev)); // ∂loss/∂(Δ'·A[n])
            x.fma(dt, FloatVector.fromArray(F, chunkA, gi)).intoArray(chunkA, gi);
            sumX = x.fma(FloatVector.fromArray(F, at, gi), sumX);
            sumGB = gn.fma(FloatVector.broadcast(F, Bm[bRow + n]), sumGB);
            int pb = n * LANES;
            int pc = (N + n) * LANES;
            gn.fma(dtu, FloatVector.fromArray(F, pAcc, pb)).intoArray(pAcc, pb);
            dy.fma(FloatVector.fromArray(F, hs, prev + bn), FloatVector.fromArray(F, pAcc, pc)).intoArray(pAcc, pc);
            gn.mul(e).intoArray(g, gi);
        }
        FloatVector duv = dt.mul(sumGB);
        if (Dskip != null) {
            duv = dy.fma(FloatVector.fromArray(F, Dskip, d), duv);
            dy.fma(uu, FloatVector.fromArray(F, s.chunkD, v)).intoArray(s.chunkD, v);
        }
        duv.add(FloatVector.fromArray(F, du, idx)).intoArray(du, idx);
        FloatVector ddt = sumGB.fma(uu, sumX);
        FloatVector vv = FloatVector.fromArray(F, delta, idx);
        if (deltaBias != null) {
            vv = vv.add(FloatVector.fromArray(F, deltaBias, d));
        }
        // softplus'(v) = sigmoid(v); above the threshold softplus is the identity.
        VectorMask<Float> big = vv.compare(VectorOperators.GT, 20f);
        FloatVector dv = ddt.mul(FloatVector.fromArray(F, s.sigV, v)).blend(ddt, big);
        dv.add(FloatVector.fromArray(F, dDelta, idx)).intoArray(dDelta, idx);
        dv.add(FloatVector.fromArray(F, s.chunkBias, v)).intoArray(s.chunkBias, v);
    }

    /** dB_t, dC_t of the block: each of the 2N lane groups of pAcc summed in a fixed order. */
    private static void sumLanes(float[] pAcc, float[] partBC, int p, int N2) {
        for (int j = 0; j < N2; j++) {
            float sum = 0f;
            int base = j * LANES;
            for (int l = 0; l < LANES; l++) {
                sum += pAcc[base + l];
            }
            partBC[p + j] += sum;
        }
    }
}
