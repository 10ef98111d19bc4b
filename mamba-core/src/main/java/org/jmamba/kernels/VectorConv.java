package org.jmamba.kernels;

import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorLanes.ZERO;
import static org.jmamba.kernels.VectorLanes.stage;
import static org.jmamba.kernels.VectorLanes.unstage;

import jdk.incubator.vector.FloatVector;

/**
 * The SIMD causal depthwise conv: over a sequence, the decode step of one token with its window,
 * and the backward of one tap. Same signatures and results (up to rounding) as
 * {@link ScalarKernels}; called through {@link Kernels}.
 */
final class VectorConv {
    private VectorConv() {
    }

    /**
     * A vector of channels at a time: with tap-major taps every operand is a plain load of
     * consecutive channels. Channels past the last whole vector go through the scalar twin's
     * per-channel code, which does the same fused multiply-adds in the same order.
     */
    static void convStep(float[] out, int outOff, float[] x, int xOff, float[] taps, float[] bias,
                         float[] window, int winOff, int D, int K, int d0, int d1) {
        int W = K - 1;
        float[] b = bias != null ? bias : ZERO;
        int d = d0;
        for (; d <= d1 - LANES; d += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + d);
            FloatVector acc = FloatVector.fromArray(F, b, bias != null ? d : 0);
            for (int k = 0; k < W; k++) {
                acc = FloatVector.fromArray(F, taps, k * D + d).fma(FloatVector.fromArray(F, window, winOff + k * D + d), acc);
            }
            acc = FloatVector.fromArray(F, taps, W * D + d).fma(xv, acc);
            acc.intoArray(out, outOff + d);
            for (int k = 0; k + 1 < W; k++) {
                FloatVector.fromArray(F, window, winOff + (k + 1) * D + d).intoArray(window, winOff + k * D + d);
            }
            if (W > 0) {
                xv.intoArray(window, winOff + (W - 1) * D + d);
            }
        }
        for (; d < d1; d++) {
            out[outOff + d] = ScalarKernels.convStepChannel(x, xOff, taps, bias, window, winOff, D, K, d);
        }
    }

    /**
     * Lanes across channels; the block's K taps are transposed once to [K][LANES]. A partial last
     * block runs the same code on a zero-padded copy of its channels.
     */
    static void conv(float[] out, int outOff, float[] x, int xOff, int xStride, float[] w, float[] bias,
                     float[] window, int winOff, int L, int D, int K, int d0, int d1) {
        int W = K - 1;
        float[] wt = new float[K * LANES];
        float[] biasArr = bias != null ? bias : ZERO;
        for (int d = d0; d < d1; d += LANES) {
            int valid = Math.min(LANES, d1 - d);
            java.util.Arrays.fill(wt, 0f);
            for (int j = 0; j < valid; j++) {
                for (int k = 0; k < K; k++) {
                    wt[k * LANES + j] = w[(d + j) * K + k];
                }
            }
            if (valid == LANES) {
                convBlock(out, outOff + d, D, x, xOff + d, xStride, wt, biasArr, bias != null ? d : 0,
                        window, winOff + d, D, L, K);
            } else {
                float[] xs = stage(x, xOff + d, xStride, L, valid);
                float[] ws = window != null ? stage(window, winOff + d, D, W, valid) : null;
                float[] bs = stage(biasArr, bias != null ? d : 0, 0, 1, valid);
                float[] os = new float[L * LANES];
                convBlock(os, 0, LANES, xs, 0, LANES, wt, bs, 0, ws, 0, LANES, L, K);
                unstage(os, out, outOff + d, D, L, valid);
            }
        }
    }

    private static void convBlock(float[] out, int o0, int old, float[] x, int x0, int xld, float[] wt,
                                  float[] bias, int bi, float[] window, int w0, int wld, int L, int K) {
        int W = K - 1;
        FloatVector b = FloatVector.fromArray(F, bias, bi);
        for (int t = 0; t < L; t++) {
            FloatVector acc = b;
            for (int k = 0; k < K; k++) {
                int s = t - W + k;
                // Before the chunk: the window's inputs, or zero padding.
                float[] src = s >= 0 ? x : window != null ? window : ZERO;
                int si = s >= 0 ? x0 + s * xld : window != null ? w0 + (W + s) * wld : 0;
                acc = FloatVector.fromArray(F, src, si).fma(FloatVector.fromArray(F, wt, k * LANES), acc);
            }
            acc.intoArray(out, o0 + t * old);
        }
    }

    /** {@link ScalarKernels#convBackwardTap}, lane-wise the same fused multiply-adds (bit-identical). */
    static void convBackwardTap(float[] dw, int dwOff, float[] dx, int dxOff, float[] w, int wOff,
                                float[] go, int goOff, float[] x, int xOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += LANES) {
            FloatVector g = FloatVector.fromArray(F, go, goOff + i);
            g.fma(FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, dw, dwOff + i)).intoArray(dw, dwOff + i);
            FloatVector.fromArray(F, w, wOff + i).fma(g, FloatVector.fromArray(F, dx, dxOff + i)).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            float g = go[goOff + i];
            dw[dwOff + i] = Math.fma(g, x[xOff + i], dw[dwOff + i]);
            dx[dxOff + i] = Math.fma(w[wOff + i], g, dx[dxOff + i]);
        }
    }
}
