package org.jmamba.kernels;

/**
 * The kernels the model calls: each method runs the SIMD version when {@link VectorSupport#enabled()}
 * and the scalar twin otherwise. The branch is on a static final constant, so the JIT removes it;
 * the SIMD classes ({@link VectorLanes} and the kernels it lists) are never loaded when the Vector
 * API is absent.
 *
 * <p>See {@link ScalarKernels} for what each operation computes and the layout conventions.
 */
public final class Kernels {
    private static final boolean SIMD = VectorSupport.enabled();

    /**
     * Up to this many rows of A, f32 and bf16 products stream B once and compute each output as a
     * dot product, four rows of A at a time (decode of a batch, short prompts); above it they pack
     * panels of B for the blocked kernel (prefill, training). Packing a panel costs about as much
     * per weight as a few FMAs, which pays off only when many rows share it. Decoding a batch of
     * B sequences off the heap, the streaming form against the panels: f32 1.39x at B = 24, 1.37x
     * at 32, 1.06x at 48, 1.10x at 64; bf16 1.78x, 1.44x, 1.07x, 1.33x (docs/benchmarks.md).
     */
    public static final int FEW_ROWS = 64;
    /**
     * The same bound for int8, whose streaming form does half again as many FMAs per weight (each
     * block sum is scaled into the accumulator): against the panels 1.09x at B = 24, 0.98x at
     * 32, 0.82x at 48, 0.84x at 64.
     */
    public static final int INT8_FEW_ROWS = 32;

    private Kernels() {
    }

    /** Whether the SIMD kernels are in use. */
    public static boolean simd() {
        return SIMD;
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return SIMD ? VectorGemm.dot(a, aOff, b, bOff, n) : ScalarKernels.dot(a, aOff, b, bOff, n);
    }

    /** See {@link ScalarKernels#gemmNT}. */
    public static void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        if (SIMD) {
            VectorGemm.gemmNT(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        } else {
            ScalarKernels.gemmNT(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        }
    }

    /** Floats of scratch the panel form of {@link #gemmNT(float[], int, int, PanelSource, float[], int, int, float[], boolean, int, int, int, int, int, float[])} uses. */
    public static final int PANEL_SCRATCH_FLOATS = 256 * 192 + 6 * 3 * 64 + 64 * 256; // panel, edge tile, strip

    /**
     * gemmNT with B in any storage type, widened a panel at a time (see {@link PanelSource});
     * meant for 4 or more rows of A (prefill, a batch of sequences at decode).
     *
     * @param scratch {@link #PANEL_SCRATCH_FLOATS} floats to use, or null to allocate
     */
    public static void gemmNT(float[] a, int aOff, int lda, PanelSource b, float[] c, int cOff, int ldc,
                              float[] bias, boolean accumulate, int m0, int m1, int n0, int n1, int K, float[] scratch) {
        if (SIMD) {
            VectorGemm.gemmNT(a, aOff, lda, b, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K, scratch);
        } else {
            ScalarKernels.gemmNT(a, aOff, lda, b, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K, scratch);
        }
    }

    /** See {@link ScalarKernels#gemmNN}. */
    public static void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        if (SIMD) {
            VectorGemm.gemmNN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
        } else {
            ScalarKernels.gemmNN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
        }
    }

