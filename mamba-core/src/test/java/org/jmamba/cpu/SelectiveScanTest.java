package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jmamba.contract.Compare;
import org.junit.jupiter.api.Test;

/**
 * The fused scan against a plain float64 scan in the reference's (batch, dim, len) layout.
 *
 * <p>Errors are measured against the size of the terms each value is summed from, not the value itself:
 * an output is a sum ({@code Σ h·C + D·u}) that can cancel to almost nothing, and then float32's error,
 * which is relative to the terms, is unbounded relative to the result. A run once failed that way on a
 * single-element case (relative error 1.2e-6 against a bound of 1e-6).
 */
class SelectiveScanTest {
    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    /** Inputs in the reference's layout, as doubles. */
    static final class Case {
        int B, D, L, N;
        double[][][] u, delta, z, Bm, Cm; // u/delta/z: [B][D][L]; Bm/Cm: [B][N][L]
        double[][] A;                      // [D][N]
        double[] Dskip, bias;
        double[][][] out;                  // [B][D][L]
        double[][][] last;                 // [B][D][N]
        double[][][] outScale;             // [B][D][L]: the output computed from absolute values of its terms
        double[][][] lastScale;            // [B][D][N]: the same for the state
    }

    /** The float64 scan, written directly from the equations. */
    static void reference(Case c, double[][][] init) {
        c.out = new double[c.B][c.D][c.L];
        c.last = new double[c.B][c.D][c.N];
        c.outScale = new double[c.B][c.D][c.L];
        c.lastScale = new double[c.B][c.D][c.N];
        for (int b = 0; b < c.B; b++) {
            for (int d = 0; d < c.D; d++) {
                double[] h = init == null ? new double[c.N] : init[b][d].clone();
                double[] hAbs = new double[c.N];
                for (int n = 0; n < c.N; n++) {
                    hAbs[n] = Math.abs(h[n]);
                }
                for (int t = 0; t < c.L; t++) {
                    double dt = Reference64.softplus(c.delta[b][d][t] + c.bias[d]);
                    double y = 0;
                    double yAbs = 0;
                    for (int n = 0; n < c.N; n++) {
                        double decay = Math.exp(dt * c.A[d][n]);
                        double input = dt * c.Bm[b][n][t] * c.u[b][d][t];
                        h[n] = decay * h[n] + input;
                        hAbs[n] = decay * hAbs[n] + Math.abs(input);
                        y += h[n] * c.Cm[b][n][t];
                        yAbs += hAbs[n] * Math.abs(c.Cm[b][n][t]);
                    }
                    y += c.Dskip[d] * c.u[b][d][t];
                    yAbs += Math.abs(c.Dskip[d] * c.u[b][d][t]);
                    double gate = Reference64.silu(c.z[b][d][t]);
                    c.out[b][d][t] = y * gate;
                    c.outScale[b][d][t] = yAbs * Math.abs(gate);
                }
                c.last[b][d] = h;
                c.lastScale[b][d] = hAbs;
            }
        }
    }

    private Case randomCase(int B, int D, int L, int N) {
        Case c = new Case();
        c.B = B;
        c.D = D;
        c.L = L;
        c.N = N;
        c.u = rand3(B, D, L, 1);
        c.delta = rand3(B, D, L, 1);
        c.z = rand3(B, D, L, 1);
        c.Bm = rand3(B, N, L, 1);
        c.Cm = rand3(B, N, L, 1);
        c.A = new double[D][N];
        for (int d = 0; d < D; d++) {
            for (int n = 0; n < N; n++) {
                c.A[d][n] = -(float) Math.exp(rnd.nextGaussian() * 0.5);
            }
        }
        c.Dskip = new double[D];
        c.bias = new double[D];
        for (int d = 0; d < D; d++) {
            c.Dskip[d] = (float) rnd.nextGaussian();
            c.bias[d] = (float) (rnd.nextGaussian() - 2);
        }
        return c;
    }

    private double[][][] rand3(int a, int b, int n, double std) {
        double[][][] x = new double[a][b][n];
        for (double[][] p : x) {
            for (double[] q : p) {
                for (int i = 0; i < n; i++) {
                    q[i] = (float) (rnd.nextGaussian() * std); // representable in fp32 exactly
                }
            }
        }
        return x;
    }

