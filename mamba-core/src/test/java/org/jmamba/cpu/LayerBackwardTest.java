package org.jmamba.cpu;

import static org.jmamba.cpu.GradCheck.added;
import static org.jmamba.cpu.GradCheck.all;
import static org.jmamba.cpu.GradCheck.dot;
import static org.jmamba.cpu.GradCheck.fd;
import static org.jmamba.cpu.GradCheck.gauss;
import static org.jmamba.cpu.GradCheck.relErr;
import static org.jmamba.cpu.GradCheck.sample;
import static org.jmamba.cpu.Twin64.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each layer's fp32 backward against central differences (float64) of an independent float64 twin
 * of its forward ({@link Twin64}), on random shapes, with the loss Σ out·dout for a random dout.
 * Gradient buffers start out holding random values, which checks that every backward adds.
 *
 * <p>Tolerance: ‖analytic − fd‖/‖fd‖ ≤ 1e-4 per tensor. fp32 arithmetic alone gives ~1e-6 here;
 * the float64 differences are exact to ~1e-9.
 */
class LayerBackwardTest {
    private static final double TOL = 1e-4;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LayerBackwardTest.class);
    private static final java.util.Map<String, Double> WORST = new java.util.concurrent.ConcurrentSkipListMap<>();

    private static void check(String what, float[] analytic, int[] idx, double[] fdGrad) {
        double e = relErr(analytic, idx, fdGrad);
        WORST.merge(what, e, Math::max);
        assertTrue(e <= TOL, what + ": rel err " + e);
    }

    @org.junit.jupiter.api.AfterAll
    static void report() {
        WORST.forEach((k, v) -> LOG.info("worst rel err {}: {}", k, String.format("%.2e", v)));
    }

    @Test
    void linearWithStridedInputAndBias() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 6; trial++) {
            int rows = 1 + rnd.nextInt(40);
            int C = 1 + rnd.nextInt(30);
            int OC = 1 + rnd.nextInt(25);
            int inOff = rnd.nextInt(3);
            int inStride = C + rnd.nextInt(4);
            boolean hasBias = rnd.nextBoolean();
            float[] inBuf = gauss(rnd, inOff + rows * inStride, 1);
            float[] W = gauss(rnd, OC * C, 1 / Math.sqrt(C));
            float[] bias = hasBias ? gauss(rnd, OC, 0.3) : null;
            float[] dout = gauss(rnd, rows * OC, 1);
            float[] dInBuf = gauss(rnd, inOff + rows * inStride, 1);
            float[] dW = gauss(rnd, OC * C, 1);
            float[] dBias = hasBias ? gauss(rnd, OC, 1) : null;
            float[] dIn0 = dInBuf.clone();
            float[] dW0 = dW.clone();
            float[] dBias0 = hasBias ? dBias.clone() : null;
            try (Parallel par = new Parallel(2)) {
                Linear.backward(par, dInBuf, inOff, inStride, dW, dBias, dout, inBuf, inOff, inStride, W, rows, C, OC);
            }
            double[] x = new double[rows * C];
            float[] dIn = new float[rows * C];
            float[] dInAdded = added(dInBuf, dIn0);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < C; c++) {
                    x[r * C + c] = inBuf[inOff + r * inStride + c];
                    dIn[r * C + c] = dInAdded[inOff + r * inStride + c];
                }
            }
            // The padding between strided rows is not an input: nothing may land there.
            for (int i = 0; i < dInBuf.length; i++) {
                int j = i - inOff;
                if (j < 0 || j % inStride >= C) {
                    assertEquals(dIn0[i], dInBuf[i], "padding at " + i);
                }
            }
            double[] w = toDouble(W);
            double[] b = hasBias ? toDouble(bias) : null;
            double[] dy = toDouble(dout);
            GradCheck.Fn f = () -> dot(Twin64.linear(x, w, b, rows, C, OC), dy);
            check("linear dIn", dIn, all(x.length), fd(x, all(x.length), f));
            check("linear dW", added(dW, dW0), all(w.length), fd(w, all(w.length), f));
            if (hasBias) {
                check("linear dBias", added(dBias, dBias0), all(OC), fd(b, all(OC), f));
            }
        }
    }

    @Test
    void rmsNorm() {
        Random rnd = new Random(12);
        for (int trial = 0; trial < 6; trial++) {
            int rows = 1 + rnd.nextInt(30);
            int C = 1 + rnd.nextInt(40);
            double eps = 1e-5;
            float[] x = gauss(rnd, rows * C, 1 + rnd.nextInt(3));
            float[] w = gauss(rnd, C, 0.5);
            float[] dout = gauss(rnd, rows * C, 1);
            float[] out = new float[rows * C];
            float[] rstd = new float[rows];
            RmsNorm.forward(out, rstd, x, w, rows, C, eps);
            float[] dx = gauss(rnd, rows * C, 1);
            float[] dw = gauss(rnd, C, 1);
            float[] dx0 = dx.clone();
            float[] dw0 = dw.clone();
            try (Parallel par = new Parallel(2)) {
                RmsNorm.backward(par, dx, dw, dout, x, rstd, w, rows, C);
            }
            double[] xd = toDouble(x);
            double[] wd = toDouble(w);
            double[] dy = toDouble(dout);
            GradCheck.Fn f = () -> dot(Twin64.rmsNorm(xd, wd, rows, C, eps), dy);
            check("rmsnorm dx", added(dx, dx0), all(xd.length), fd(xd, all(xd.length), f));
            check("rmsnorm dw", added(dw, dw0), all(C), fd(wd, all(C), f));
        }
    }

    @Test
    void embeddingScatterAddsRepeatedTokens() {
        Random rnd = new Random(13);
        for (int trial = 0; trial < 4; trial++) {
            int V = 1 + rnd.nextInt(10);
            int C = 1 + rnd.nextInt(20);
            int BT = 1 + rnd.nextInt(40); // more rows than tokens: repeats
            int[] tokens = new int[BT];
            for (int i = 0; i < BT; i++) {
                tokens[i] = rnd.nextInt(V);
            }
            float[] wte = gauss(rnd, V * C, 1);
            float[] dout = gauss(rnd, BT * C, 1);
            float[] dWte = gauss(rnd, V * C, 1);
            float[] dWte0 = dWte.clone();
            try (Parallel par = new Parallel(2)) {
                Embedding.backward(par, dWte, dout, tokens, BT, C);
            }
            double[] wd = toDouble(wte);
            double[] dy = toDouble(dout);
            GradCheck.Fn f = () -> dot(Twin64.embedding(tokens, wd, C), dy);
            check("embedding dWte", added(dWte, dWte0), all(wd.length), fd(wd, all(wd.length), f));
        }
    }

    @Test
    void causalConvWithStridedInput() {
        Random rnd = new Random(14);
        for (int trial = 0; trial < 6; trial++) {
            int B = 1 + rnd.nextInt(3);
            int L = 1 + rnd.nextInt(12);
            int D = 1 + rnd.nextInt(20);
            int K = 1 + rnd.nextInt(5);
            boolean hasBias = rnd.nextBoolean();
            int xOff = rnd.nextInt(3);
            int stride = D + rnd.nextInt(D + 1); // like x inside in_proj's [x | z] output
            float[] xBuf = gauss(rnd, xOff + B * L * stride, 1);
            float[] w = gauss(rnd, D * K, 0.5);
            float[] bias = hasBias ? gauss(rnd, D, 0.3) : null;
            float[] dout = gauss(rnd, B * L * D, 1);
            float[] dxBuf = gauss(rnd, xBuf.length, 1);
            float[] dw = gauss(rnd, D * K, 1);
            float[] db = hasBias ? gauss(rnd, D, 1) : null;
            float[] dx0 = dxBuf.clone();
            float[] dw0 = dw.clone();
            float[] db0 = hasBias ? db.clone() : null;
            try (Parallel par = new Parallel(2)) {
                CausalConv1d.backward(par, dxBuf, xOff, stride, dw, db, dout, xBuf, xOff, stride, w, B, L, D, K);
            }
            double[] x = new double[B * L * D];
            float[] dx = new float[B * L * D];
            float[] dxAdded = added(dxBuf, dx0);
            for (int r = 0; r < B * L; r++) {
                for (int d = 0; d < D; d++) {
                    x[r * D + d] = xBuf[xOff + r * stride + d];
                    dx[r * D + d] = dxAdded[xOff + r * stride + d];
                }
            }
            double[] wd = toDouble(w);
            double[] bd = hasBias ? toDouble(bias) : null;
            double[] dy = toDouble(dout);
            GradCheck.Fn f = () -> dot(Twin64.conv(x, wd, bd, B, L, D, K), dy);
            check("conv dx", dx, all(x.length), fd(x, all(x.length), f));
            check("conv dw", added(dw, dw0), all(wd.length), fd(wd, all(wd.length), f));
            if (hasBias) {
                check("conv dbias", added(db, db0), all(D), fd(bd, all(D), f));
            }
        }
    }

    @Test
    void siluIncludingLargeInputs() {
        Random rnd = new Random(15);
        int n = 200;
        float[] x = gauss(rnd, n, 4);
        x[0] = 30f;
        x[1] = -30f;
        x[2] = 0f;
        x[3] = -90f; // exp(90) overflows a float: the derivative must still be finite
        float[] dout = gauss(rnd, n, 1);
        float[] dx = gauss(rnd, n, 1);
        float[] dx0 = dx.clone();
        try (Parallel par = new Parallel(2)) {
            Silu.backward(par, dx, dout, x, n);
        }
        double[] xd = toDouble(x);
        double[] dy = toDouble(dout);
        check("silu dx", added(dx, dx0), all(n), fd(xd, all(n), () -> dot(Twin64.silu(xd), dy)));
        for (float v : dx) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void crossEntropyMeanIgnoresNegativeTargetsAndWorksInPlace() {
        Random rnd = new Random(16);
        for (int trial = 0; trial < 6; trial++) {
            int rows = 1 + rnd.nextInt(20);
            int V = 2 + rnd.nextInt(30);
            int tOff = rnd.nextInt(4);
            int[] targets = new int[tOff + rows];
            int count = 0;
            for (int i = 0; i < targets.length; i++) {
                targets[i] = rnd.nextInt(4) == 0 ? -1 : rnd.nextInt(V);
            }
            targets[tOff] = rnd.nextInt(V); // at least one counted
            int[] mine = java.util.Arrays.copyOfRange(targets, tOff, tOff + rows);
            for (int t : mine) {
                count += t >= 0 ? 1 : 0;
            }
            float[] logits = gauss(rnd, rows * V, 3);
            logits[0] = 80f; // large logits: the max shift must keep exp finite
            float[] dLogits = gauss(rnd, rows * V, 1); // overwritten, not added to
            double sum;
            try (Parallel par = new Parallel(2)) {
                sum = CrossEntropy.backward(par, dLogits, logits, targets, tOff, rows, V, 1f / count);
                float[] inPlace = logits.clone();
                double sum2 = CrossEntropy.backward(par, inPlace, inPlace, targets, tOff, rows, V, 1f / count);
                assertArrayEquals(dLogits, inPlace, "in place gives the same gradient");
                assertEquals(sum, sum2);
            }
            double[] ld = toDouble(logits);
            double mean = Twin64.crossEntropy(ld, mine, rows, V);
            assertEquals(mean, sum / count, 1e-6 * Math.abs(mean));
            assertEquals(CrossEntropy.forward(null, logits, mine, rows, V), sum / count, 1e-9 * Math.abs(mean));
            check("cross-entropy dlogits", dLogits, all(ld.length), fd(ld, all(ld.length),
                    () -> Twin64.crossEntropy(ld, mine, rows, V)));
        }
    }

    /** Both implementations of the scan backward this JVM has: scalar, and SIMD where available. */
    private static boolean[] scanPaths() {
        return SelectiveScan.VECTOR_LANES > 0 ? new boolean[] {false, true} : new boolean[] {false};
    }

    private static void checkScan(Random rnd, int B, int L, int D, int N, boolean gateAndSkip, int samples, int threads) {
        for (boolean vector : scanPaths()) {
            checkScan(new Random(rnd.nextLong()), B, L, D, N, gateAndSkip, samples, threads, vector);
        }
    }

    /** One random scan problem, its B/C rows inside a wider x_proj-like buffer and z inside an xz-like one. */
    private static void checkScan(Random rnd, int B, int L, int D, int N, boolean gateAndSkip, int samples, int threads,
                                  boolean vector) {
        String path = vector ? "scan(simd) " : "scan ";
        int BT = B * L;
        int R = 1 + rnd.nextInt(3);
        int S = R + 2 * N;
        float[] u = gauss(rnd, BT * D, 1);
        float[] delta = gauss(rnd, BT * D, 1);
        for (int i = 0; i < delta.length; i += 17) {
            delta[i] = 25f; // beyond softplus's threshold of 20: the identity branch
        }
        float[] bias = gaussOffset(rnd, D, 0.5, -2.0);
        float[] A = new float[D * N];
        for (int i = 0; i < A.length; i++) {
            A[i] = (float) -Math.exp(Math.log(1 + i % N) + 0.3 * rnd.nextGaussian());
        }
        float[] dbc = gauss(rnd, BT * S, 1);
        float[] Dskip = gateAndSkip ? gauss(rnd, D, 1) : null;
        float[] xz = gauss(rnd, BT * 2 * D, 2);
        float[] z = gateAndSkip ? xz : null;
        float[] dout = gauss(rnd, BT * D, 1);

        float[] du = gauss(rnd, BT * D, 1);
        float[] dDelta = gauss(rnd, BT * D, 1);
        float[] dBias = gauss(rnd, D, 1);
        float[] dA = gauss(rnd, D * N, 1);
        float[] dDbc = gauss(rnd, BT * S, 1);
        float[] dD = gateAndSkip ? gauss(rnd, D, 1) : null;
        float[] dXz = gauss(rnd, BT * 2 * D, 1);
        float[] du0 = du.clone();
        float[] dDelta0 = dDelta.clone();
        float[] dBias0 = dBias.clone();
        float[] dA0 = dA.clone();
        float[] dDbc0 = dDbc.clone();
        float[] dD0 = gateAndSkip ? dD.clone() : null;
        float[] dXz0 = dXz.clone();
        try (Parallel par = new Parallel(threads)) {
            SelectiveScan.backward(vector, par, du, dDelta, dBias, dA, dDbc, R, dDbc, R + N, S, dD,
                    gateAndSkip ? dXz : null, D, 2 * D, dout, u, delta, bias, A, dbc, R, dbc, R + N, S, Dskip,
                    z, D, 2 * D, B, L, D, N);
        }
        // Unpack to the twin's token-major double arrays.
        double[] ud = toDouble(u);
        double[] deltad = toDouble(delta);
        double[] biasd = toDouble(bias);
        double[] Ad = toDouble(A);
        double[] Bd = new double[BT * N];
        double[] Cd = new double[BT * N];
        double[] zd = gateAndSkip ? new double[BT * D] : null;
        float[] dB = new float[BT * N];
        float[] dC = new float[BT * N];
        float[] dz = new float[BT * D];
        float[] dDbcAdded = added(dDbc, dDbc0);
        float[] dXzAdded = added(dXz, dXz0);
        for (int r = 0; r < BT; r++) {
            for (int n = 0; n < N; n++) {
                Bd[r * N + n] = dbc[r * S + R + n];
                Cd[r * N + n] = dbc[r * S + R + N + n];
                dB[r * N + n] = dDbcAdded[r * S + R + n];
                dC[r * N + n] = dDbcAdded[r * S + R + N + n];
            }
            for (int n = 0; n < R; n++) {
                assertEquals(dDbc0[r * S + n], dDbc[r * S + n], "the Δ columns of dbc are not the scan's");
            }
            for (int d = 0; d < D; d++) {
                if (gateAndSkip) {
                    zd[r * D + d] = xz[r * 2 * D + D + d];
                }
                dz[r * D + d] = dXzAdded[r * 2 * D + D + d];
                assertEquals(dXz0[r * 2 * D + d], dXz[r * 2 * D + d], "the x half of dxz is not the scan's");
            }
        }
        double[] Dd = gateAndSkip ? toDouble(Dskip) : null;
        double[] dy = toDouble(dout);
        GradCheck.Fn f = () -> dot(Twin64.scan(ud, deltad, biasd, Ad, Bd, Cd, Dd, zd, B, L, D, N), dy);
        int[] iu = sample(rnd, ud.length, samples);
        check(path + "du", added(du, du0), iu, fd(ud, iu, f));
        int[] idl = sample(rnd, deltad.length, samples);
        check(path + "dDelta", added(dDelta, dDelta0), idl, fd(deltad, idl, f));
        int[] ibias = sample(rnd, D, samples);
        check(path + "dDeltaBias", added(dBias, dBias0), ibias, fd(biasd, ibias, f));
        int[] ia = sample(rnd, Ad.length, samples);
        check(path + "dA", added(dA, dA0), ia, fd(Ad, ia, f));
        int[] ib = sample(rnd, Bd.length, samples);
        check(path + "dB", dB, ib, fd(Bd, ib, f));
        int[] ic = sample(rnd, Cd.length, samples);
        check(path + "dC", dC, ic, fd(Cd, ic, f));
        if (gateAndSkip) {
            int[] iD = sample(rnd, D, samples);
            check(path + "dD", added(dD, dD0), iD, fd(Dd, iD, f));
            int[] iz = sample(rnd, zd.length, samples);
            check(path + "dz", dz, iz, fd(zd, iz, f));
        }
    }

    private static float[] gaussOffset(Random rnd, int n, double std, double mean) {
        float[] a = gauss(rnd, n, std);
        for (int i = 0; i < n; i++) {
            a[i] += (float) mean;
        }
        return a;
    }

    @Test
    void scanSmallShapesEveryCoordinate() {
        Random rnd = new Random(17);
        for (int trial = 0; trial < 5; trial++) {
            checkScan(rnd, 1 + rnd.nextInt(2), 1 + rnd.nextInt(20), 1 + rnd.nextInt(6), 1 + rnd.nextInt(5), true,
                    Integer.MAX_VALUE, 2);
        }
        checkScan(rnd, 2, 9, 3, 2, false, Integer.MAX_VALUE, 1); // no gate, no skip
    }

    @Test
    void scanAcrossChunksAndChannelGroupsSampled() {
        // L spans several recomputation chunks (the last one partial), D several channel groups.
        Random rnd = new Random(18);
        int T = SelectiveScan.BACKWARD_CHUNK;
        checkScan(rnd, 2, 2 * T + 13, 70, 4, true, 20, 2);
        checkScan(rnd, 1, T, 33, 3, true, 20, 1);      // exactly one chunk
        checkScan(rnd, 1, T + 5, 300, 2, true, 20, 2); // 8 groups of several blocks each
    }

    @Test
    void vectorExpIsAccurateOverTheWholeRange() {
        if (SelectiveScan.VECTOR_LANES == 0) {
            return; // no Vector API in this JVM: the scalar path (tested above) is the only one
        }
        int lanes = ScanBackwardVector.LANES;
        float[] x = new float[lanes * 4000];
        for (int i = 0; i < x.length; i++) {
            x[i] = -87f + 175f * i / x.length; // the whole clamped domain, [-87, 88]
        }
        x[0] = 0f;
        x[1] = -1e-8f;
        x[2] = 1e-8f;
        float[] out = x.clone();
        ScanBackwardVector.expArray(out, 0, out.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double ref = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(out[i] - ref) / ref);
        }
        assertTrue(worst < 3e-7, "vector exp worst rel err " + worst); // ~2 ulp of float
        float[] far = new float[lanes];
        java.util.Arrays.fill(far, -1000f);
        ScanBackwardVector.expArray(far, 0, lanes);
        assertTrue(far[0] >= 0f && far[0] < 1e-37f, "exp(-1000) " + far[0]);
        for (float v : new float[] {-30f, -5f, -1e-3f, 0f, 3f, 19.9f, 20f, 25f}) {
            assertEquals(SelectiveScan.softplus(v), ScanBackwardVector.softplus(v), 2e-7 * Math.abs(SelectiveScan.softplus(v)));
        }
    }
}
