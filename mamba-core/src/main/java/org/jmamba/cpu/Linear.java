package org.jmamba.cpu;

import org.jmamba.kernels.Kernels;

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
        // Split the work where there is most of it: over rows for a prompt or a training batch,
        // over output channels for a single decode step (rows = batch, often 1).
        if (rows >= par.threads()) {
            par.parallelFor(rows, (long) C * OC, (r0, r1) -> kernel(out, in, inOff, inStride, weight, bias, r0, r1, 0, OC, C, OC));
        } else {
            par.parallelFor(OC, (long) C * rows, (o0, o1) -> kernel(out, in, inOff, inStride, weight, bias, 0, rows, o0, o1, C, OC));
        }
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
        if (dIn != null) {
            par.parallelFor(rows, (long) C * OC, (r0, r1) ->
                    Kernels.gemmNN(dOut, 0, OC, weight, 0, C, dIn, dInOff, dInStride, true, r0, r1, 0, C, OC));
        }
        if (dWeight != null) {
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

    /** Rows per tile of {@link #kernel}: a tile of input rows stays in L1 while W streams past. */
    private static final int ROW_TILE = 16;

    /** Rows [r0, r1) and outputs [o0, o1) of the product. */
    private static void kernel(float[] out, float[] in, int inOff, int inStride, float[] weight, float[] bias,
                               int r0, int r1, int o0, int o1, int C, int OC) {
        // Loop order matters more than anything else here: with rows outermost the whole weight
        // matrix would be read from memory once per row; tiling rows reads it once per tile.
        for (int rt = r0; rt < r1; rt += ROW_TILE) {
            int rEnd = Math.min(r1, rt + ROW_TILE);
            for (int o = o0; o < o1; o++) {
                int w = o * C;
                float b = bias != null ? bias[o] : 0f;
                for (int r = rt; r < rEnd; r++) {
                    int x = inOff + r * inStride;
                    float sum = 0f;
                    for (int c = 0; c < C; c++) {
                        sum += in[x + c] * weight[w + c];
                    }
                    out[r * OC + o] = sum + b;
                }
            }
        }
    }
}
