package org.jmamba.cpu;

/**
 * RMSNorm (Zhang and Sennrich 2019), as Mamba uses it before each mixer and at the end:
 * {@code out = x / sqrt(mean(x^2) + eps) * weight}. No mean subtraction, no bias.
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /**
     * @param out    [rows, C] normalised rows
     * @param rstd   [rows] receives 1/sqrt(mean(x^2)+eps) per row, which the backward pass needs;
     *               may be null at inference
     * @param in     [rows, C] the residual stream (fp32)
     * @param weight [C] per-channel scale
     */
    public static void forward(float[] out, float[] rstd, float[] in, float[] weight, int rows, int C, double eps) {
        for (int r = 0; r < rows; r++) {
            int off = r * C;
            // Accumulate the sum of squares in double: C is up to a few thousand and the mean of
            // squares is the one reduction here whose rounding shows in every output element.
            double ss = 0;
            for (int c = 0; c < C; c++) {
                float x = in[off + c];
                ss += (double) x * x;
            }
            float s = (float) (1.0 / Math.sqrt(ss / C + eps));
            if (rstd != null) {
                rstd[r] = s;
            }
            for (int c = 0; c < C; c++) {
                out[off + c] = in[off + c] * s * weight[c];
            }
        }
    }

    /**
     * Backward of {@link #forward}: <em>adds</em> ∂loss/∂in into {@code dIn} and ∂loss/∂weight into
     * {@code dWeight}. With s = rstd, x̂ = x·s and g = dOut ⊙ weight, per row:
     * <pre>
     *   dWeight[c] += Σ_rows dOut[c] · x̂[c]
     *   dIn[c]     += s · (g[c] − x̂[c] · mean_c'(g[c'] · x̂[c']))
     * </pre>
     * The second term is the path through s, which depends on every element of the row. On the
     * residual stream {@code dIn} already holds the skip connection's gradient, hence "adds".
     *
     * @param dIn     [rows, C]
     * @param dWeight [C]
     * @param dOut    [rows, C] ∂loss/∂out
     * @param in      [rows, C] the forward's input
     * @param rstd    [rows] as saved by {@link #forward}
     */
    public static void backward(Parallel par, float[] dIn, float[] dWeight, float[] dOut, float[] in, float[] rstd,
                                float[] weight, int rows, int C) {
        par.parallelFor(rows, 6L * C, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * C;
                float s = rstd[r];
                double dot = 0; // Σ g·x̂ in double, the one reduction of the row
                for (int c = 0; c < C; c++) {
                    dot += (double) (dOut[off + c] * weight[c]) * (in[off + c] * s);
                }
                float mean = (float) (dot / C);
                for (int c = 0; c < C; c++) {
                    dIn[off + c] += s * (dOut[off + c] * weight[c] - in[off + c] * s * mean);
                }
            }
        });
        // Each thread owns a range of channels and sums the rows in order: no races, fixed order.
        par.parallelFor(C, 2L * rows, (c0, c1) -> {
            double[] acc = new double[c1 - c0];
            for (int r = 0; r < rows; r++) {
                int off = r * C;
                float s = rstd[r];
                for (int c = c0; c < c1; c++) {
                    acc[c - c0] += dOut[off + c] * (in[off + c] * s);
                }
            }
            for (int c = c0; c < c1; c++) {
                dWeight[c] += (float) acc[c - c0];
            }
        });
    }
}
