package org.jmamba.cpu;

import org.jmamba.kernels.Kernels;

/**
 * The depthwise causal 1-D convolution in front of the SSM: each channel d has its own K taps, and
 * output t sees inputs t-K+1 .. t only (left zero padding, or the previous chunk's last K-1 inputs
 * when a sequence continues). Layout is token-major: x[b, t, d].
 *
 * <p>{@code out[b,t,d] = bias[d] + sum_k w[d,k] * x[b, t-(K-1)+k, d]} — tap K-1 multiplies the current
 * token, as PyTorch's {@code Conv1d(padding=K-1)} followed by keeping the first L outputs.
 */
public final class CausalConv1d {
    private CausalConv1d() {
    }

    /**
     * @param out    [B, L, D] the convolution (before SiLU)
     * @param x      input; x[b,t,d] is at {@code xOff + (b*L+t)*xStride + d} (a slice of in_proj's output)
     * @param weight [D, K]
     * @param bias   [D] or null
     * @param window [B, K-1, D] or null. If given: the K-1 inputs that preceded this chunk (zeros for a
     *               fresh sequence) are read from it, and on return it holds the last K-1 inputs seen,
     *               which is all the recurrent mode has to remember.
     */
    public static void forward(Parallel par, float[] out, float[] x, int xOff, int xStride, float[] weight, float[] bias,
                               float[] window, int B, int L, int D, int K) {
        int W = K - 1;
        // Threads take channels (vectorised across channels, see Kernels.conv); the window is
        // only read here and updated below, after every output is done.
        par.parallelFor(D, (long) B * L * K, (d0, d1) -> {
            for (int b = 0; b < B; b++) {
                Kernels.conv(out, b * L * D, x, xOff + b * L * xStride, xStride, weight, bias,
                        window, b * W * D, L, D, K, d0, d1);
            }
        });
        if (window != null) {
            // New window = last W entries of (old window ++ x). Filling j upwards reads old entry
            // L+j > j, which is not yet overwritten.
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < W; j++) {
                    int p = L - W + j; // position in this chunk; negative = still in the old window
                    int dst = (b * W + j) * D;
                    if (p >= 0) {
                        for (int d = 0; d < D; d++) {
                            window[dst + d] = x[xOff + (b * L + p) * xStride + d];
                        }
                    } else {
                        System.arraycopy(window, (b * W + W + p) * D, window, dst, D);
                    }
                }
            }
        }
    }

    /**
     * Backward of {@link #forward} from a fresh sequence (zero padding, no window): given
     * {@code dOut = ∂loss/∂out} [B, L, D], <em>adds</em>
     * <pre>
     *   dx[b, s, d]  += Σ_k w[d, k] · dOut[b, s+(K-1)-k, d]      (terms with s+(K-1)-k < L)
     *   dWeight[d, k] += Σ_{b,t} dOut[b, t, d] · x[b, t-(K-1)+k, d]   (terms with t-(K-1)+k ≥ 0)
     *   dBias[d]     += Σ_{b,t} dOut[b, t, d]
     * </pre>
     * Threads own disjoint channel ranges (the convolution never mixes channels) and walk b, t in
     * order, so the sums are the same for any thread count.
     *
     * @param dx      input gradient; dx[b,t,d] at {@code dxOff + (b*L+t)*dxStride + d}
     * @param dWeight [D, K]
     * @param dBias   [D] or null
     * @param dOut    [B, L, D]
     * @param x       the forward's input, laid out like dx with {@code xOff, xStride}
     */
    public static void backward(Parallel par, float[] dx, int dxOff, int dxStride, float[] dWeight, float[] dBias,
                                float[] dOut, float[] x, int xOff, int xStride, float[] weight,
                                int B, int L, int D, int K) {
        int W = K - 1;
        float[] taps = Kernels.convTaps(weight, D, K); // [K, D]: each tap contiguous in d, like dx and x
        par.parallelFor(D, (long) B * L * K * 2, (d0, d1) -> {
            int n = d1 - d0;
            // One sequence's sums in float (vectorised over channels), added into double per sequence.
            float[] dwSeq = new float[K * n];
            double[] dw = new double[K * n];
            double[] db = new double[n];
            for (int b = 0; b < B; b++) {
                java.util.Arrays.fill(dwSeq, 0f);
                for (int t = 0; t < L; t++) {
                    int g = (b * L + t) * D;
                    for (int d = d0; d < d1; d++) {
                        db[d - d0] += dOut[g + d];
                    }
                    for (int k = 0; k < K; k++) {
                        int s = t - W + k;
                        if (s < 0) {
                            continue; // that tap read the zero padding
                        }
                        Kernels.convBackwardTap(dwSeq, k * n, dx, dxOff + (b * L + s) * dxStride + d0, taps, k * D + d0,
                                dOut, g + d0, x, xOff + (b * L + s) * xStride + d0, n);
                    }
                }
                for (int i = 0; i < dw.length; i++) {
                    dw[i] += dwSeq[i];
                }
            }
            for (int d = d0; d < d1; d++) {
                for (int k = 0; k < K; k++) {
                    dWeight[d * K + k] += (float) dw[k * n + d - d0];
                }
                if (dBias != null) {
                    dBias[d] += (float) db[d - d0];
                }
            }
        });
    }

    /**
     * One token per sequence (recurrent mode): out[b,d] from the window and the new input, then the
     * window shifts left by one and takes the new input.
     *
     * @param out    [B, D]
     * @param x      x[b,d] at {@code xOff + b*xStride + d}
     * @param window [B, K-1, D], updated in place
     */
    public static void step(float[] out, float[] x, int xOff, int xStride, float[] weight, float[] bias,
                            float[] window, int B, int D, int K) {
        int W = K - 1;
        for (int b = 0; b < B; b++) {
            int win = b * W * D;
            for (int d = 0; d < D; d++) {
                float xv = x[xOff + b * xStride + d];
                float acc = bias != null ? bias[d] : 0f;
                for (int k = 0; k < W; k++) {
                    acc += weight[d * K + k] * window[win + k * D + d];
                }
                acc += weight[d * K + W] * xv;
                out[b * D + d] = acc;
            }
            if (W > 0) {
                System.arraycopy(window, win + D, window, win, (W - 1) * D);
                for (int d = 0; d < D; d++) {
                    window[win + (W - 1) * D + d] = x[xOff + b * xStride + d];
                }
            }
        }
    }
}