    /** See {@link ScalarKernels#gemmTN}. */
    public static void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        if (SIMD) {
            VectorGemm.gemmTN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
        } else {
            ScalarKernels.gemmTN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
        }
    }

    /** See {@link ScalarKernels#bf16NT}. */
    public static void bf16NT(float[] a, int aOff, int lda, short[] w, int ldw,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        if (SIMD) {
            VectorQuantised.bf16NT(a, aOff, lda, w, ldw, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        } else {
            ScalarKernels.bf16NT(a, aOff, lda, w, ldw, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        }
    }

    /** See {@link ScalarKernels#int8NT}. */
    public static void int8NT(float[] a, int aOff, int lda, byte[] q, float[] scales,
                              float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                              int m0, int m1, int n0, int n1, int K) {
        if (SIMD) {
            VectorQuantised.int8NT(a, aOff, lda, q, scales, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        } else {
            ScalarKernels.int8NT(a, aOff, lda, q, scales, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
        }
    }

    /** See {@link ScalarKernels#bf16Widen}. */
    public static void bf16Widen(short[] w, int ldw, int n0, int nl, int k0, int kl, float[] out, int off, int ldo) {
        if (SIMD) {
            VectorQuantised.bf16Widen(w, ldw, n0, nl, k0, kl, out, off, ldo);
        } else {
            ScalarKernels.bf16Widen(w, ldw, n0, nl, k0, kl, out, off, ldo);
        }
    }

    /** See {@link ScalarKernels#int8Widen}. */
    public static void int8Widen(byte[] q, float[] scales, int K, int n0, int nl, int k0, int kl,
                                 float[] out, int off, int ldo) {
        if (SIMD) {
            VectorQuantised.int8Widen(q, scales, K, n0, nl, k0, kl, out, off, ldo);
        } else {
            ScalarKernels.int8Widen(q, scales, K, n0, nl, k0, kl, out, off, ldo);
        }
    }

    /** See {@link ScalarKernels#rmsnorm}. */
    public static float rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        return SIMD ? VectorRowOps.rmsnorm(out, outOff, x, xOff, w, n, eps)
                : ScalarKernels.rmsnorm(out, outOff, x, xOff, w, n, eps);
    }

    public static float max(float[] x, int off, int n) {
        return SIMD ? VectorRowOps.max(x, off, n) : ScalarKernels.max(x, off, n);
    }

    public static float logSumExp(float[] x, int off, int n) {
        return SIMD ? VectorRowOps.logSumExp(x, off, n) : ScalarKernels.logSumExp(x, off, n);
    }

    /**
     * {@link Int8Blocks#quantize(float[], int, int, int, byte[], float[])}, with SIMD where the
     * vector width allows: the same bits either way.
     */
    public static void quantizeInt8(float[] w, int r0, int rows, int k, byte[] q, float[] scales) {
        if (SIMD && VectorPacking.SUPPORTED) {
            VectorPacking.quantizeInt8(w, r0, rows, k, q, scales);
        } else {
            Int8Blocks.quantize(w, r0, rows, k, q, scales);
        }
    }

    /** {@link Bf16#fromFloats}, with SIMD where the vector width allows: the same bits either way. */
    public static void toBf16(float[] in, int inOff, short[] out, int outOff, int n) {
        if (SIMD && VectorPacking.SUPPORTED) {
            VectorPacking.toBf16(in, inOff, out, outOff, n);
        } else {
            Bf16.fromFloats(in, inOff, out, outOff, n);
        }
    }

    /** See {@link ScalarKernels#expShifted}: the same bits on either path. */
    public static void expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n) {
        if (SIMD) {
            VectorRowOps.expShifted(x, xOff, shift, out, outOff, n);
        } else {
            ScalarKernels.expShifted(x, xOff, shift, out, outOff, n);
        }
    }

    public static void softmax(float[] x, int off, int n) {
        if (SIMD) {
            VectorRowOps.softmax(x, off, n);
        } else {
            ScalarKernels.softmax(x, off, n);
        }
    }

    public static void logSoftmax(float[] x, int off, int n) {
        if (SIMD) {
            VectorRowOps.logSoftmax(x, off, n);
        } else {
            ScalarKernels.logSoftmax(x, off, n);
        }
    }

    /** See {@link ScalarKernels#convBackwardTap}. */
    public static void convBackwardTap(float[] dw, int dwOff, float[] dx, int dxOff, float[] w, int wOff,
                                       float[] go, int goOff, float[] x, int xOff, int n) {
        if (SIMD) {
            VectorConv.convBackwardTap(dw, dwOff, dx, dxOff, w, wOff, go, goOff, x, xOff, n);
        } else {
            ScalarKernels.convBackwardTap(dw, dwOff, dx, dxOff, w, wOff, go, goOff, x, xOff, n);
        }
    }

    /** See {@link ScalarKernels#siluBackward}. */
    public static void siluBackward(float[] dx, float[] dOut, float[] x, int off, int n) {
        if (SIMD) {
            VectorRowOps.siluBackward(dx, dOut, x, off, n);
        } else {
            ScalarKernels.siluBackward(dx, dOut, x, off, n);
        }
    }

    public static void silu(float[] out, int outOff, float[] x, int xOff, int n) {
        if (SIMD) {
            VectorRowOps.silu(out, outOff, x, xOff, n);
        } else {
            ScalarKernels.silu(out, outOff, x, xOff, n);
        }
    }

    /** See {@link ScalarKernels#scan}. */
    public static void scan(float[] out, float[] yOut, int off, float[] u, float[] delta, float[] deltaBias,
                            float[] A, float[] bm, int bOff, float[] cm, int cOff, int bcStride, float[] dSkip,
                            float[] z, int zOff, int zStride, float[] state, int stateOff,
                            int L, int D, int N, int d0, int d1) {
        if (SIMD) {
            VectorScan.scan(out, yOut, off, u, delta, deltaBias, A, bm, bOff, cm, cOff, bcStride, dSkip,
                    z, zOff, zStride, state, stateOff, L, D, N, d0, d1);
        } else {
            ScalarKernels.scan(out, yOut, off, u, delta, deltaBias, A, bm, bOff, cm, cOff, bcStride, dSkip,
                    z, zOff, zStride, state, stateOff, L, D, N, d0, d1);
        }
    }

    /** See {@link ScalarKernels#scanStep}. */
    public static void scanStep(float[] out, int off, float[] u, float[] delta, float[] deltaBias,
                                float[] A, float[] bm, int bOff, float[] cm, int cOff, float[] dSkip,
                                float[] z, int zOff, float[] state, int stateOff, int D, int N, int d0, int d1) {
        if (SIMD) {
            VectorScan.scanStep(out, off, u, delta, deltaBias, A, bm, bOff, cm, cOff, dSkip, z, zOff,
                    state, stateOff, D, N, d0, d1);
        } else {
            ScalarKernels.scanStep(out, off, u, delta, deltaBias, A, bm, bOff, cm, cOff, dSkip, z, zOff,
                    state, stateOff, D, N, d0, d1);
        }
    }

    /** See {@link ScalarKernels#conv}. */
    public static void conv(float[] out, int outOff, float[] x, int xOff, int xStride, float[] w, float[] bias,
                            float[] window, int winOff, int L, int D, int K, int d0, int d1) {
        if (SIMD) {
            VectorConv.conv(out, outOff, x, xOff, xStride, w, bias, window, winOff, L, D, K, d0, d1);
        } else {
            ScalarKernels.conv(out, outOff, x, xOff, xStride, w, bias, window, winOff, L, D, K, d0, d1);
        }
    }

    /** See {@link ScalarKernels#convStep}: taps are tap-major [K, D] ({@link #convTaps}). */
    public static void convStep(float[] out, int outOff, float[] x, int xOff, float[] taps, float[] bias,
                                float[] window, int winOff, int D, int K, int d0, int d1) {
        if (SIMD) {
            VectorConv.convStep(out, outOff, x, xOff, taps, bias, window, winOff, D, K, d0, d1);
        } else {
            ScalarKernels.convStep(out, outOff, x, xOff, taps, bias, window, winOff, D, K, d0, d1);
        }
    }

    /** See {@link ScalarKernels#convTaps}. */
    public static float[] convTaps(float[] w, int D, int K) {
        return ScalarKernels.convTaps(w, D, K);
    }
}
