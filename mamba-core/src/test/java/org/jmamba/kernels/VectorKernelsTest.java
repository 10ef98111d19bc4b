package org.jmamba.kernels;

import static org.jmamba.contract.Compare.abs;
import static org.jmamba.contract.Compare.errAgainst;
import static org.jmamba.kernels.KernelTestSupport.randn;
import static org.jmamba.kernels.KernelTestSupport.relErr;
import static org.jmamba.kernels.KernelTestSupport.sumBound;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every SIMD kernel ({@link VectorGemm}, {@link VectorQuantised}, {@link VectorRowOps}, {@link VectorScan},
 * {@link VectorConv}) against its scalar twin, on fresh random shapes and data each run (odd sizes,
 * tails shorter than a vector, length 1). The kernels differ only in the order of float sums and in
 * the exp implementation (both within a few ulps): tolerance 1e-5 norm-wise relative error, or for
 * products the float summation bound {@code sumBound(2K + 8)}.
 * Where the checked outputs can be a single sum that cancels (one row by one column, one channel),
 * the error is measured against Σ|terms| (the scalar kernel on absolute values) instead of the result.
 */
class VectorKernelsTest {
    private static final double TOL = 1e-5;
    private final long seed = System.nanoTime();
    private final Random r = new Random(seed);
    private final int lanes = VectorLanes.LANES;

    private String ctx(String what) {
        return what + " (seed " + seed + ", " + lanes + " lanes)";
    }

    @Test
    void simdIsEnabledInTheBuild() {
        // The build passes --add-modules jdk.incubator.vector, so the fast path must be the one tested.
        assertTrue(VectorSupport.modulePresent(), "the test JVM should have jdk.incubator.vector");
        assertTrue(VectorSupport.enabled(), VectorSupport.describe());
        assertTrue(Kernels.simd());
    }

    @Test
    void dot() {
        for (int n : KernelTestSupport.sizes(r, lanes)) {
            float[] a = randn(r, n + 5, 1f), b = randn(r, n + 7, 1f);
            float v = VectorGemm.dot(a, 2, b, 3, n);
            float s = ScalarKernels.dot(a, 2, b, 3, n);
            assertTrue(Math.abs(v - s) <= TOL * Math.sqrt(n) + 1e-6 * Math.abs(s), ctx("dot n=" + n + ": " + v + " vs " + s));
        }
    }

    @Test
    void gemmNTOnRandomShapes() {
        for (int trial = 0; trial < 40; trial++) {
            int M = 1 + r.nextInt(trial < 10 ? 3 : 37), N = 1 + r.nextInt(45), K = 1 + r.nextInt(3 * lanes + 40);
            if (trial >= 38) { // more than one k chunk of the few-row kernel (trial 39), and the panel product at that K
                K = VectorGemm.NT_KC + 1 + r.nextInt(300);
                M = trial == 39 ? 1 + r.nextInt(Kernels.FEW_ROWS) : Kernels.FEW_ROWS + 2 + r.nextInt(20); // m0 = 1
            }
            checkNT(M, N, K, r.nextBoolean(), r.nextBoolean());
        }
    }

    @Test
    void bothRegisterTilesOfThePackedProduct() {
        // The machine uses one of the two tiles; both must be right wherever the code runs.
        for (boolean wide : new boolean[] {true, false}) {
            for (int trial = 0; trial < 12; trial++) {
                int M = 4 + r.nextInt(20), N = 1 + r.nextInt(120), K = 1 + r.nextInt(trial == 11 ? 600 : 90);
                int lda = K + r.nextInt(3), ldc = N + r.nextInt(3);
                float[] a = randn(r, M * lda, 1f), b = randn(r, N * K, 1f);
                float[] bias = r.nextBoolean() ? randn(r, N, 1f) : null;
                boolean acc = r.nextBoolean();
                float[] c0 = randn(r, M * ldc, 1f), c1 = c0.clone(), c0init = c0.clone();
                VectorGemm.gemmNTPacked(a, 0, lda, PanelSource.f32(b, 0, K), c0, 0, ldc, bias, acc, 0, M, 0, N, K,
                        wide, null);
                float[] mag = magnitudeNT(c0init, a, 0, lda, b, 0, K, ldc, bias, acc, 0, M, 0, N, K);
                ScalarKernels.gemmNT(a, 0, lda, b, 0, K, c1, 0, ldc, bias, acc, 0, M, 0, N, K);
                assertTrue(errAgainst(c0, c1, mag) < TOL, ctx("packed gemmNT wide=" + wide + " " + M + "x" + N + "x" + K));
            }
        }
    }

    @Test
    void packPanelWritesWhatPackTransposedWrites() {
        for (int trial = 0; trial < 30; trial++) {
            int N = 1 + r.nextInt(trial < 10 ? 40 : 400), K = 1 + r.nextInt(trial % 3 == 0 ? 800 : 100);
            Weights wt = Weights.random(r, N, K);
            PanelSource[] sources = {PanelSource.f32(wt.f32(), 0, K), PanelSource.bf16(wt.bf16(), K),
                PanelSource.int8(wt.q(), wt.scales(), K)};
            int n0 = r.nextInt(N), nl = 1 + r.nextInt(Math.min(VectorGemm.PK_NC, N - n0));
            int k0 = r.nextBoolean() ? 32 * r.nextInt(K / 32 + 1) % K : r.nextInt(K);
            int kl = 1 + r.nextInt(Math.min(VectorGemm.PK_KC, K - k0));
            int ld = nl + r.nextInt(2 * lanes);
            for (PanelSource src : sources) {
                float[] want = new float[kl * ld];
                float[] got = new float[kl * ld + Kernels.PANEL_SCRATCH_FLOATS];
                src.packTransposed(n0, nl, k0, kl, want, ld);
                VectorGemm.packPanel(src, n0, nl, k0, kl, got, ld, kl * ld);
                for (int k = 0; k < kl; k++) {
                    for (int j = 0; j < nl; j++) { // columns nl..ld-1 are padding, written by neither
                        assertEquals(want[k * ld + j], got[k * ld + j],
                                ctx("panel " + N + "x" + K + " rows " + n0 + "+" + nl + " cols " + k0 + "+" + kl + " at " + k + "," + j));
                    }
                }
            }
        }
    }

