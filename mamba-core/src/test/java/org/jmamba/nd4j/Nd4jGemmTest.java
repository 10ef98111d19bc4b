package org.jmamba.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jmamba.contract.Compare;
import org.jmamba.kernels.ScalarKernels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Nd4jGemm} against the scalar twins of {@link org.jmamba.kernels.ScalarKernels} on fresh
 * random shapes (1, odd sizes, strided slices with offsets, with and without bias and
 * accumulation). Both sum K float products in float, in different orders: error 1e-5 of the
 * terms' size.
 */
class Nd4jGemmTest {
    private static final double TOL = 1e-5;
    private static Nd4jGemm gemm;

    @BeforeAll
    static void open() {
        gemm = Nd4jGemm.create(2, 0);
    }

    @AfterAll
    static void close() {
        gemm.close();
    }

    private enum Kind { NT, NN, TN }

    @Test
    void matchesScalarKernelsOnRandomShapes() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        int[] sizes = {1, 2, 7, 16, 33, 1 + r.nextInt(130), 1 + r.nextInt(300)};
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 14; i++) {
                int M = sizes[r.nextInt(sizes.length)];
                int N = sizes[r.nextInt(sizes.length)];
                int K = sizes[r.nextInt(sizes.length)];
                check(kind, r, M, N, K, r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), "seed " + seed);
            }
        }
        // Shapes of the models' real products (x_proj, a wide head row block), and large K.
        check(Kind.NT, r, 64, 80, 1536, false, true, false, "x_proj");
        check(Kind.NT, r, 37, 1000, 96, true, false, false, "head-like");
        check(Kind.NN, r, 50, 300, 700, false, false, true, "dX");
        check(Kind.TN, r, 300, 70, 513, false, false, true, "dW");
    }

    /** A large product, then a small one reusing the grown staging (views), then a larger one. */
    @Test
    void stagingGrowsAndIsReusedForSmallerProducts() {
        Random r = new Random(7);
        check(Kind.NT, r, 200, 300, 100, false, false, false, "large");
        check(Kind.NT, r, 3, 5, 2, false, true, false, "small after large");
        check(Kind.NN, r, 9, 11, 13, false, false, true, "other kind, small");
        check(Kind.NT, r, 400, 301, 101, false, true, true, "larger again");
    }

    @Test
    void emptySumGivesBiasAndEmptyOutputsAreNoOps() {
        float[] bias = {1f, 2f, 3f};
        float[] c = new float[6];
        gemm.gemmNT(new float[0], 0, 0, new float[0], 0, 0, c, 0, 3, bias, false, 2, 3, 0);
        assertEquals(3f, c[5]);
        gemm.gemmNT(new float[0], 0, 0, new float[0], 0, 0, c, 0, 3, bias, true, 2, 3, 0);
        assertEquals(6f, c[5]);
        float[] untouched = {5f};
        gemm.gemmNN(new float[4], 0, 4, new float[0], 0, 0, untouched, 0, 0, false, 1, 0, 4);
        assertEquals(5f, untouched[0]);
    }

    @Test
    void badArgumentsAreRejectedWithTheirName() {
        float[] a = new float[12];
        float[] b = new float[12];
        float[] c = new float[9];
        var e = assertThrows(IllegalArgumentException.class,
                () -> gemm.gemmNT(a, 1, 4, b, 0, 4, c, 0, 3, null, false, 3, 3, 4));
        assertTrue(e.getMessage().contains("matrix A"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> gemm.gemmNT(a, 0, 4, b, 0, 4, c, 0, 2, null, false, 3, 3, 4));
        assertTrue(e.getMessage().contains("matrix C"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> gemm.gemmNT(a, 0, 4, b, 0, 4, c, 0, 3, new float[2], false, 3, 3, 4));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> gemm.gemmTN(a, 0, 4, b, 0, 3, c, 0, 3, false, 3, 3, -1));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Nd4jGemm.create(0));
        assertThrows(IllegalArgumentException.class, () -> Nd4jGemm.create(1, -1));
    }

    @Test
    void closedGemmRefusesWorkAndThresholdSaysWhatItTakes() {
        Nd4jGemm g = Nd4jGemm.create(2, 1000);
        assertTrue(g.accepts(10, 10, 10));
        assertFalse(g.accepts(10, 10, 9));
        assertEquals(2, g.threads());
        assertEquals(2, Nd4jThreads.blasThreads());
        g.close();
        assertThrows(IllegalStateException.class,
                () -> g.gemmNT(new float[4], new float[4], null, new float[4], 2, 2, 2));
    }

    /** The product of {@code kind} by the scalar twin, into {@code c} (all operands at offset {@code off}). */
    private static void scalar(Kind kind, float[] a, float[] b, float[] bias, float[] c, int off, int lda, int ldb,
                               int ldc, boolean accumulate, int M, int N, int K) {
        switch (kind) {
            case NT -> ScalarKernels.gemmNT(a, off, lda, b, off, ldb, c, off, ldc, bias, accumulate, 0, M, 0, N, K);
            case NN -> ScalarKernels.gemmNN(a, off, lda, b, off, ldb, c, off, ldc, accumulate, 0, M, 0, N, K);
            case TN -> ScalarKernels.gemmTN(a, off, lda, b, off, ldb, c, off, ldc, accumulate, 0, M, 0, N, K);
        }
    }

    /**
     * One product through {@link Nd4jGemm} and {@link ScalarKernels}, on slices with random offsets
     * and leading dimensions larger than the rows, the output pre-filled (accumulate) or garbage.
     */
    private static void check(Kind kind, Random r, int M, int N, int K, boolean withBias, boolean strided,
                              boolean accumulate, String what) {
        int pad = strided ? 1 + r.nextInt(5) : 0;
        int off = strided ? r.nextInt(9) : 0;
        // Stored shapes: A is [M,K] for NT/NN, [K,M] for TN; B is [N,K] for NT, [K,N] for NN/TN.
        int aRows = kind == Kind.TN ? K : M;
        int aCols = kind == Kind.TN ? M : K;
        int bRows = kind == Kind.NT ? N : K;
        int bCols = kind == Kind.NT ? K : N;
        int lda = aCols + pad;
        int ldb = bCols + pad;
        int ldc = N + pad;
        float[] a = randn(r, off + aRows * lda);
        float[] b = randn(r, off + bRows * ldb);
        float[] bias = withBias && kind == Kind.NT ? randn(r, N) : null;
        float[] c0 = randn(r, off + M * ldc);
        float[] expected = c0.clone();
        float[] actual = c0.clone();
        scalar(kind, a, b, bias, expected, off, lda, ldb, ldc, accumulate, M, N, K);
        switch (kind) {
            case NT -> gemm.gemmNT(a, off, lda, b, off, ldb, actual, off, ldc, bias, accumulate, M, N, K);
            case NN -> gemm.gemmNN(a, off, lda, b, off, ldb, actual, off, ldc, accumulate, M, N, K);
            case TN -> gemm.gemmTN(a, off, lda, b, off, ldb, actual, off, ldc, accumulate, M, N, K);
        }
        // The error is measured against each output's Σ|terms| (the product on absolute values), not
        // against the output: with N = 1 and M = 2 an output can cancel to almost nothing, and then
        // ‖actual − expected‖ / ‖expected‖ failed (1.2e-5) with both sums right to float precision.
        float[] size = Compare.abs(c0);
        scalar(kind, Compare.abs(a), Compare.abs(b), Compare.abs(bias), size, off, lda, ldb, ldc, accumulate, M, N, K);
        double err = Compare.errAgainst(actual, expected, size);
        assertTrue(err <= TOL, () -> kind + " " + what + " M=" + M + " N=" + N + " K=" + K + " bias=" + withBias
                + " strided=" + strided + " accumulate=" + accumulate + ": error against the terms' size " + err);
        // The padding between rows and before the offset is never written.
        for (int m = 0; m < M; m++) {
            for (int p = N; p < ldc; p++) {
                assertEquals(c0[off + m * ldc + p], actual[off + m * ldc + p], "padding of C written");
            }
        }
        for (int i = 0; i < off; i++) {
            assertEquals(c0[i], actual[i], "C before its offset written");
        }
    }

    private static float[] randn(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
