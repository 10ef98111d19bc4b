package org.jmamba.cpu;

import java.util.ArrayList;
import java.util.List;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/**
 * An independent float64 twin of the Mamba model, written as plainly as possible from the paper's
 * equations: one sequence at a time, nested loops over natural [t][channel] arrays, nothing shared
 * with the production kernels. Slow, and only for tests.
 */
final class Reference64 {
    final List<double[][][]> hidden = new ArrayList<>(); // nLayer+1 of [B][L][C]
    double[][][] logits;                                  // [B][L][V]

    private Reference64() {
    }

    static Reference64 run(MambaWeights w, int[][] tokens) {
        MambaConfig c = w.config();
        int B = tokens.length;
        int L = tokens[0].length;
        Reference64 r = new Reference64();
        double[][][] res = new double[B][L][];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                res[b][t] = row(w.embedding(), tokens[b][t]);
            }
        }
        for (int l = 0; l < c.nLayer(); l++) {
            double[][][] next = new double[B][][];
            for (int b = 0; b < B; b++) {
                next[b] = block(c, w.layer(l), res[b]);
            }
            res = next;
            r.hidden.add(res);
        }
        double[][][] fin = new double[B][L][];
        r.logits = new double[B][L][];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                fin[b][t] = rmsNorm(res[b][t], d(w.normF()), c.normEps());
                r.logits[b][t] = matVec(w.head(), fin[b][t], null);
            }
        }
        r.hidden.add(fin);
        return r;
    }

    /** One block over one sequence: [L][C] residual in, [L][C] residual out. */
    static double[][] block(MambaConfig c, LayerWeights w, double[][] res) {
        int L = res.length;
        int D = c.dInner();
        int K = c.dConv();
        int R = c.dtRank();
        int N = c.dState();
        double[][] x = new double[L][D];
        double[][] z = new double[L][D];
        for (int t = 0; t < L; t++) {
            double[] h = rmsNorm(res[t], d(w.norm()), c.normEps());
            double[] xz = matVec(w.inProj(), h, w.inProjBias());
            for (int i = 0; i < D; i++) {
                x[t][i] = xz[i];
                z[t][i] = xz[D + i];
            }
        }
        double[] convW = d(w.convWeight());
        double[][] u = new double[L][D];
        for (int t = 0; t < L; t++) {
            for (int i = 0; i < D; i++) {
                double s = w.convBias() == null ? 0 : w.convBias().data()[i];
                for (int k = 0; k < K; k++) {
                    int src = t - (K - 1) + k;
                    if (src >= 0) {
                        s += convW[i * K + k] * x[src][i];
                    }
                }
                u[t][i] = silu(s);
            }
        }
        double[][] dt = new double[L][];
        double[][] Bm = new double[L][N];
        double[][] Cm = new double[L][N];
        for (int t = 0; t < L; t++) {
            double[] dbc = matVec(w.xProj(), u[t], null);
            double[] low = new double[R];
            System.arraycopy(dbc, 0, low, 0, R);
            System.arraycopy(dbc, R, Bm[t], 0, N);
            System.arraycopy(dbc, R + N, Cm[t], 0, N);
            dt[t] = matVec(w.dtProj(), low, w.dtBias());
            for (int i = 0; i < D; i++) {
                dt[t][i] = softplus(dt[t][i]);
            }
        }
        double[] aLog = d(w.aLog());
        double[][] out = new double[L][];
        double[][] state = new double[D][N];
        for (int t = 0; t < L; t++) {
            double[] g = new double[D];
            for (int i = 0; i < D; i++) {
                double y = 0;
                for (int n = 0; n < N; n++) {
                    double a = -Math.exp(aLog[i * N + n]);
                    state[i][n] = Math.exp(dt[t][i] * a) * state[i][n] + dt[t][i] * Bm[t][n] * u[t][i];
                    y += state[i][n] * Cm[t][n];
                }
                y += w.d().data()[i] * u[t][i];
                g[i] = y * silu(z[t][i]);
            }
            double[] o = matVec(w.outProj(), g, w.outProjBias());
            out[t] = new double[o.length];
            for (int j = 0; j < o.length; j++) {
                out[t][j] = res[t][j] + o[j];
            }
        }
        return out;
    }

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    static double softplus(double v) {
        return v > 20 ? v : Math.log1p(Math.exp(v));
    }

    static double[] rmsNorm(double[] v, double[] weight, double eps) {
        double ss = 0;
        for (double e : v) {
            ss += e * e;
        }
        double s = 1 / Math.sqrt(ss / v.length + eps);
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = v[i] * s * weight[i];
        }
        return o;
    }

    /** W [out, in] times v, plus bias. */
    static double[] matVec(FloatTensor w, double[] v, FloatTensor bias) {
        int out = w.dim(0);
        int in = w.dim(1);
        double[] o = new double[out];
        for (int i = 0; i < out; i++) {
            double s = bias == null ? 0 : bias.data()[i];
            for (int j = 0; j < in; j++) {
                s += w.data()[i * in + j] * v[j];
            }
            o[i] = s;
        }
        return o;
    }

    static double[] row(FloatTensor m, int r) {
        int C = m.dim(1);
        double[] o = new double[C];
        for (int i = 0; i < C; i++) {
            o[i] = m.data()[r * C + i];
        }
        return o;
    }

    static double[] d(FloatTensor t) {
        return TestModels.toDouble(t.data());
    }

    static double[] flat(double[][][] a) {
        int n = 0;
        for (double[][] x : a) {
            for (double[] y : x) {
                n += y.length;
            }
        }
        double[] o = new double[n];
        int k = 0;
        for (double[][] x : a) {
            for (double[] y : x) {
                System.arraycopy(y, 0, o, k, y.length);
                k += y.length;
            }
        }
        return o;
    }
}