    @Test
    void panelSourcesOfEveryStorageType() {
        for (int trial = 0; trial < 15; trial++) {
            int M = 1 + r.nextInt(30), N = 1 + r.nextInt(300), K = 1 + r.nextInt(trial == 14 ? 700 : 100);
            Weights wt = Weights.random(r, N, K);
            PanelSource[] sources = {PanelSource.f32(wt.f32(), 0, K), PanelSource.bf16(wt.bf16(), K),
                PanelSource.int8(wt.q(), wt.scales(), K)};
            float[] a = randn(r, M * K, 1f);
            float[] bias = r.nextBoolean() ? randn(r, N, 1f) : null;
            boolean acc = r.nextBoolean();
            for (PanelSource src : sources) {
                float[] c0 = randn(r, M * N, 1f), c1 = c0.clone();
                // the f32 weights' sizes stand for the rounded ones' (within 1%): a scale, not a value
                float[] mag = magnitudeNT(c0, a, 0, K, wt.f32(), 0, K, N, bias, acc, 0, M, 0, N, K);
                float[] scratch = r.nextBoolean() ? new float[Kernels.PANEL_SCRATCH_FLOATS] : null;
                VectorGemm.gemmNT(a, 0, K, src, c0, 0, N, bias, acc, 0, M, 0, N, K, scratch);
                ScalarKernels.gemmNT(a, 0, K, src, c1, 0, N, bias, acc, 0, M, 0, N, K, null);
                assertTrue(errAgainst(c0, c1, mag) < TOL, ctx("panel gemmNT " + M + "x" + N + "x" + K));
            }
        }
    }

    private void checkNT(int M, int N, int K, boolean withBias, boolean accumulate) {
        int lda = K + r.nextInt(3), ldb = K + r.nextInt(3), ldc = N + r.nextInt(3);
        float[] a = randn(r, 2 + M * lda, 1f), b = randn(r, 1 + N * ldb, 1f);
        float[] bias = withBias ? randn(r, N, 1f) : null;
        float[] c0 = randn(r, 3 + M * ldc, 1f), c1 = c0.clone();
        int m0 = M > 2 ? 1 : 0, n0 = N > 2 ? 1 : 0; // a sub-range, as a thread computes it
        float[] cMag = abs(c0);
        ScalarKernels.gemmNT(abs(a), 2, lda, abs(b), 1, ldb, cMag, 3, ldc, abs(bias), accumulate, m0, M, n0, N, K);
        VectorGemm.gemmNT(a, 2, lda, b, 1, ldb, c0, 3, ldc, bias, accumulate, m0, M, n0, N, K);
        ScalarKernels.gemmNT(a, 2, lda, b, 1, ldb, c1, 3, ldc, bias, accumulate, m0, M, n0, N, K);
        double err = errAgainst(c0, c1, cMag);
        assertTrue(err < TOL, ctx("gemmNT " + M + "x" + N + "x" + K + " err " + err));
    }

    /**
     * The product C = A·Bᵀ (+ bias, + C) computed on the absolute values of its inputs: per output,
     * Σ|terms|, the scale its rounding error is relative to (a single output can cancel to almost 0).
     */
    private static float[] magnitudeNT(float[] cBefore, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            int ldc, float[] bias, boolean accumulate, int m0, int M, int n0, int N, int K) {
        float[] mag = abs(cBefore);
        ScalarKernels.gemmNT(abs(a), aOff, lda, abs(b), bOff, ldb, mag, 0, ldc, abs(bias), accumulate, m0, M, n0, N, K);
        return mag;
    }

    @Test
    void gemmNNAndTNOnRandomShapes() {
        for (int trial = 0; trial < 40; trial++) {
            int M = 1 + r.nextInt(trial < 10 ? 3 : 23), N = 1 + r.nextInt(4 * lanes + 30), K = 1 + r.nextInt(trial == 39 ? 700 : 70);
            boolean accumulate = r.nextBoolean();
            int lda = K + r.nextInt(3), ldb = N + r.nextInt(3), ldc = N + r.nextInt(3);
            float[] a = randn(r, 1 + M * lda, 1f), b = randn(r, 2 + K * ldb, 1f);
            float[] c0 = randn(r, M * ldc, 1f), c1 = c0.clone(), cMag = abs(c0);
            VectorGemm.gemmNN(a, 1, lda, b, 2, ldb, c0, 0, ldc, accumulate, 0, M, 0, N, K);
            ScalarKernels.gemmNN(a, 1, lda, b, 2, ldb, c1, 0, ldc, accumulate, 0, M, 0, N, K);
            ScalarKernels.gemmNN(abs(a), 1, lda, abs(b), 2, ldb, cMag, 0, ldc, accumulate, 0, M, 0, N, K);
            double tol = sumBound(2 * K + 8); // at most 2K + 8 roundings per term, in either kernel
            assertTrue(errAgainst(c0, c1, cMag) <= tol, ctx("gemmNN " + M + "x" + N + "x" + K + " err " + errAgainst(c0, c1, cMag)));

            int ldat = M + r.nextInt(3); // A stored [K, M]
            float[] at = randn(r, 1 + K * ldat, 1f);
            float[] d0 = randn(r, M * ldc, 1f), d1 = d0.clone(), dMag = abs(d0);
            int n0 = N > 1 ? r.nextInt(N / 2 + 1) : 0;
            VectorGemm.gemmTN(at, 1, ldat, b, 2, ldb, d0, 0, ldc, accumulate, 0, M, n0, N, K);
            ScalarKernels.gemmTN(at, 1, ldat, b, 2, ldb, d1, 0, ldc, accumulate, 0, M, n0, N, K);
            ScalarKernels.gemmTN(abs(at), 1, ldat, abs(b), 2, ldb, dMag, 0, ldc, accumulate, 0, M, n0, N, K);
            assertTrue(errAgainst(d0, d1, dMag) <= tol, ctx("gemmTN " + M + "x" + N + "x" + K + " err " + errAgainst(d0, d1, dMag)));
        }
    }

