package org.jmamba.cpu;

import org.jmamba.kernels.GemmProvider;
import org.jmamba.kernels.Kernels;
import org.jmamba.kernels.PackedMatrix;

/**
 * A dense projection {@code out = in · Wᵀ + b}, the one place where the model's matrix products
 * happen (in_proj, x_proj, dt_proj, out_proj and the head all come through here), so that a faster
 * or quantised kernel is a change to this file only.
 *
 * <p>W is [OC, C] row-major, exactly as PyTorch's {@code nn.Linear} stores it, so each output is a
 * dot product of two contiguous rows. The input rows may be a strided slice of a wider buffer
 * (e.g. the Δ part of x_proj's output), which saves a copy.
 */
public final class Linear {
    private Linear() {
    }

    /** {@code out[rows, OC] = in[rows, C] · W[OC, C]ᵀ + bias}, input rows contiguous. */
    public static void forward(Parallel par, float[] out, float[] in, float[] weight, float[] bias,
                               int rows, int C, int OC) {
        forward(par, out, in, 0, C, weight, bias, rows, C, OC);
    }

    /**
     * @param out      [rows, OC], contiguous
     * @param in       input; row r's C values start at {@code inOff + r * inStride}
     * @param weight   [OC, C]
     * @param bias     [OC] or null
     */
    public static void forward(Parallel par, float[] out, float[] in, int inOff, int inStride, float[] weight,
                               float[] bias, int rows, int C, int OC) {
        // An optional engine (ND4J's BLAS) takes the large products it accepts, whole.
        GemmProvider gemm = par.gemm();
        if (gemm != null && gemm.accepts(rows, OC, C)) {
            gemm.gemmNT(in, inOff, inStride, weight, 0, C, out, 0, OC, bias, false, rows, OC, C);
            return;
        }
        // Threads take output channels (rows of W), never input rows: each thread streams its own
        // part of W once, and every thread sees all rows, so the kernel (which picks its method
        // by the number of rows) computes each output the same way whatever the split.
        par.parallelFor(OC, (long) C * rows, (o0, o1) ->
                Kernels.gemmNT(in, inOff, inStride, weight, 0, C, out, 0, OC, bias, false, 0, rows, o0, o1, C));
    }

    /**
     * {@code out[rows, W.rows] = in · Wᵀ + bias} with W in its inference storage type (f32, bf16 or
     * block-int8; see {@link PackedMatrix}). The inference paths (forward, prefill) call this one.
     *
     * @param in row r's {@code W.cols()} values start at {@code inOff + r * inStride}
     */
    public static void forward(Parallel par, float[] out, float[] in, int inOff, int inStride, PackedMatrix weight,
                               float[] bias, int rows) {
        int C = weight.cols();
        int OC = weight.rows();
        float[] f32 = weight.f32Array();
        if (f32 != null) {
            forward(par, out, in, inOff, inStride, f32, bias, rows, C, OC);
            return;
        }
        par.parallelFor(OC, (long) C * rows, (o0, o1) ->
                weight.multiply(in, inOff, inStride, out, 0, OC, bias, 0, rows, o0, o1, null));
    }

    /** {@link #backward} with contiguous input rows and input gradient. */
    public static void backward(Parallel par, float[] dIn, float[] dWeight, float[] dBias, float[] dOut,
                                float[] in, float[] weight, int rows, int C, int OC) {
        backward(par, dIn, 0, C, dWeight, dBias, dOut, in, 0, C, weight, rows, C, OC);
    }

    /**
     * Backward of {@link #forward}: given {@code dOut = ∂loss/∂out} [rows, OC], <em>adds</em>
     * <pre>
     *   dIn     += dOut · W          [rows, C]    (gemmNN)
     *   dWeight += dOutᵀ · in        [OC, C]      (gemmTN)
     *   dBias   += Σ_rows dOut       [OC]
     * </pre>
     * Threads split dIn by rows and dWeight/dBias by output channel, never the reduction: each
     * element is summed by one thread in a fixed order, and a thread's share always spans whole rows
     * of its output, so the SIMD kernels' vector/tail split of a row is the same for any thread count.
     * The result is therefore the same bit for bit for any number of threads.
     *
     * @param dIn     input gradient; row r's C values at {@code dInOff + r * dInStride}; null to skip
     * @param dWeight [OC, C], or null to skip
     * @param dBias   [OC], or null to skip
     * @param dOut    [rows, OC], contiguous
     * @param in      the forward's input; row r at {@code inOff + r * inStride}
     * @param weight  [OC, C]
     */
    public static void backward(Parallel par, float[] dIn, int dInOff, int dInStride, float[] dWeight, float[] dBias,
                                float[] dOut, float[] in, int inOff, int inStride, float[] weight,
                                int rows, int C, int OC) {
        // An optional engine (ND4J's BLAS) takes the large products it accepts, whole.
        GemmProvider gemm = par.gemm();
        boolean dInDone = false;
        boolean dWeightDone = false;
        if (dIn != null && gemm != null && gemm.accepts(rows, C, OC)) {
            gemm.gemmNN(dOut, 0, OC, weight, 0, C, dIn, dInOff, dInStride, true, rows, C, OC);
            dInDone = true;
        }
        if (dWeight != null && gemm != null && gemm.accepts(OC, C, rows)) {
            gemm.gemmTN(dOut, 0, OC, in, inOff, inStride, dWeight, 0, C, true, OC, C, rows);
            dWeightDone = true;
        }
        if (dIn != null && !dInDone) {
            par.parallelFor(rows, (long) C * OC, (r0, r1) ->
                    Kernels.gemmNN(dOut, 0, OC, weight, 0, C, dIn, dInOff, dInStride, true, r0, r1, 0, C, OC));
        }
        if (dWeight != null && !dWeightDone) {
            par.parallelFor(OC, (long) C * rows, (o0, o1) ->
                    Kernels.gemmTN(dOut, 0, OC, in, inOff, inStride, dWeight, 0, C, true, o0, o1, 0, C, rows));
        }
        if (dBias != null) {
            par.parallelFor(OC, rows, (o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    double sum = 0;
                    for (int r = 0; r < rows; r++) {
                        sum += dOut[r * OC + o];
                    }
                    dBias[o] += (float) sum;
                }
            });
        }
    }
}
