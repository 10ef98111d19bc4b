package org.jmamba.cpu;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/**
 * Float64 twins of every layer's forward, written plainly from the math for the gradient tests:
 * flat row-major double arrays, the obvious loops, nothing shared with the production kernels.
 * Finite differences of these are the reference the fp32 backward passes are checked against.
 */
final class Twin64 {
    private Twin64() {
    }

    /** out[r, o] = Σ_c in[r, c] W[o, c] + bias[o]. */
    static double[] linear(double[] in, double[] W, double[] bias, int rows, int C, int OC) {
        double[] out = new double[rows * OC];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < OC; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int c = 0; c < C; c++) {
                    s += in[r * C + c] * W[o * C + c];
                }
                out[r * OC + o] = s;
            }
        }
        return out;
    }

    /** out = x / sqrt(mean(x²) + eps) * w, per row. */
    static double[] rmsNorm(double[] x, double[] w, int rows, int C, double eps) {
        double[] out = new double[rows * C];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < C; c++) {
                ss += x[r * C + c] * x[r * C + c];
            }
            double s = 1 / Math.sqrt(ss / C + eps);
            for (int c = 0; c < C; c++) {
                out[r * C + c] = x[r * C + c] * s * w[c];
            }
        }
        return out;
    }

    /** Causal depthwise conv over x[B, L, D] from zero padding: out[t] = bias + Σ_k w[k] x[t-K+1+k]. */
    static double[] conv(double[] x, double[] w, double[] bias, int B, int L, int D, int K) {
        double[] out = new double[B * L * D];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                for (int d = 0; d < D; d++) {
                    double s = bias == null ? 0 : bias[d];
                    for (int k = 0; k < K; k++) {
                        int src = t - (K - 1) + k;
                        if (src >= 0) {
                            s += w[d * K + k] * x[(b * L + src) * D + d];
                        }
                    }
                    out[(b * L + t) * D + d] = s;
                }
            }
        }
        return out;
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    static double[] silu(double[] x) {
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = silu(x[i]);
        }
        return o;
    }

    static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }

    static double[] embedding(int[] tokens, double[] wte, int C) {
        double[] out = new double[tokens.length * C];
        for (int i = 0; i < tokens.length; i++) {
            System.arraycopy(wte, tokens[i] * C, out, i * C, C);
        }
        return out;
    }

    /** Mean over rows with target ≥ 0 of logsumexp(logits) − logits[target]. */
    static double crossEntropy(double[] logits, int[] targets, int rows, int V) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, logits[r * V + v]);
            }
            double z = 0;
            for (int v = 0; v < V; v++) {
                z += Math.exp(logits[r * V + v] - max);
            }
            sum += max + Math.log(z) - logits[r * V + targets[r]];
            n++;
        }
        return sum / n;
    }

    /**
     * The selective scan over token-major arrays: u, delta, z [B, L, D]; Bm, Cm [B, L, N]; A [D, N].
     * out = (⟨h_t, C_t⟩ + D u_t) · silu(z_t), h_t = exp(Δ'A) h_{t-1} + Δ' B_t u_t, Δ' = softplus(Δ + bias).
     * Null bias, Dskip or z leave that term out.
     */
    static double[] scan(double[] u, double[] delta, double[] bias, double[] A, double[] Bm, double[] Cm,
                         double[] Dskip, double[] z, int B, int L, int D, int N) {
        double[] out = new double[B * L * D];
        for (int b = 0; b < B; b++) {
            for (int d = 0; d < D; d++) {
                double[] h = new double[N];
                for (int t = 0; t < L; t++) {
                    int i = (b * L + t) * D + d;
                    double dt = softplus(delta[i] + (bias == null ? 0 : bias[d]));
                    double y = 0;
                    for (int n = 0; n < N; n++) {
                        int bc = (b * L + t) * N + n;
                        h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * Bm[bc] * u[i];
                        y += h[n] * Cm[bc];
                    }
                    if (Dskip != null) {
                        y += Dskip[d] * u[i];
                    }
                    out[i] = z == null ? y : y * silu(z[i]);
                }
            }
        }
        return out;
    }

    /** Every parameter of {@code w} as float64, by its Hugging Face name (copies). */
    static Map<String, double[]> params(MambaWeights w) {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            m.put(e.getKey(), toDouble(e.getValue().data()));
        }
        return m;
    }

    /** The whole model's mean next-token loss, composed from the twins above. */
    static double modelLoss(MambaConfig c, Map<String, double[]> p, int[][] inputs, int[][] targets) {
        int B = inputs.length;
        int L = inputs[0].length;
        int BT = B * L;
        int C = c.dModel();
        int D = c.dInner();
        int N = c.dState();
        int R = c.dtRank();
        int S = c.xProjOut();
        int[] flat = new int[BT];
        int[] tgt = new int[BT];
        for (int b = 0; b < B; b++) {
            System.arraycopy(inputs[b], 0, flat, b * L, L);
            System.arraycopy(targets[b], 0, tgt, b * L, L);
        }
        double[] res = embedding(flat, p.get("backbone.embeddings.weight"), C);
        for (int l = 0; l < c.nLayer(); l++) {
            String q = "backbone.layers." + l + ".";
            double[] h = rmsNorm(res, p.get(q + "norm.weight"), BT, C, c.normEps());
            double[] xz = linear(h, p.get(q + "mixer.in_proj.weight"), p.get(q + "mixer.in_proj.bias"), BT, C, 2 * D);
            double[] x = new double[BT * D];
            double[] z = new double[BT * D];
            for (int r = 0; r < BT; r++) {
                System.arraycopy(xz, r * 2 * D, x, r * D, D);
                System.arraycopy(xz, r * 2 * D + D, z, r * D, D);
            }
            double[] u = silu(conv(x, p.get(q + "mixer.conv1d.weight"), p.get(q + "mixer.conv1d.bias"), B, L, D, c.dConv()));
            double[] dbc = linear(u, p.get(q + "mixer.x_proj.weight"), null, BT, D, S);
            double[] dtLow = new double[BT * R];
            double[] Bm = new double[BT * N];
            double[] Cm = new double[BT * N];
            for (int r = 0; r < BT; r++) {
                System.arraycopy(dbc, r * S, dtLow, r * R, R);
                System.arraycopy(dbc, r * S + R, Bm, r * N, N);
                System.arraycopy(dbc, r * S + R + N, Cm, r * N, N);
            }
            double[] delta = linear(dtLow, p.get(q + "mixer.dt_proj.weight"), null, BT, R, D);
            double[] aLog = p.get(q + "mixer.A_log");
            double[] A = new double[aLog.length];
            for (int i = 0; i < A.length; i++) {
                A[i] = -Math.exp(aLog[i]);
            }
            double[] g = scan(u, delta, p.get(q + "mixer.dt_proj.bias"), A, Bm, Cm, p.get(q + "mixer.D"), z, B, L, D, N);
            double[] out = linear(g, p.get(q + "mixer.out_proj.weight"), p.get(q + "mixer.out_proj.bias"), BT, D, C);
            for (int i = 0; i < res.length; i++) {
                res[i] += out[i];
            }
        }
        double[] fin = rmsNorm(res, p.get("backbone.norm_f.weight"), BT, C, c.normEps());
        double[] head = p.containsKey("lm_head.weight") ? p.get("lm_head.weight") : p.get("backbone.embeddings.weight");
        double[] logits = linear(fin, head, null, BT, C, c.vocabSize());
        return crossEntropy(logits, tgt, BT, c.vocabSize());
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