    @Test
    void broadcastProductsGiveEachRowTheBitsItGetsAlone() {
        // 4-row tiles, single rows, column tails and a second k chunk: every output is the same
        // chain of FMAs whichever tile computes it
        for (int trial = 0; trial < 12; trial++) {
            int M = 1 + r.nextInt(20), N = 1 + r.nextInt(6 * lanes + 9), K = 1 + r.nextInt(trial % 4 == 0 ? 600 : 60);
            boolean accumulate = r.nextBoolean();
            float[] a = randn(r, M * K, 1f), at = randn(r, K * M, 1f), b = randn(r, K * N, 1f);
            float[] c0 = randn(r, M * N, 1f);
            float[] whole = c0.clone(), byRow = c0.clone(), wholeT = c0.clone(), byRowT = c0.clone();
            VectorGemm.gemmNN(a, 0, K, b, 0, N, whole, 0, N, accumulate, 0, M, 0, N, K);
            VectorGemm.gemmTN(at, 0, M, b, 0, N, wholeT, 0, N, accumulate, 0, M, 0, N, K);
            for (int m = 0; m < M; m++) {
                VectorGemm.gemmNN(a, 0, K, b, 0, N, byRow, 0, N, accumulate, m, m + 1, 0, N, K);
                VectorGemm.gemmTN(at, 0, M, b, 0, N, byRowT, 0, N, accumulate, m, m + 1, 0, N, K);
            }
            assertArrayEquals(byRow, whole, ctx("gemmNN " + M + "x" + N + "x" + K));
            assertArrayEquals(byRowT, wholeT, ctx("gemmTN " + M + "x" + N + "x" + K));
        }
    }

    @Test
    void quantisedProductsAndWidening() {
        for (int trial = 0; trial < 30; trial++) {
            int M = 1 + r.nextInt(4), N = 1 + r.nextInt(23);
            // whole blocks, a last block of whole byte vectors (dt_proj's 48 = 32 + 16), any short last block
            int K = trial % 3 == 0 ? 32 * (1 + r.nextInt(6)) : trial % 3 == 1 ? 32 * r.nextInt(6) + 8 * (1 + r.nextInt(3))
                    : 1 + r.nextInt(200);
            Weights wt = Weights.random(r, N, K);
            float[] a = randn(r, M * K + 1, 1f);
            float[] bias = r.nextBoolean() ? randn(r, N, 1f) : null;
            boolean acc = r.nextBoolean();
            float[] init = randn(r, M * N, 1f);

            // Against Σ|terms| (the scalar kernel on absolute values), not ‖s‖: one output can cancel to ~0.
            float[] absA = abs(a), absBias = abs(bias);
            short[] absBf16 = wt.bf16().clone();
            byte[] absQ = wt.q().clone(); // in [-127, 127]
            for (int i = 0; i < absQ.length; i++) {
                absBf16[i] &= 0x7fff;
                absQ[i] = (byte) Math.abs(absQ[i]);
            }
            double tol = sumBound(2 * K + 8); // at most 2K + 8 roundings per term, in either kernel
            float[] v = init.clone(), s = init.clone(), mag = abs(init);
            VectorQuantised.bf16NT(a, 1, K, wt.bf16(), K, v, 0, N, bias, acc, 0, M, 0, N, K);
            ScalarKernels.bf16NT(a, 1, K, wt.bf16(), K, s, 0, N, bias, acc, 0, M, 0, N, K);
            ScalarKernels.bf16NT(absA, 1, K, absBf16, K, mag, 0, N, absBias, acc, 0, M, 0, N, K);
            assertTrue(errAgainst(v, s, mag) <= tol, ctx("bf16NT " + M + "x" + N + "x" + K + " err " + errAgainst(v, s, mag)));

            v = init.clone();
            s = init.clone();
            mag = abs(init);
            VectorQuantised.int8NT(a, 1, K, wt.q(), wt.scales(), v, 0, N, bias, acc, 0, M, 0, N, K);
            ScalarKernels.int8NT(a, 1, K, wt.q(), wt.scales(), s, 0, N, bias, acc, 0, M, 0, N, K);
            ScalarKernels.int8NT(absA, 1, K, absQ, wt.scales(), mag, 0, N, absBias, acc, 0, M, 0, N, K);
            assertTrue(errAgainst(v, s, mag) <= tol, ctx("int8NT " + M + "x" + N + "x" + K + " err " + errAgainst(v, s, mag)));

            // a block of rows and columns, starting anywhere (inside an int8 block too), into a strided output
            int n0 = r.nextInt(N), nl = 1 + r.nextInt(N - n0);
            int k0 = r.nextBoolean() ? 0 : r.nextInt(K), kl = 1 + r.nextInt(K - k0);
            int off = r.nextInt(3), ldo = kl + r.nextInt(3);
            float[] wv = new float[off + nl * ldo], ws = new float[off + nl * ldo];
            VectorQuantised.bf16Widen(wt.bf16(), K, n0, nl, k0, kl, wv, off, ldo);
            ScalarKernels.bf16Widen(wt.bf16(), K, n0, nl, k0, kl, ws, off, ldo);
            assertArrayEquals(ws, wv, ctx("bf16Widen is exact, k0 " + k0 + " kl " + kl));
            VectorQuantised.int8Widen(wt.q(), wt.scales(), K, n0, nl, k0, kl, wv, off, ldo);
            ScalarKernels.int8Widen(wt.q(), wt.scales(), K, n0, nl, k0, kl, ws, off, ldo);
            assertArrayEquals(ws, wv, ctx("int8Widen is exact, k0 " + k0 + " kl " + kl));
        }
    }

