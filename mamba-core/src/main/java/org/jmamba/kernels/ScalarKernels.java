package org.jmamba.kernels;

/**
 * The plain-Java kernels: the reference each SIMD kernel (in the classes {@link VectorLanes} lists) is
 * tested against, and the code that runs when the Vector API is absent. Written for clarity first;
 * the loops are the definitions of the operations.
 *
 * <p>Conventions shared with the SIMD kernels (same signatures): matrices are row-major slices
 * of flat arrays given by (array, offset, leading dimension); every kernel computes a sub-range of
 * its output ({@code [m0, m1) x [n0, n1)} for products, {@code [d0, d1)} channels for the scan) so
 * that callers can split the work over threads.
 */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    // ---------------------------------------------------------------- dot products and GEMM

    /** {@code Σ_i a[aOff+i] * b[bOff+i]} over n elements. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * {@code C[m,n] = (accumulate ? C[m,n] : 0) + Σ_k A[m,k]·B[n,k] + bias[n]} for m in [m0,m1), n in
     * [n0,n1): the product with B transposed, which is how a linear layer {@code y = x·Wᵀ + b} reads
     * its [out, in] weight. A[m,k] = a[aOff+m*lda+k], B[n,k] = b[bOff+n*ldb+k], C[m,n] = c[cOff+m*ldc+n].
     *
     * @param bias [N] or null
     */
    public static void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        for (int m = m0; m < m1; m++) {
            for (int n = n0; n < n1; n++) {
                float s = dot(a, aOff + m * lda, b, bOff + n * ldb, K);
                if (bias != null) {
                    s += bias[n];
                }
                int ci = cOff + m * ldc + n;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * {@link #gemmNT} with B given by a {@link PanelSource} (any storage type): B is widened a
     * panel of rows at a time, then each output is the same k-ordered sum as above.
     *
     * @param scratch room for {@link Kernels#PANEL_SCRATCH_FLOATS} floats, or null
     */
    public static void gemmNT(float[] a, int aOff, int lda, PanelSource b, float[] c, int cOff, int ldc,
                              float[] bias, boolean accumulate, int m0, int m1, int n0, int n1, int K, float[] scratch) {
        int nc = Math.max(1, Kernels.PANEL_SCRATCH_FLOATS / Math.max(1, K));
        float[] panel = scratch != null && scratch.length >= Kernels.PANEL_SCRATCH_FLOATS ? scratch
                : new float[Math.min(Kernels.PANEL_SCRATCH_FLOATS, Math.max(1, (n1 - n0) * K))];
        nc = Math.min(nc, Math.max(1, panel.length / Math.max(1, K)));
        for (int nb = n0; nb < n1; nb += nc) {
            int nl = Math.min(nc, n1 - nb);
            b.packTransposed(nb, nl, 0, K, panel, nl); // panel[k*nl + j] = B[nb+j, k]
            for (int m = m0; m < m1; m++) {
                for (int j = 0; j < nl; j++) {
                    float s = 0f;
                    for (int k = 0; k < K; k++) {
                        s += a[aOff + m * lda + k] * panel[k * nl + j];
                    }
                    if (bias != null) {
                        s += bias[nb + j];
                    }
                    int ci = cOff + m * ldc + nb + j;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
        }
    }

    /**
     * {@code C[m,n] (+)= Σ_k A[m,k]·B[k,n]} (the input gradient of a linear layer: dX = dY·W).
     * A[m,k] = a[aOff+m*lda+k], B[k,n] = b[bOff+k*ldb+n].
     */
    public static void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        gemmStrided(a, aOff, lda, 1, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
    }

    /**
     * {@code C[m,n] (+)= Σ_k A[k,m]·B[k,n]} (the weight gradient of a linear layer: dW += dYᵀ·X).
     * A[k,m] = a[aOff+k*lda+m], B[k,n] = b[bOff+k*ldb+n].
     */
    public static void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        gemmStrided(a, aOff, 1, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
    }

    /** A(m,k) = a[aOff + m*sam + k*sak]; B(k,n) = b[bOff + k*ldb + n]. */
    private static void gemmStrided(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb,
                                    float[] c, int cOff, int ldc, boolean accumulate,
                                    int m0, int m1, int n0, int n1, int K) {
        for (int m = m0; m < m1; m++) {
            int ci = cOff + m * ldc;
            if (!accumulate) {
                for (int n = n0; n < n1; n++) {
                    c[ci + n] = 0f;
                }
            }
            for (int k = 0; k < K; k++) {
                float av = a[aOff + m * sam + k * sak];
                int bi = bOff + k * ldb;
                for (int n = n0; n < n1; n++) {
                    c[ci + n] += av * b[bi + n];
                }
            }
        }
    }

    /**
     * {@link #gemmNT} with B stored as bfloat16 bit patterns: B[n,k] = bf16(w[wOff+n*ldw+k]).
     * Used at decode (a few rows of A); larger products widen B to f32 first.
     */
    public static void bf16NT(float[] a, int aOff, int lda, short[] w, int ldw,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        for (int m = m0; m < m1; m++) {
            for (int n = n0; n < n1; n++) {
                float s = 0f;
                int wi = n * ldw;
                int ai = aOff + m * lda;
                for (int k = 0; k < K; k++) {
                    s += a[ai + k] * Bf16.toFloat(w[wi + k]);
                }
                if (bias != null) {
                    s += bias[n];
                }
                int ci = cOff + m * ldc + n;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * {@link #gemmNT} with B quantised in blocks of {@link Int8Blocks#BLOCK} along k:
     * B[n,k] = q[n*K+k] * scales[n*blocksPerRow + k/BLOCK], blocksPerRow = ceil(K/BLOCK). Each
     * block's products are summed before its scale is applied (one multiply per block).
     */
    public static void int8NT(float[] a, int aOff, int lda, byte[] q, float[] scales,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        int bpr = Int8Blocks.blocksPerRow(K);
        for (int m = m0; m < m1; m++) {
            int ai = aOff + m * lda;
            for (int n = n0; n < n1; n++) {
                float s = 0f;
                for (int blk = 0; blk < bpr; blk++) {
                    int k0 = blk * Int8Blocks.BLOCK;
                    int k1 = Math.min(K, k0 + Int8Blocks.BLOCK);
                    float bs = 0f;
                    for (int k = k0; k < k1; k++) {
                        bs += a[ai + k] * q[n * K + k];
                    }
                    s += bs * scales[n * bpr + blk];
                }
                if (bias != null) {
                    s += bias[n];
                }
                int ci = cOff + m * ldc + n;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * Widens a block of a bf16 matrix (row n at {@code w[n*ldw]}) to f32, row by row:
     * {@code out[off + j*ldo + k] = B[n0 + j, k0 + k]} for j < nl, k < kl.
     */
    public static void bf16Widen(short[] w, int ldw, int n0, int nl, int k0, int kl, float[] out, int off, int ldo) {
        for (int j = 0; j < nl; j++) {
            for (int k = 0; k < kl; k++) {
                out[off + j * ldo + k] = Bf16.toFloat(w[(n0 + j) * ldw + k0 + k]);
            }
        }
    }

    /**
     * Dequantises a block of a block-int8 matrix [N, K] ({@link Int8Blocks}) to f32, row by row:
     * {@code out[off + j*ldo + k] = B[n0 + j, k0 + k]} for j < nl, k < kl.
     */
    public static void int8Widen(byte[] q, float[] scales, int K, int n0, int nl, int k0, int kl,
                                 float[] out, int off, int ldo) {
        int bpr = Int8Blocks.blocksPerRow(K);
        for (int j = 0; j < nl; j++) {
            int n = n0 + j;
            for (int k = k0; k < k0 + kl; k++) {
                out[off + j * ldo + k - k0] = q[n * K + k] * scales[n * bpr + k / Int8Blocks.BLOCK];
            }
        }
    }

    // ---------------------------------------------------------------- element-wise and row ops

    /**
     * RMSNorm of one row: {@code out[i] = x[i] * r * w[i]} with {@code r = 1/sqrt(mean(x²) + eps)}.
     *
     * @return r (the backward pass needs it)
     */
    public static float rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            ss += v * v;
        }
        float r = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[xOff + i] * r * w[i];
        }
        return r;
    }

    /** The largest of n elements. */
    public static float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    /** {@code log Σ exp(x_i)}, computed as {@code max + log Σ exp(x_i - max)} so nothing overflows. */
    public static float logSumExp(float[] x, int off, int n) {
        float m = max(x, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return m;
        }
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += (float) Math.exp(x[off + i] - m);
        }
        return m + (float) Math.log(s);
    }

    /**
     * {@code out[i] = e^(x[i] - shift)} for {@code i < n}, where no {@code x[i]} exceeds
     * {@code shift}: the unnormalised probabilities of a softmax when {@code shift} is the max
     * (what a sampler draws from). Each value is {@link ScalarMath#exp}'s, so the SIMD kernel,
     * whose lanes compute exactly that, gives the same bits: the same logits and seed make a
     * sampler pick the same token on either path. {@code x} and {@code out} may be the same array.
     */
    public static void expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = ScalarMath.exp(x[xOff + i] - shift);
        }
    }

    /** In-place softmax of n elements. */
    public static void softmax(float[] x, int off, int n) {
        float m = max(x, off, n);
        float s = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - m);
            x[off + i] = e;
            s += e;
        }
        float inv = 1f / s;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    /** In-place log-softmax of n elements: {@code x_i - logSumExp(x)}. */
    public static void logSoftmax(float[] x, int off, int n) {
        float lse = logSumExp(x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] -= lse;
        }
    }

    /** {@code out[i] = silu(x[i]) = x[i] / (1 + exp(-x[i]))}; out may alias x. */
    public static void silu(float[] out, int outOff, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            out[outOff + i] = v / (1f + (float) Math.exp(-v));
        }
    }

    /**
     * Backward of silu: {@code dx[i] += dOut[i] · σ(x[i]) · (1 + x[i] · (1 − σ(x[i])))}, the
     * sigmoid in double.
     */
    public static void siluBackward(float[] dx, float[] dOut, float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            double sig = 1.0 / (1.0 + Math.exp(-x[i]));
            dx[i] += dOut[i] * (float) (sig * (1.0 + x[i] * (1.0 - sig)));
        }
    }

    /** softplus with PyTorch's threshold: x above 20 is returned as is. */
    public static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    // ---------------------------------------------------------------- the selective scan

    /**
     * The selective scan over one sequence of L tokens, channels [d0, d1), fused as the reference's
     * {@code selective_scan_fn}: per channel d and token t,
     * <pre>
     *   dt  = softplus(delta[t,d] + deltaBias[d])
     *   h_n = exp(dt·A[d,n])·h_n + dt·B[t,n]·u[t,d]          n = 0..N-1
     *   y   = Σ_n h_n·C[t,n] + D[d]·u[t,d]
     *   out[t,d] = y · silu(z[t,d])   (y when z is null);  yOut[t,d] = y when yOut is not null
     * </pre>
     * u, delta, out and yOut are [L, D] rows starting at {@code off}; B[t,n] = bm[bOff + t*bcStride + n],
     * C[t,n] = cm[cOff + t*bcStride + n]; z[t,d] = z[zOff + t*zStride + d]; A is [D, N] (already
     * negative). The state h of channel d is {@code state[stateOff + d*N .. +N]}: it is read as the
     * initial state and receives the final one; a null state means start from zero and keep nothing.
     */
    public static void scan(float[] out, float[] yOut, int off, float[] u, float[] delta, float[] deltaBias,
                            float[] A, float[] bm, int bOff, float[] cm, int cOff, int bcStride, float[] dSkip,
                            float[] z, int zOff, int zStride, float[] state, int stateOff,
                            int L, int D, int N, int d0, int d1) {
        float[] h = new float[N];
        for (int d = d0; d < d1; d++) {
            if (state != null) {
                System.arraycopy(state, stateOff + d * N, h, 0, N);
            } else {
                java.util.Arrays.fill(h, 0f);
            }
            float bias = deltaBias != null ? deltaBias[d] : 0f;
            float skip = dSkip != null ? dSkip[d] : 0f;
            for (int t = 0; t < L; t++) {
                int i = off + t * D + d;
                float uu = u[i];
                float dt = softplus(delta[i] + bias);
                float dtu = dt * uu;
                int bi = bOff + t * bcStride;
                int ci = cOff + t * bcStride;
                float acc = 0f;
                for (int n = 0; n < N; n++) {
                    float hn = (float) Math.exp(dt * A[d * N + n]) * h[n] + dtu * bm[bi + n];
                    h[n] = hn;
                    acc += hn * cm[ci + n];
                }
                float y = acc + skip * uu;
                if (yOut != null) {
                    yOut[i] = y;
                }
                if (z != null) {
                    float zz = z[zOff + t * zStride + d];
                    y *= zz / (1f + (float) Math.exp(-zz));
                }
                out[i] = y;
            }
            if (state != null) {
                System.arraycopy(h, 0, state, stateOff + d * N, N);
            }
        }
    }

    /**
     * One token of {@link #scan} (L = 1) for channels [d0, d1) of one sequence: u, delta and out are
     * [D] at {@code off}, B and C are [N] at bOff/cOff, z is [D] at zOff (or null), and the state is
     * [D, N] at stateOff, advanced in place. Allocates nothing.
     */
    public static void scanStep(float[] out, int off, float[] u, float[] delta, float[] deltaBias,
                                float[] A, float[] bm, int bOff, float[] cm, int cOff, float[] dSkip,
                                float[] z, int zOff, float[] state, int stateOff, int D, int N, int d0, int d1) {
        for (int d = d0; d < d1; d++) {
            float uu = u[off + d];
            float dt = softplus(delta[off + d] + (deltaBias != null ? deltaBias[d] : 0f));
            float dtu = dt * uu;
            int s = stateOff + d * N;
            float acc = 0f;
            for (int n = 0; n < N; n++) {
                float hn = (float) Math.exp(dt * A[d * N + n]) * state[s + n] + dtu * bm[bOff + n];
                state[s + n] = hn;
                acc += hn * cm[cOff + n];
            }
            float y = acc + (dSkip != null ? dSkip[d] * uu : 0f);
            if (z != null) {
                float zz = z[zOff + d];
                y *= zz / (1f + (float) Math.exp(-zz));
            }
            out[off + d] = y;
        }
    }

    /**
     * One token of the causal conv for channels [d0, d1) of one sequence, then the window shift:
     * {@code out[outOff+d] = bias[d] + Σ_{k<K-1} taps[k*D+d]·window[winOff+k*D+d] + taps[(K-1)*D+d]·x[xOff+d]},
     * one fused multiply-add per tap in that order; afterwards window rows move up by one and the
     * last row takes x. The taps are stored tap-major, [K, D] (the conv weight [D, K] transposed:
     * see {@link #convTaps}), so that consecutive channels sit side by side as they do in the
     * window. Allocates nothing.
     */
    public static void convStep(float[] out, int outOff, float[] x, int xOff, float[] taps, float[] bias,
                                float[] window, int winOff, int D, int K, int d0, int d1) {
        for (int d = d0; d < d1; d++) {
            out[outOff + d] = convStepChannel(x, xOff, taps, bias, window, winOff, D, K, d);
        }
    }

    /** Channel d of {@link #convStep}, shift included: also the vector kernel's tail, lane for lane. */
    static float convStepChannel(float[] x, int xOff, float[] taps, float[] bias, float[] window, int winOff,
                                 int D, int K, int d) {
        int W = K - 1;
        float xv = x[xOff + d];
        float acc = bias != null ? bias[d] : 0f;
        for (int k = 0; k < W; k++) {
            acc = Math.fma(taps[k * D + d], window[winOff + k * D + d], acc);
        }
        acc = Math.fma(taps[W * D + d], xv, acc);
        for (int k = 0; k + 1 < W; k++) {
            window[winOff + k * D + d] = window[winOff + (k + 1) * D + d];
        }
        if (W > 0) {
            window[winOff + (W - 1) * D + d] = xv;
        }
        return acc;
    }

    /** The conv weight [D, K] (PyTorch's [D, 1, K]) transposed to the tap-major [K, D] of {@link #convStep}. */
    public static float[] convTaps(float[] w, int D, int K) {
        float[] taps = new float[K * D];
        for (int d = 0; d < D; d++) {
            for (int k = 0; k < K; k++) {
                taps[k * D + d] = w[d * K + k];
            }
        }
        return taps;
    }

    // ---------------------------------------------------------------- the causal depthwise conv

    /**
     * One tap of the conv backward over channels {@code [0, n)}, each with one fused multiply-add:
     * {@code dw[dwOff+i] += go[goOff+i]·x[xOff+i]} and {@code dx[dxOff+i] += w[wOff+i]·go[goOff+i]}.
     */
    public static void convBackwardTap(float[] dw, int dwOff, float[] dx, int dxOff, float[] w, int wOff,
                                       float[] go, int goOff, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = go[goOff + i];
            dw[dwOff + i] = Math.fma(g, x[xOff + i], dw[dwOff + i]);
            dx[dxOff + i] = Math.fma(w[wOff + i], g, dx[dxOff + i]);
        }
    }

    /**
     * Causal depthwise conv over one sequence, channels [d0, d1):
     * {@code out[outOff + t*D + d] = bias[d] + Σ_k w[d*K+k] · x(t-(K-1)+k, d)} where x(s, d) is
     * {@code x[xOff + s*xStride + d]} for s ≥ 0, {@code window[winOff + (K-1+s)*D + d]} for s < 0
     * (the K-1 inputs before this chunk, oldest first), or 0 when window is null. The window is
     * only read.
     */
    public static void conv(float[] out, int outOff, float[] x, int xOff, int xStride, float[] w, float[] bias,
                            float[] window, int winOff, int L, int D, int K, int d0, int d1) {
        int W = K - 1;
        for (int t = 0; t < L; t++) {
            for (int d = d0; d < d1; d++) {
                float acc = bias != null ? bias[d] : 0f;
                for (int k = 0; k < K; k++) {
                    int s = t - W + k;
                    float v;
                    if (s >= 0) {
                        v = x[xOff + s * xStride + d];
                    } else if (window != null) {
                        v = window[winOff + (W + s) * D + d];
                    } else {
                        continue;
                    }
                    acc += w[d * K + k] * v;
                }
                out[outOff + t * D + d] = acc;
            }
        }
    }
}