    /** [B][X][L] to token-major [B, L, X] floats. */
    static float[] tokenMajor(double[][][] x) {
        int B = x.length, X = x[0].length, L = x[0][0].length;
        float[] o = new float[B * L * X];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < X; i++) {
                for (int t = 0; t < L; t++) {
                    o[(b * L + t) * X + i] = (float) x[b][i][t];
                }
            }
        }
        return o;
    }

    static double[] tokenMajorDouble(double[][][] x) {
        int B = x.length, X = x[0].length, L = x[0][0].length;
        double[] o = new double[B * L * X];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < X; i++) {
                for (int t = 0; t < L; t++) {
                    o[(b * L + t) * X + i] = x[b][i][t];
                }
            }
        }
        return o;
    }

    static float[] flat(double[][] a) {
        float[] o = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                o[i * a[0].length + j] = (float) a[i][j];
            }
        }
        return o;
    }

    static float[] flat(double[] a) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = (float) a[i];
        }
        return o;
    }

    static double[] flat3(double[][][] a) {
        return Reference64.flat(a);
    }

    /** Runs the production scan on a case; returns out [B,L,D] and fills lastState [B,D,N]. */
    static float[] runScan(Parallel par, Case c, float[] state) {
        int B = c.B, D = c.D, L = c.L, N = c.N;
        float[] out = new float[B * L * D];
        SelectiveScan.forward(par, out, null, tokenMajor(c.u), tokenMajor(c.delta), flat(c.bias), flat(c.A),
                tokenMajor(c.Bm), 0, tokenMajor(c.Cm), 0, N, flat(c.Dskip), tokenMajor(c.z), 0, D, state, B, L, D, N);
        return out;
    }

    @Test
    void scanMatchesFloat64ReferenceOnRandomShapes() {
        try (Parallel par = new Parallel(2)) {
            for (int[] s : new int[][] {{1, 1, 1, 1}, {1, 5, 1, 3}, {3, 33, 17, 4}, {2, 70, 40, 16}, {1, 9, 64, 7}}) {
                Case c = randomCase(s[0], s[1], s[2], s[3]);
                reference(c, null);
                float[] state = new float[c.B * c.D * c.N];
                float[] out = runScan(par, c, state);
                double eo = Compare.errAgainst(out, tokenMajorDouble(c.out), tokenMajorDouble(c.outScale));
                double es = Compare.errAgainst(state, flat3(c.last), flat3(c.lastScale));
                assertTrue(eo <= 1e-6 && es <= 1e-6,
                        "scan " + java.util.Arrays.toString(s) + " seed " + seed + ": out " + eo + " state " + es);
            }
        }
    }

    @Test
    void stepAndChunkedForwardContinueTheSameState() {
        try (Parallel par = new Parallel(2)) {
            int B = 2, D = 11, L = 9, N = 5;
            Case c = randomCase(B, D, L, N);
            reference(c, null);
            float[] u = tokenMajor(c.u), delta = tokenMajor(c.delta), z = tokenMajor(c.z);
            float[] Bm = tokenMajor(c.Bm), Cm = tokenMajor(c.Cm);
            float[] state = new float[B * D * N];
            float[] out = new float[B * D];
            double[] got = new double[B * L * D];
            for (int t = 0; t < L; t++) {
                float[] ut = new float[B * D], dt = new float[B * D], zt = new float[B * D];
                float[] bt = new float[B * N], ct = new float[B * N];
                for (int b = 0; b < B; b++) {
                    System.arraycopy(u, (b * L + t) * D, ut, b * D, D);
                    System.arraycopy(delta, (b * L + t) * D, dt, b * D, D);
                    System.arraycopy(z, (b * L + t) * D, zt, b * D, D);
                    System.arraycopy(Bm, (b * L + t) * N, bt, b * N, N);
                    System.arraycopy(Cm, (b * L + t) * N, ct, b * N, N);
                }
                SelectiveScan.step(par, out, ut, dt, flat(c.bias), flat(c.A), bt, 0, ct, 0, N, flat(c.Dskip),
                        zt, 0, D, state, B, D, N);
                for (int b = 0; b < B; b++) {
                    for (int d = 0; d < D; d++) {
                        got[(b * L + t) * D + d] = out[b * D + d];
                    }
                }
            }
            float[] gotF = SelectiveScanTest.flat(got);
            double eo = Compare.errAgainst(gotF, tokenMajorDouble(c.out), tokenMajorDouble(c.outScale));
            double es = Compare.errAgainst(state, flat3(c.last), flat3(c.lastScale));
            assertTrue(eo <= 1e-6, "step vs reference, seed " + seed + ": " + eo);
            assertTrue(es <= 1e-6, "step state vs reference, seed " + seed + ": " + es);
        }
    }
}