    @Test
    void fewRowProductsGiveEachRowTheBitsItGetsAlone() {
        // Decode at batch B runs rows of the input in tiles (four at a time, then two for int8, then
        // one; each vector of W loaded or widened once for the tile): every output must still be
        // summed exactly as for one row, so a batch never changes a sequence. Rows of A and C have
        // padding, and the range of W's rows need not start at 0.
        for (int trial = 0; trial < 40; trial++) {
            int M = 2 + r.nextInt(Kernels.FEW_ROWS - 1), N = 1 + r.nextInt(37);
            int K = trial % 3 == 0 ? 32 * (1 + r.nextInt(6)) : trial % 3 == 1 ? 32 * r.nextInt(6) + 8 * (1 + r.nextInt(3))
                    : 1 + r.nextInt(200);
            int lda = K + r.nextInt(3), ldc = N + r.nextInt(3);
            int n0 = r.nextInt(N), n1 = n0 + 1 + r.nextInt(N - n0);
            Weights wt = Weights.random(r, N, K);
            float[] a = randn(r, M * lda + 3, 1f);
            float[] bias = r.nextBoolean() ? randn(r, N, 1f) : null;
            boolean acc = r.nextBoolean();
            float[] init = randn(r, M * ldc, 1f);
            for (String kind : new String[] {"f32", "bf16", "int8"}) {
                float[] batch = init.clone(), alone = init.clone();
                product(kind, a, lda, wt, batch, ldc, bias, acc, 0, M, n0, n1, K);
                for (int m = 0; m < M; m++) {
                    product(kind, a, lda, wt, alone, ldc, bias, acc, m, m + 1, n0, n1, K);
                }
                for (int i = 0; i < M * ldc; i++) {
                    assertEquals(Float.floatToRawIntBits(alone[i]), Float.floatToRawIntBits(batch[i]),
                            ctx(kind + " " + M + "x[" + n0 + "," + n1 + ")x" + K + " output " + i));
                }
            }
        }
    }

    @Test
    void shortInt8RowsGiveEveryRowTheBitsItGetsAlone() {
        // dt_proj's rows (K = dt_rank, 48–160) are taken 16 at a time at 16 lanes (int8Rows16), with
        // the lane sums of the 16 rows taken together: each output must keep the bits a row gets
        // alone (int8Rows4), and agree with the scalar product.
        int[] ks = {16, 32, 48, 64, 80, 96, 128, 160, 176};
        for (int trial = 0; trial < 18; trial++) {
            int K = ks[trial % ks.length];
            int N = 16 + r.nextInt(60), n0 = trial < 9 ? 0 : r.nextInt(5);
            Weights wt = Weights.random(r, N, K);
            float[] a = randn(r, K + 3, 1f);
            float[] range = new float[N + 1], alone = new float[N + 1], scalar = new float[N + 1];
            VectorQuantised.int8NT(a, 3, K, wt.q(), wt.scales(), range, 1, N, null, false, 0, 1, n0, N, K);
            for (int n = n0; n < N; n++) {
                VectorQuantised.int8NT(a, 3, K, wt.q(), wt.scales(), alone, 1, N, null, false, 0, 1, n, n + 1, K);
            }
            ScalarKernels.int8NT(a, 3, K, wt.q(), wt.scales(), scalar, 1, N, null, false, 0, 1, n0, N, K);
            for (int n = n0; n < N; n++) {
                assertEquals(Float.floatToRawIntBits(alone[1 + n]), Float.floatToRawIntBits(range[1 + n]),
                        ctx("int8 [" + n0 + "," + N + ")x" + K + " row " + n));
            }
            assertEquals(0f, range[0], "nothing before the output's offset is written");
            assertTrue(errAgainst(range, scalar, magnitudes(wt, a, K, N)) <= sumBound(2 * K + 8),
                    ctx("int8 rows vs scalar, K=" + K));
        }
    }

