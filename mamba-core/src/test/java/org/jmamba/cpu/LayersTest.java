package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each kernel against a plain float64 loop on fresh random inputs (odd sizes, 1-sized edges). */
class LayersTest {
    private final Random rnd = new Random(System.nanoTime());

    @Test
    void linearWithStridedInputMatchesDouble() {
        try (Parallel par = new Parallel(3)) {
            for (int[] s : new int[][] {{1, 1, 1}, {1, 37, 5}, {7, 13, 300}, {50, 33, 17}, {2, 200, 400}}) {
                int rows = s[0], C = s[1], OC = s[2];
                int stride = C + 3, off = 2;
                float[] in = TestModels.gaussArray(rnd, 1, off + rows * stride);
                float[] w = TestModels.gaussArray(rnd, 1, OC * C);
                float[] bias = rnd.nextBoolean() ? TestModels.gaussArray(rnd, 1, OC) : null;
                float[] out = new float[rows * OC];
                Linear.forward(par, out, in, off, stride, w, bias, rows, C, OC);
                // Each output against the float64 sum, within float rounding of the size of its
                // terms: a sum that cancels (one output, bias ≈ -in·w) is no more exact than that.
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < OC; o++) {
                        double acc = bias == null ? 0 : bias[o];
                        double size = Math.abs(acc);
                        for (int c = 0; c < C; c++) {
                            double t = (double) in[off + r * stride + c] * w[o * C + c];
                            acc += t;
                            size += Math.abs(t);
                        }
                        double err = Math.abs(out[r * OC + o] - acc);
                        assertTrue(err <= 1e-6 * size, "linear " + rows + "x" + C + "x" + OC + " output (" + r + ", " + o
                                + "): " + out[r * OC + o] + " against " + acc + " (terms of total size " + size + ")");
                    }
                }
            }
        }
    }

    @Test
    void rmsNormMatchesDouble() {
        int rows = 5, C = 31;
        float[] in = TestModels.gaussArray(rnd, 3, rows * C);
        float[] w = TestModels.gaussArray(rnd, 1, C);
        float[] out = new float[rows * C];
        float[] rstd = new float[rows];
        RmsNorm.forward(out, rstd, in, w, rows, C, 1e-5);
        double[] ref = new double[rows * C];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < C; c++) {
                ss += (double) in[r * C + c] * in[r * C + c];
            }
            double s = 1 / Math.sqrt(ss / C + 1e-5);
            assertEquals(s, rstd[r], 1e-6 * s);
            for (int c = 0; c < C; c++) {
                ref[r * C + c] = in[r * C + c] * s * w[c];
            }
        }
        assertTrue(TestModels.relErr(out, ref) <= 1e-6);
    }

    @Test
    void convMatchesDoubleAndChunksContinueExactly() {
        try (Parallel par = new Parallel(2)) {
            for (int K : new int[] {1, 2, 4, 5}) {
                int B = 2, L = 11, D = 7, stride = 2 * D, off = D;
                float[] x = TestModels.gaussArray(rnd, 1, off + B * L * stride);
                float[] w = TestModels.gaussArray(rnd, 1, D * K);
                float[] bias = TestModels.gaussArray(rnd, 1, D);
                float[] out = new float[B * L * D];
                CausalConv1d.forward(par, out, x, off, stride, w, bias, null, B, L, D, K);
                double[] ref = new double[B * L * D];
                double[] scale = new double[B * L * D]; // the sum of the terms' sizes: what rounding is relative to
                for (int b = 0; b < B; b++) {
                    for (int t = 0; t < L; t++) {
                        for (int d = 0; d < D; d++) {
                            double acc = bias[d];
                            double size = Math.abs(bias[d]);
                            for (int k = 0; k < K; k++) {
                                int src = t - (K - 1) + k;
                                if (src >= 0) {
                                    double term = (double) w[d * K + k] * x[off + (b * L + src) * stride + d];
                                    acc += term;
                                    size += Math.abs(term);
                                }
                            }
                            ref[(b * L + t) * D + d] = acc;
                            scale[(b * L + t) * D + d] = size;
                        }
                    }
                }
                assertTrue(TestModels.relErr(out, ref) <= 1e-6, "conv K=" + K);

                // The same sequence in chunks 3 + 1 + 7 through a window, and then token by token via step.
                float[] window = new float[B * (K - 1) * D];
                float[] chunked = new float[B * L * D];
                int t0 = 0;
                for (int len : new int[] {3, 1, 7}) {
                    float[] xs = new float[B * len * D];
                    for (int b = 0; b < B; b++) {
                        for (int t = 0; t < len; t++) {
                            System.arraycopy(x, off + (b * L + t0 + t) * stride, xs, (b * len + t) * D, D);
                        }
                    }
                    float[] o = new float[B * len * D];
                    CausalConv1d.forward(par, o, xs, 0, D, w, bias, window, B, len, D, K);
                    for (int b = 0; b < B; b++) {
                        System.arraycopy(o, b * len * D, chunked, (b * L + t0) * D, len * D);
                    }
                    t0 += len;
                }
                assertTrue(TestModels.relErr(chunked, out) == 0, "chunked conv K=" + K);
                float[] win2 = new float[B * (K - 1) * D];
                for (int t = 0; t < L; t++) {
                    float[] o = new float[B * D];
                    CausalConv1d.step(o, x, off + t * stride, L * stride, w, bias, win2, B, D, K);
                    for (int b = 0; b < B; b++) {
                        for (int d = 0; d < D; d++) {
                            // The step sums the taps in its own order: equal to a few float32 roundings of the
                            // terms, not to an absolute 1e-6 (which failed once at 9.745327 against 9.745325).
                            int i = (b * L + t) * D + d;
                            assertEquals(out[i], o[b * D + d], 1e-6 * scale[i], "step K=" + K + " at " + i);
                        }
                    }
                }
                assertTrue(TestModels.relErr(win2, window) == 0 || window.length == 0, "windows agree K=" + K);
            }
        }
    }

    @Test
    void crossEntropyMatchesDoubleAndIgnoresNegativeTargets() {
        int BT = 4, V = 9;
        float[] logits = TestModels.gaussArray(rnd, 30, BT * V); // large values: needs the max shift
        int[] targets = {3, -1, 8, 0};
        float[] losses = new float[BT];
        double mean = CrossEntropy.forward(losses, logits, targets, BT, V);
        double sum = 0;
        for (int i = 0; i < BT; i++) {
            if (targets[i] < 0) {
                assertEquals(0f, losses[i]);
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, logits[i * V + v]);
            }
            double z = 0;
            for (int v = 0; v < V; v++) {
                z += Math.exp(logits[i * V + v] - max);
            }
            double l = max + Math.log(z) - logits[i * V + targets[i]];
            assertEquals(l, losses[i], 1e-5 * Math.max(1, l));
            sum += l;
        }
        assertEquals(sum / 3, mean, 1e-9 * Math.max(1, sum));
        assertTrue(Double.isNaN(CrossEntropy.forward(null, logits, new int[] {-1, -1, -1, -1}, BT, V)));
    }
}