    /** Σ|a|·|w|·scale per row (output n at 1 + n), the magnitude rounding is measured against. */
    private static float[] magnitudes(Weights wt, float[] a, int K, int N) {
        float[] m = new float[N + 1];
        int bpr = Int8Blocks.blocksPerRow(K);
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                s += Math.abs(a[3 + k]) * Math.abs(wt.q()[n * K + k]) * Math.abs(wt.scales()[n * bpr + k / Int8Blocks.BLOCK]);
            }
            m[1 + n] = (float) s;
        }
        return m;
    }

    private static void product(String kind, float[] a, int lda, Weights wt, float[] c, int ldc, float[] bias, boolean acc,
                                int m0, int m1, int n0, int n1, int K) {
        switch (kind) {
            case "f32" -> VectorGemm.gemmNT(a, 3, lda, wt.f32(), 0, K, c, 0, ldc, bias, acc, m0, m1, n0, n1, K);
            case "bf16" -> VectorQuantised.bf16NT(a, 3, lda, wt.bf16(), K, c, 0, ldc, bias, acc, m0, m1, n0, n1, K);
            default -> VectorQuantised.int8NT(a, 3, lda, wt.q(), wt.scales(), c, 0, ldc, bias, acc, m0, m1, n0, n1, K);
        }
    }

    /** A random [N, K] weight matrix in every storage type: f32, bf16 and block-int8 with its scales. */
    private record Weights(float[] f32, short[] bf16, byte[] q, float[] scales) {
        static Weights random(Random r, int N, int K) {
            float[] w = randn(r, N * K, 0.5f);
            short[] wb = new short[N * K];
            Bf16.fromFloats(w, 0, wb, 0, N * K);
            byte[] q = new byte[N * K];
            float[] sc = new float[N * Int8Blocks.blocksPerRow(K)];
            Int8Blocks.quantize(w, N, K, q, sc);
            return new Weights(w, wb, q, sc);
        }
    }

    /**
     * Loading's int8 quantisation: the SIMD kernel gives {@link Int8Blocks#quantize}'s bytes and
     * scales exactly, on row lengths with and without a short last block, a row offset, and weights
     * that test the rounding and the edges: exact ties (k + 1/2 of a scale), zero rows, subnormal
     * and huge blocks, ±infinity and NaN.
     */
    @Test
    void int8QuantisationIsBitForBitTheScalarOne() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorPacking.SUPPORTED, "no int8 vectors at " + lanes + " lanes");
        int[] lengths = {1, 31, 32, 33, 48, 64, 80, 96 + 17, 768, 32 * (1 + r.nextInt(40)) + r.nextInt(32)};
        for (int k : lengths) {
            int rows = 1 + r.nextInt(9), r0 = r.nextInt(3);
            float[] w = randn(r, (r0 + rows) * k, 1f);
            for (int i = 0; i < w.length; i++) {
                switch (r.nextInt(40)) {
                    case 0 -> w[i] = 0f;
                    case 1 -> w[i] = -0f;
                    case 2 -> w[i] = (r.nextInt(255) - 127 + 0.5f) / 127f; // a tie once the block's max is 1
                    case 3 -> w[i] = 1f;
                    case 4 -> w[i] *= 1e-38f; // subnormal scales
                    case 5 -> w[i] *= 3e38f;
                    default -> { }
                }
            }
            int specials = r.nextInt(4);
            for (int t = 0; t < specials; t++) {
                float[] odd = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE};
                w[r.nextInt(w.length)] = odd[r.nextInt(odd.length)];
            }
            if (k >= 32 && r.nextBoolean()) { // a whole block of exact ties: its max is 127, its scale 1
                int b0 = (r0 + r.nextInt(rows)) * k + 32 * r.nextInt(k / 32);
                for (int j = 0; j < 32; j++) {
                    w[b0 + j] = j == 7 ? -127f : r.nextInt(254) - 127 + 0.5f;
                }
            }
            int bpr = Int8Blocks.blocksPerRow(k);
            byte[] q0 = new byte[rows * k], q1 = new byte[rows * k];
            float[] s0 = new float[rows * bpr], s1 = new float[rows * bpr];
            VectorPacking.quantizeInt8(w, r0, rows, k, q0, s0);
            Int8Blocks.quantize(w, r0, rows, k, q1, s1);
            assertArrayEquals(q1, q0, ctx("int8 bytes, k=" + k));
            for (int i = 0; i < s0.length; i++) {
                assertEquals(Float.floatToRawIntBits(s1[i]), Float.floatToRawIntBits(s0[i]), ctx("scale " + i + ", k=" + k));
            }
        }
    }

    /** Loading's bf16 rounding: the SIMD kernel gives {@link Bf16#fromFloats}' bits for every kind of float. */
    @Test
    void bf16RoundingIsBitForBitTheScalarOne() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorPacking.SUPPORTED, "no int8 vectors at " + lanes + " lanes");
        for (int n : KernelTestSupport.sizes(r, lanes)) {
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) {
                int bits = switch (r.nextInt(6)) {
                    case 0 -> r.nextInt(); // anything, NaN payloads and subnormals included
                    case 1 -> (r.nextInt() & 0xffff0000) | 0x8000; // an exact tie
                    case 2 -> 0x7f7f8000 + r.nextInt(0x8000) | (r.nextBoolean() ? 0x80000000 : 0); // rounds to infinity
                    default -> Float.floatToRawIntBits((float) r.nextGaussian());
                };
                x[i] = Float.intBitsToFloat(bits);
            }
            short[] v = new short[n + 1], s = new short[n + 1];
            VectorPacking.toBf16(x, 2, v, 1, n);
            Bf16.fromFloats(x, 2, s, 1, n);
            assertArrayEquals(s, v, ctx("bf16 n=" + n));
        }
    }

    /**
     * The sampler's probabilities: the SIMD kernel gives the scalar twin's bits exactly (so a seeded
     * draw picks the same token on either path), and both are e^(x - shift) to float precision, with
     * -infinity (a token ruled out) giving exactly 0.
     */
    @Test
    void expShiftedIsBitForBitTheScalarTwinAndCloseToExp() {
        for (int n : KernelTestSupport.sizes(r, lanes)) {
            float[] x = randn(r, n + 3, 8f);
            if (n > 1) { // not the only one: the shift (the max) stays finite
                x[3 + r.nextInt(n)] = Float.NEGATIVE_INFINITY;
            }
            float shift = ScalarKernels.max(x, 3, n);
            float[] v = new float[n + 1], s = new float[n + 1];
            VectorRowOps.expShifted(x, 3, shift, v, 1, n);
            ScalarKernels.expShifted(x, 3, shift, s, 1, n);
            assertEquals(0f, v[0], ctx("nothing before outOff is written"));
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(s[1 + i]), Float.floatToRawIntBits(v[1 + i]),
                        ctx("expShifted n=" + n + " i=" + i + ": " + v[1 + i] + " vs " + s[1 + i]));
                float arg = x[3 + i] - shift; // rounded to float first, as the kernels do
                double want = arg < VectorMath.EXP_LO ? 0 : Math.exp(arg);
                // exp's two ulps (VectorMathTest), and 0 where e^arg is below the floats' normal range
                assertEquals(want, s[1 + i], 2.5e-7 * want + Float.MIN_NORMAL, ctx("e^(x - shift) at " + i));
            }
        }
    }

    @Test
    void rowOps() {
        for (int n : KernelTestSupport.sizes(r, lanes)) {
            float[] x = randn(r, n + 2, 3f), w = randn(r, n, 1f);
            float[] o0 = new float[n + 1], o1 = new float[n + 1];
            float r0 = VectorRowOps.rmsnorm(o0, 1, x, 2, w, n, 1e-5f);
            float r1 = ScalarKernels.rmsnorm(o1, 1, x, 2, w, n, 1e-5f);
            assertEquals(r1, r0, TOL * Math.abs(r1), ctx("rmsnorm scale n=" + n));
            assertTrue(relErr(o0, o1) < TOL, ctx("rmsnorm n=" + n));

            assertEquals(ScalarKernels.max(x, 1, n), VectorRowOps.max(x, 1, n), ctx("max"));
            float l0 = VectorRowOps.logSumExp(x, 1, n), l1 = ScalarKernels.logSumExp(x, 1, n);
            assertEquals(l1, l0, TOL * Math.max(1, Math.abs(l1)), ctx("logSumExp n=" + n));

            float[] s0 = x.clone(), s1 = x.clone();
            VectorRowOps.softmax(s0, 1, n);
            ScalarKernels.softmax(s1, 1, n);
            assertTrue(relErr(s0, s1) < TOL, ctx("softmax n=" + n));
            s0 = x.clone();
            s1 = x.clone();
            VectorRowOps.logSoftmax(s0, 2, n);
            ScalarKernels.logSoftmax(s1, 2, n);
            assertTrue(relErr(s0, s1) < TOL, ctx("logSoftmax n=" + n));

            float[] big = randn(r, n, 30f); // silu far into both tails
            float[] q0 = new float[n], q1 = new float[n];
            VectorRowOps.silu(q0, 0, big, 0, n);
            ScalarKernels.silu(q1, 0, big, 0, n);
            // Both kernels flush silu to 0 where e^-x overflows (x < -88.7, where the exact value is
            // under 3e-37), at thresholds one rounding of exp apart: a value there once failed a plain
            // relative error (1.0 at x = -88.72). Sizes under 1e-30 count as 1e-30.
            assertTrue(errAgainst(q0, q1, atLeast(q1, 1e-30f)) < TOL, ctx("silu n=" + n));

            float[] dOut = randn(r, n + 3, 1f);
            float[] g0 = randn(r, n + 3, 1f), g1 = g0.clone();
            float[] wide = new float[n + 3];
            System.arraycopy(big, 0, wide, 3, n);
            VectorRowOps.siluBackward(g0, dOut, wide, 3, n); // an offset start: the tail and the head
            ScalarKernels.siluBackward(g1, dOut, wide, 3, n);
            assertTrue(errAgainst(g0, g1, atLeast(g1, 1e-30f)) < TOL, ctx("siluBackward n=" + n));
            assertEquals(g0[0], g1[0]); // nothing before off is touched
        }
    }

    /** |a|, but no less than {@code floor}: the size an error is measured against. */
    private static float[] atLeast(float[] a, float floor) {
        float[] m = abs(a);
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.max(m[i], floor);
        }
        return m;
    }

    @Test
    void scanOverASequence() {
        for (int trial = 0; trial < 12; trial++) {
            int L = trial == 0 ? 1 : 1 + r.nextInt(40);
            int D = trial < 3 ? 1 + r.nextInt(lanes) : 1 + r.nextInt(3 * lanes + 7);
            int N = 1 + r.nextInt(trial % 2 == 0 ? 17 : 5);
            int S = 3 + 2 * N; // x_proj-like row: [dt_low(3), B(N), C(N)]
            boolean withState = r.nextBoolean(), withZ = r.nextBoolean(), withY = r.nextBoolean();
            float[] u = randn(r, L * D + 4, 1f), delta = randn(r, L * D + 4, 2f);
            float[] dbias = r.nextBoolean() ? randn(r, D, 1f) : null;
            float[] A = new float[D * N];
            for (int i = 0; i < A.length; i++) {
                A[i] = -(float) Math.exp(r.nextGaussian());
            }
            float[] bc = randn(r, L * S, 1f);
            float[] dSkip = r.nextBoolean() ? randn(r, D, 1f) : null;
            float[] z = withZ ? randn(r, L * (D + 1), 2f) : null;
            float[] st0 = withState ? randn(r, 2 + D * N, 1f) : null;
            float[] st1 = withState ? st0.clone() : null, stMag = abs(st0);
            float[] o0 = new float[L * D + 4], o1 = new float[L * D + 4], oMag = new float[L * D + 4];
            float[] y0 = withY ? new float[L * D + 4] : null, y1 = withY ? new float[L * D + 4] : null;
            float[] yMag = withY ? new float[L * D + 4] : null;
            int d0 = D > 3 ? 1 : 0;
            VectorScan.scan(o0, y0, 4, u, delta, dbias, A, bc, 3, bc, 3 + N, S, dSkip, z, 1, D + 1, st0, 2, L, D, N, d0, D);
            ScalarKernels.scan(o1, y1, 4, u, delta, dbias, A, bc, 3, bc, 3 + N, S, dSkip, z, 1, D + 1, st1, 2, L, D, N, d0, D);
            // The magnitudes: |u|, |B|, |C|, |D| and |h| make every term of h and y non-negative.
            ScalarKernels.scan(oMag, yMag, 4, abs(u), delta, dbias, A, abs(bc), 3, abs(bc), 3 + N, S, abs(dSkip), z, 1, D + 1,
                    stMag, 2, L, D, N, d0, D);
            oMag = abs(oMag); // y·silu(z)
            String what = "scan L=" + L + " D=" + D + " N=" + N;
            assertTrue(errAgainst(o0, o1, oMag) < TOL, ctx(what + " out err " + errAgainst(o0, o1, oMag)));
            if (withY) {
                assertTrue(errAgainst(y0, y1, yMag) < TOL, ctx(what + " y"));
            }
            if (withState) {
                assertTrue(errAgainst(st0, st1, stMag) < TOL, ctx(what + " state"));
            }
        }
    }

    @Test
    void scanStepMatchesTheScalarStep() {
        for (int trial = 0; trial < 12; trial++) {
            int D = 1 + r.nextInt(3 * lanes + 7), N = 1 + r.nextInt(2 * lanes + 3);
            float[] u = randn(r, D + 1, 1f), delta = randn(r, D + 1, 2f);
            float[] dbias = randn(r, D, 1f), dSkip = randn(r, D, 1f);
            float[] A = new float[D * N];
            for (int i = 0; i < A.length; i++) {
                A[i] = -(float) Math.exp(r.nextGaussian());
            }
            float[] bm = randn(r, N + 2, 1f), cm = randn(r, N + 1, 1f);
            float[] z = r.nextBoolean() ? randn(r, D + 3, 2f) : null;
            float[] st0 = randn(r, D * N + 1, 1f), st1 = st0.clone(), stMag = abs(st0);
            float[] o0 = new float[D + 1], o1 = new float[D + 1], oMag = new float[D + 1];
            VectorScan.scanStep(o0, 1, u, delta, dbias, A, bm, 2, cm, 1, dSkip, z, 3, st0, 1, D, N, 0, D);
            ScalarKernels.scanStep(o1, 1, u, delta, dbias, A, bm, 2, cm, 1, dSkip, z, 3, st1, 1, D, N, 0, D);
            // Against the magnitudes (every term made non-negative), not ‖o1‖: with D = 1 y can cancel to ~0.
            ScalarKernels.scanStep(oMag, 1, abs(u), delta, dbias, A, abs(bm), 2, abs(cm), 1, abs(dSkip), z, 3, stMag, 1, D, N, 0, D);
            oMag = abs(oMag); // y·silu(z)
            assertTrue(errAgainst(o0, o1, oMag) < TOL, ctx("scanStep D=" + D + " N=" + N + " err " + errAgainst(o0, o1, oMag)));
            assertTrue(errAgainst(st0, st1, stMag) < TOL, ctx("scanStep state D=" + D + " N=" + N));
        }
    }

    @Test
    void scanStepGivesAChannelTheSameBitsWhereverItsRangeStarts() {
        // The recurrence takes channels in pairs (an odd last one alone): a channel's bits must not
        // depend on whether it was first or second of a pair, or alone.
        for (int trial = 0; trial < 8; trial++) {
            int D = 3 + 2 * r.nextInt(lanes + 2), N = trial < 4 ? lanes * (1 + r.nextInt(2)) : 1 + r.nextInt(2 * lanes + 3);
            float[] u = randn(r, D, 1f), delta = randn(r, D, 2f), dbias = randn(r, D, 1f), dSkip = randn(r, D, 1f);
            float[] A = new float[D * N];
            for (int i = 0; i < A.length; i++) {
                A[i] = -(float) Math.exp(r.nextGaussian());
            }
            float[] bm = randn(r, N, 1f), cm = randn(r, N, 1f), z = randn(r, D, 2f);
            float[] whole = randn(r, D * N, 1f), split = whole.clone(), single = whole.clone();
            float[] o0 = new float[D], o1 = new float[D], o2 = new float[D];
            VectorScan.scanStep(o0, 0, u, delta, dbias, A, bm, 0, cm, 0, dSkip, z, 0, whole, 0, D, N, 0, D);
            int k = 1 + 2 * r.nextInt(D / 2); // an odd boundary: every pair after it is shifted by one
            VectorScan.scanStep(o1, 0, u, delta, dbias, A, bm, 0, cm, 0, dSkip, z, 0, split, 0, D, N, 0, k);
            VectorScan.scanStep(o1, 0, u, delta, dbias, A, bm, 0, cm, 0, dSkip, z, 0, split, 0, D, N, k, D);
            for (int d = 0; d < D; d++) {
                VectorScan.scanStep(o2, 0, u, delta, dbias, A, bm, 0, cm, 0, dSkip, z, 0, single, 0, D, N, d, d + 1);
            }
            assertArrayEquals(o0, o1, ctx("split at " + k + ", D=" + D + " N=" + N));
            assertArrayEquals(o0, o2, ctx("one channel at a time, D=" + D + " N=" + N));
            assertArrayEquals(whole, split, ctx("state, split at " + k));
            assertArrayEquals(whole, single, ctx("state, one channel at a time"));
        }
    }

    @Test
    void theOneVectorRecurrenceHasTheGeneralOnesBits() {
        // d_state 16 at 16 lanes takes a straight-line copy of the recurrence; it must give the
        // general loop's bits, for the state and the output, odd channel counts and offsets included.
        if (lanes != 16) {
            return; // the copy is only taken at 16 lanes (the test runs at every width in CI's forks)
        }
        int N = 16;
        for (int trial = 0; trial < 8; trial++) {
            int D = 1 + r.nextInt(3 * lanes), off = r.nextInt(3), bOff = r.nextInt(5), cOff = r.nextInt(5);
            int stateOff = r.nextInt(2) * N * D;
            float[] u = randn(r, off + D, 1f), dSkip = trial % 3 == 0 ? null : randn(r, D, 1f);
            float[] dt = randn(r, off + D, 1f);
            for (int i = 0; i < dt.length; i++) {
                dt[i] = Math.abs(dt[i]) * (trial % 2 == 0 ? 1f : 40f); // Δ ≥ 0; large ones underflow exp
            }
            float[] A = new float[D * N];
            for (int i = 0; i < A.length; i++) {
                A[i] = -(float) Math.exp(r.nextGaussian());
            }
            float[] bm = randn(r, bOff + N, 1f), cm = randn(r, cOff + N, 1f);
            float[] s0 = randn(r, stateOff + D * N, 1f), s1 = s0.clone();
            float[] o0 = dt.clone(), o1 = dt.clone();
            int d0 = r.nextInt(D), d1 = d0 + 1 + r.nextInt(D - d0);
            VectorScan.stepRecurrence(o0, off, u, A, bm, bOff, cm, cOff, dSkip, s0, stateOff, N, d0, d1);
            VectorScan.stepRecurrenceOneVector(o1, off, u, A, bm, bOff, cm, cOff, dSkip, s1, stateOff, d0, d1);
            assertArrayEquals(o0, o1, ctx("output, D=" + D + " channels [" + d0 + ", " + d1 + ")"));
            assertArrayEquals(s0, s1, ctx("state, D=" + D + " channels [" + d0 + ", " + d1 + ")"));
        }
    }

    @Test
    void scanStepIsTheScanOfOneToken() {
        int D = 2 * lanes + 3, N = 16;
        float[] u = randn(r, D, 1f), delta = randn(r, D, 2f), dbias = randn(r, D, 1f), dSkip = randn(r, D, 1f);
        float[] A = randn(r, D * N, 1f);
        for (int i = 0; i < A.length; i++) {
            A[i] = -Math.abs(A[i]);
        }
        float[] bc = randn(r, 2 * N, 1f), z = randn(r, D, 1f);
        float[] st0 = randn(r, D * N, 1f), st1 = st0.clone();
        float[] o0 = new float[D], o1 = new float[D];
        ScalarKernels.scanStep(o0, 0, u, delta, dbias, A, bc, 0, bc, N, dSkip, z, 0, st0, 0, D, N, 0, D);
        ScalarKernels.scan(o1, null, 0, u, delta, dbias, A, bc, 0, bc, N, 2 * N, dSkip, z, 0, D, st1, 0, 1, D, N, 0, D);
        assertEquals(0.0, relErr(o0, o1), ctx("step vs scan"));
        assertEquals(0.0, relErr(st0, st1), ctx("step vs scan state"));
    }

    @Test
    void convOverASequence() {
        for (int trial = 0; trial < 12; trial++) {
            int L = 1 + r.nextInt(20), D = 1 + r.nextInt(3 * lanes + 5), K = 1 + r.nextInt(5);
            int xStride = D + r.nextInt(4);
            float[] x = randn(r, 3 + L * xStride, 1f), w = randn(r, D * K, 1f);
            float[] bias = r.nextBoolean() ? randn(r, D, 1f) : null;
            float[] window = r.nextBoolean() ? randn(r, 1 + (K - 1) * D, 1f) : null;
            float[] o0 = new float[2 + L * D], o1 = new float[2 + L * D];
            int d0 = D > 2 ? 1 : 0;
            float[] oMag = new float[2 + L * D];
            VectorConv.conv(o0, 2, x, 3, xStride, w, bias, window, 1, L, D, K, d0, D);
            ScalarKernels.conv(o1, 2, x, 3, xStride, w, bias, window, 1, L, D, K, d0, D);
            ScalarKernels.conv(oMag, 2, abs(x), 3, xStride, abs(w), abs(bias), abs(window), 1, L, D, K, d0, D);
            assertTrue(errAgainst(o0, o1, oMag) <= sumBound(2 * K + 8), ctx("conv L=" + L + " D=" + D + " K=" + K));
        }
    }

    @Test
    void convBackwardTapIsBitIdenticalToItsScalarTwin() {
        for (int n : new int[] {1, 3, lanes - 1, lanes, lanes + 5, 3 * lanes + 7}) {
            float[] dw0 = randn(r, n + 2, 1f), dx0 = randn(r, n + 4, 1f);
            float[] dw1 = dw0.clone(), dx1 = dx0.clone();
            float[] w = randn(r, n + 1, 1f), go = randn(r, n + 3, 1f), x = randn(r, n + 5, 1f);
            VectorConv.convBackwardTap(dw0, 2, dx0, 4, w, 1, go, 3, x, 5, n);
            ScalarKernels.convBackwardTap(dw1, 2, dx1, 4, w, 1, go, 3, x, 5, n);
            org.junit.jupiter.api.Assertions.assertArrayEquals(dw1, dw0, ctx("convBackwardTap dw n=" + n));
            org.junit.jupiter.api.Assertions.assertArrayEquals(dx1, dx0, ctx("convBackwardTap dx n=" + n));
        }
    }

    @Test
    void convStepEqualsConvOfOneTokenAndShiftsTheWindow() {
        for (int trial = 0; trial < 20; trial++) {
            int D = trial == 0 ? 1 : 1 + r.nextInt(3 * VectorLanes.LANES + 40), K = trial == 1 ? 2 : 4;
            int d0 = trial < 4 ? 0 : r.nextInt(D), d1 = trial < 4 ? D : d0 + 1 + r.nextInt(D - d0);
            float[] x = randn(r, D + 3, 1f), w = randn(r, D * K, 1f), bias = r.nextBoolean() ? randn(r, D, 1f) : null;
            float[] taps = ScalarKernels.convTaps(w, D, K);
            float[] window = randn(r, (K - 1) * D + 2, 1f);
            float[] ref = new float[D];
            ScalarKernels.conv(ref, 0, x, 3, D, w, bias, window, 2, 1, D, K, 0, D);
            float[] o0 = new float[D + 1], o1 = new float[D + 1];
            float[] w0 = window.clone(), w1 = window.clone();
            ScalarKernels.convStep(o0, 1, x, 3, taps, bias, w0, 2, D, K, d0, d1);
            VectorConv.convStep(o1, 1, x, 3, taps, bias, w1, 2, D, K, d0, d1);
            String at = ctx("convStep D=" + D + " K=" + K + " [" + d0 + "," + d1 + ")");
            org.junit.jupiter.api.Assertions.assertArrayEquals(o0, o1, at); // the same fused multiply-adds
            org.junit.jupiter.api.Assertions.assertArrayEquals(w0, w1, at);
            for (int d = 0; d < D; d++) {
                boolean in = d >= d0 && d < d1;
                // one fused multiply-add per tap here, multiply then add in conv: within float rounding
                float want = in ? ref[d] : 0f;
                assertTrue(Math.abs(o0[1 + d] - want) <= 1e-5f * (1f + Math.abs(want)), at + " channel " + d);
                for (int k = 0; k < K - 1; k++) {
                    float moved = !in ? window[2 + k * D + d] : k + 1 < K - 1 ? window[2 + (k + 1) * D + d] : x[3 + d];
                    assertEquals(moved, w0[2 + k * D + d], at + " window row " + k + " channel " + d);
                }
            }
        }
    }
}
