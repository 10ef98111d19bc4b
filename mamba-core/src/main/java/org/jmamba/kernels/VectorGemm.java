package org.jmamba.kernels;

import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorLanes.X1;
import static org.jmamba.kernels.VectorLanes.X16;
import static org.jmamba.kernels.VectorLanes.X2;
import static org.jmamba.kernels.VectorLanes.X32;
import static org.jmamba.kernels.VectorLanes.X4;
import static org.jmamba.kernels.VectorLanes.X8;
import static org.jmamba.kernels.VectorLanes.ZERO;
import static org.jmamba.kernels.VectorLanes.put;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD dot product and f32 matrix products (gemmNT, gemmNN, gemmTN): the few-row form that
 * streams B once at decode, the packed panel product with its register tiles for many rows (also
 * fed by bf16 and int8 matrices through {@link PanelSource}), the broadcast form of NN and TN, and
 * their blocking constants. Same signatures and results (up to rounding) as {@link ScalarKernels};
 * called through {@link Kernels}. Shared species and lane sums: {@link VectorLanes}.
 */
final class VectorGemm {
    /**
     * {@link #gemmNT}'s few-row form takes k in chunks of this many. The chunk was 1,024: a decode
     * product with K = 1,536 (out_proj and x_proj of a 130m model) then read each row of B in two
     * passes, and streamed 24.5 GB/s of weights against 31.8 GB/s in one pass (one thread, same
     * process). At 8,192 every released Mamba size (d_inner up to 5,120) takes K in one pass; the 4
     * rows of B in use are then up to 128 KiB, in L2 for the few rows of A that reuse them.
     */
    static final int NT_KC = 8192;
    /** Blocking of the packed (many-row) gemmNT: a [KC, NC] transposed panel of B, 192 KiB. */
    static final int PK_KC = 256;
    static final int PK_NC = 192;
    /** Blocking of the broadcast-form products (NN, TN): a [KC, NC] panel of B is 256 KiB. */
    private static final int BC_KC = 256;
    private static final int BC_NC = 256;

    private VectorGemm() {
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        // Four independent accumulators hide the FMA latency.
        for (; i <= n - 4 * LANES; i += 4 * LANES) {
            s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
            s1 = FloatVector.fromArray(F, a, aOff + i + LANES).fma(FloatVector.fromArray(F, b, bOff + i + LANES), s1);
            s2 = FloatVector.fromArray(F, a, aOff + i + 2 * LANES).fma(FloatVector.fromArray(F, b, bOff + i + 2 * LANES), s2);
            s3 = FloatVector.fromArray(F, a, aOff + i + 3 * LANES).fma(FloatVector.fromArray(F, b, bOff + i + 3 * LANES), s3);
        }
        for (; i <= n - LANES; i += LANES) {
            s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
        }
        // The lane sum in the order of VectorLanes' tree, written out: a call could box the vector.
        FloatVector t = s0.add(s1).add(s2.add(s3));
        if (LANES >= 64) {
            t = t.add(t.rearrange(X32));
        }
        if (LANES >= 32) {
            t = t.add(t.rearrange(X16));
        }
        if (LANES >= 16) {
            t = t.add(t.rearrange(X8));
        }
        if (LANES >= 8) {
            t = t.add(t.rearrange(X4));
        }
        t = t.add(t.rearrange(X2));
        t = t.add(t.rearrange(X1));
        float s = t.lane(0);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    static void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        if (m1 <= m0 || n1 <= n0) {
            return;
        }
        if (K == 0) {
            ScalarKernels.gemmNT(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, 0);
            return;
        }
        if (m1 - m0 > Kernels.FEW_ROWS) {
            gemmNTPacked(a, aOff, lda, PanelSource.f32(b, bOff, ldb), c, cOff, ldc, bias, accumulate,
                    m0, m1, n0, n1, K, WIDE_TILE, null);
            return;
        }
        int kc = K <= NT_KC ? K : NT_KC;
        // Decode (a few rows of A): 4 rows of B at a time, one from each quarter of the whole
        // range (four memory streams far apart keep more loads in flight), against every row of A
        // while they are in L1: B is read from memory once whatever the batch. The quarters span
        // the whole range, as in bf16NT and int8NT: taken within blocks of 256 KiB of B instead
        // (an L2-sized blocking this form never needed: only the 4 rows in use are reused), the
        // streams were 64 KiB apart and restarted at every block: the whole range decodes f32
        // 0.99–1.11× as fast, above 1.01× in 9 of 10 comparisons (each in one process, the two
        // alternated every 16 steps; docs/benchmarks.md).
        int q = (n1 - n0 + 3) / 4;
        for (int k0 = 0; k0 < K; k0 += kc) {
            int kl = Math.min(kc, K - k0);
            boolean acc = accumulate || k0 > 0;
            float[] bs = k0 == 0 ? bias : null; // the bias is added once, with the first k chunk
            for (int i = 0; i < q; i++) {
                int r0 = n0 + i;
                int r1 = r0 + q < n1 ? r0 + q : r0;
                int r2 = r0 + 2 * q < n1 ? r0 + 2 * q : r1;
                int r3 = r0 + 3 * q < n1 ? r0 + 3 * q : r2;
                // Four rows of A at a time (each vector of B loaded once for four FMAs), then the
                // rest one at a time. With one row at a time the loop is bound by its loads and by
                // four FMA chains; the tile runs 1.4-1.9x as fast at batch 8 (docs/cpu-kernels.md).
                int m = m0;
                for (; m + 4 <= m1; m += 4) {
                    nt4x4(a, aOff + m * lda + k0, lda, b, bOff + k0, ldb, r0, r1, r2, r3, kl, c, cOff + m * ldc, ldc, bs, acc);
                }
                for (; m < m1; m++) {
                    nt1x4(a, aOff + m * lda + k0, b, bOff + k0, ldb, r0, r1, r2, r3, kl, c, cOff + m * ldc, bs, acc);
                }
            }
        }
    }

    /**
     * gemmNT for 4 or more rows of A (prefill, training): a [KC, NC] panel of B is transposed into
     * a scratch array once, then every 4-row tile of A sweeps over it with the broadcast kernel
     * (lanes along n, one A element broadcast per row): 8 FMAs per 2 loads and 4 broadcasts, and no
     * horizontal sums at all. The panel stays in L2, the tile's A rows in L1. Each output is summed
     * in k order, one k chunk after the other, whichever tile or thread computes it.
     */
    static void gemmNTPacked(float[] a, int aOff, int lda, PanelSource b,
                             float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                             int m0, int m1, int n0, int n1, int K, boolean wide, float[] scratch) {
        int MR = wide ? 6 : 4;
        int nr = (wide ? 3 : 2) * LANES;
        int kc = Math.min(K, PK_KC);
        int ncMax = Math.min(Math.max(nr, PK_NC / nr * nr), (n1 - n0 + nr - 1) / nr * nr);
        // The panel, then the edge tile, in the caller's scratch when it has room (decode of a
        // batch allocates nothing), else in fresh arrays.
        int size = kc * ncMax + MR * nr + LANES * PK_KC; // the panel, the edge tile, the strip of packPanel
        boolean own = scratch == null || scratch.length < size;
        float[] panel = own ? new float[size] : scratch;
        float[] edge = panel;
        int eo = kc * ncMax;
        int so = eo + MR * nr;
        for (int k0 = 0; k0 < K; k0 += kc) {
            int kl = Math.min(kc, K - k0);
            boolean acc = accumulate || k0 > 0;
            float[] bs = k0 == 0 ? bias : null;
            for (int nb = n0; nb < n1; nb += ncMax) {
                int nl = Math.min(ncMax, n1 - nb);
                int ld = (nl + nr - 1) / nr * nr;
                packPanel(b, nb, nl, k0, kl, panel, ld, so);
                if (nl < ld) { // zero padding: whole-vector tiles at the edge compute zeros there
                    for (int k = 0; k < kl; k++) {
                        java.util.Arrays.fill(panel, k * ld + nl, k * ld + ld, 0f);
                    }
                }
                for (int m = m0; m < m1; m += MR) {
                    int mv = Math.min(MR, m1 - m);
                    int a0 = aOff + m * lda + k0;
                    for (int j = 0; j < nl; j += nr) {
                        int ci = cOff + m * ldc + nb + j;
                        int nv = Math.min(nr, nl - j);
                        if (wide) {
                            bt6x3(a, a0, lda, mv, kl, panel, j, ld, c, ci, ldc, bs, nb + j, acc, nv, edge, eo);
                        } else {
                            bt4x2(a, a0, lda, mv, kl, panel, j, ld, c, ci, ldc, bs, nb + j, acc, nv, edge, eo);
                        }
                    }
                }
            }
        }
    }

    /** Lane i of a gather over a strip of packPanel reads row i: offsets i·PK_KC. */
    private static final int[] STRIP_ROWS = stripRows();

    private static int[] stripRows() {
        int[] rows = new int[LANES];
        for (int i = 0; i < LANES; i++) {
            rows[i] = i * PK_KC;
        }
        return rows;
    }

    /**
     * Writes {@code panel[k*ld + j] = B[nb + j, k0 + k]} for j < nl, k < kl, the values
     * {@link PanelSource#packTransposed} writes, LANES rows of B at a time: the rows are widened with
     * SIMD into a strip ({@link PanelSource#widenRows}, stride PK_KC, at {@code panel[so..]}: contiguous
     * loads and exact conversions), then each k's LANES values are one gather from the strip and one
     * store into the panel. The scalar form reads one weight and writes one strided float at a time:
     * in a throwaway harness on in_proj's shape (3,072 × 768, int8 blocks, panels of 256 × 192) it
     * took 1.39 ns per weight, this 0.46 (16 lanes; 8 lanes on the same machine: 0.46 against 1.37).
     * At most PK_KC columns ({@code kl}): the strip's rows are PK_KC apart, as in every panel.
     */
    static void packPanel(PanelSource b, int nb, int nl, int k0, int kl, float[] panel, int ld, int so) {
        if (kl > PK_KC) {
            throw new IllegalArgumentException("a panel has at most " + PK_KC + " columns of B, got " + kl);
        }
        int j = 0;
        for (; j + LANES <= nl; j += LANES) {
            b.widenRows(nb + j, LANES, k0, kl, panel, so, PK_KC);
            for (int k = 0; k < kl; k++) {
                FloatVector.fromArray(F, panel, so + k, STRIP_ROWS, 0).intoArray(panel, k * ld + j);
            }
        }
        int rest = nl - j; // fewer than LANES rows: widened the same way, transposed one by one
        if (rest > 0) {
            b.widenRows(nb + j, rest, k0, kl, panel, so, PK_KC);
            for (int r = 0; r < rest; r++) {
                for (int k = 0; k < kl; k++) {
                    panel[k * ld + j + r] = panel[so + r * PK_KC + k];
                }
            }
        }
    }

    /** gemmNT over a matrix in any storage ({@link PanelSource}), best for 4 or more rows of A. */
    static void gemmNT(float[] a, int aOff, int lda, PanelSource b, float[] c, int cOff, int ldc, float[] bias,
                       boolean accumulate, int m0, int m1, int n0, int n1, int K, float[] scratch) {
        if (m1 <= m0 || n1 <= n0) {
            return;
        }
        if (K == 0) {
            ScalarKernels.gemmNT(a, aOff, lda, new float[0], 0, 0, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, 0);
            return;
        }
        gemmNTPacked(a, aOff, lda, b, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K, WIDE_TILE, scratch);
    }

    /*
     * The register tile of the packed kernel: MR rows of A x NR vectors of columns, MR·NR
     * accumulators. With 32 vector registers (AVX-512) 6 x 3 (18 accumulators) was fastest here;
     * with 16 (AVX2, NEON) 4 x 2 leaves room for the operands. A tile at the edge of C repeats its
     * last row of A for missing ones, computes whole vectors (the panel is zero-padded), and goes
     * through {@code edge}, from which only its valid elements are written.
     */
    static final boolean WIDE_TILE = LANES >= 16;

    private static void bt6x3(float[] a, int a0, int lda, int mv, int kl, float[] panel, int j, int ld,
                              float[] c, int ci, int ldc, float[] bias, int n, boolean acc, int nv, float[] edge,
                              int eo) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F), c52 = FloatVector.zero(F);
        int r1 = a0 + Math.min(1, mv - 1) * lda;
        int r2 = a0 + Math.min(2, mv - 1) * lda;
        int r3 = a0 + Math.min(3, mv - 1) * lda;
        int r4 = a0 + Math.min(4, mv - 1) * lda;
        int r5 = a0 + Math.min(5, mv - 1) * lda;
        for (int k = 0; k < kl; k++) {
            int p = k * ld + j;
            FloatVector w0 = FloatVector.fromArray(F, panel, p);
            FloatVector w1 = FloatVector.fromArray(F, panel, p + 1 * LANES);
            FloatVector w2 = FloatVector.fromArray(F, panel, p + 2 * LANES);
            FloatVector x0 = FloatVector.broadcast(F, a[a0 + k]);
            c00 = x0.fma(w0, c00);
            c01 = x0.fma(w1, c01);
            c02 = x0.fma(w2, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[r1 + k]);
            c10 = x1.fma(w0, c10);
            c11 = x1.fma(w1, c11);
            c12 = x1.fma(w2, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[r2 + k]);
            c20 = x2.fma(w0, c20);
            c21 = x2.fma(w1, c21);
            c22 = x2.fma(w2, c22);
            FloatVector x3 = FloatVector.broadcast(F, a[r3 + k]);
            c30 = x3.fma(w0, c30);
            c31 = x3.fma(w1, c31);
            c32 = x3.fma(w2, c32);
            FloatVector x4 = FloatVector.broadcast(F, a[r4 + k]);
            c40 = x4.fma(w0, c40);
            c41 = x4.fma(w1, c41);
            c42 = x4.fma(w2, c42);
            FloatVector x5 = FloatVector.broadcast(F, a[r5 + k]);
            c50 = x5.fma(w0, c50);
            c51 = x5.fma(w1, c51);
            c52 = x5.fma(w2, c52);
        }
        boolean full = mv == 6 && nv == 3 * LANES;
        // The bias (or zero) is added to each output before it is stored or accumulated.
        float[] bsrc = bias != null && full ? bias : ZERO;
        int bo = bias != null && full ? n : 0;
        FloatVector b0 = FloatVector.fromArray(F, bsrc, bo);
        FloatVector b1 = FloatVector.fromArray(F, bsrc, bo + 1 * LANES);
        FloatVector b2 = FloatVector.fromArray(F, bsrc, bo + 2 * LANES);
        if (full && acc) {
            c00.add(b0).add(FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
            c01.add(b1).add(FloatVector.fromArray(F, c, ci + LANES)).intoArray(c, ci + LANES);
            c02.add(b2).add(FloatVector.fromArray(F, c, ci + 2 * LANES)).intoArray(c, ci + 2 * LANES);
            c10.add(b0).add(FloatVector.fromArray(F, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(b1).add(FloatVector.fromArray(F, c, ci + ldc + LANES)).intoArray(c, ci + ldc + LANES);
            c12.add(b2).add(FloatVector.fromArray(F, c, ci + ldc + 2 * LANES)).intoArray(c, ci + ldc + 2 * LANES);
            c20.add(b0).add(FloatVector.fromArray(F, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(b1).add(FloatVector.fromArray(F, c, ci + 2 * ldc + LANES)).intoArray(c, ci + 2 * ldc + LANES);
            c22.add(b2).add(FloatVector.fromArray(F, c, ci + 2 * ldc + 2 * LANES)).intoArray(c, ci + 2 * ldc + 2 * LANES);
            c30.add(b0).add(FloatVector.fromArray(F, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(b1).add(FloatVector.fromArray(F, c, ci + 3 * ldc + LANES)).intoArray(c, ci + 3 * ldc + LANES);
            c32.add(b2).add(FloatVector.fromArray(F, c, ci + 3 * ldc + 2 * LANES)).intoArray(c, ci + 3 * ldc + 2 * LANES);
            c40.add(b0).add(FloatVector.fromArray(F, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c41.add(b1).add(FloatVector.fromArray(F, c, ci + 4 * ldc + LANES)).intoArray(c, ci + 4 * ldc + LANES);
            c42.add(b2).add(FloatVector.fromArray(F, c, ci + 4 * ldc + 2 * LANES)).intoArray(c, ci + 4 * ldc + 2 * LANES);
            c50.add(b0).add(FloatVector.fromArray(F, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
            c51.add(b1).add(FloatVector.fromArray(F, c, ci + 5 * ldc + LANES)).intoArray(c, ci + 5 * ldc + LANES);
            c52.add(b2).add(FloatVector.fromArray(F, c, ci + 5 * ldc + 2 * LANES)).intoArray(c, ci + 5 * ldc + 2 * LANES);
        } else if (full) {
            c00.add(b0).intoArray(c, ci);
            c01.add(b1).intoArray(c, ci + LANES);
            c02.add(b2).intoArray(c, ci + 2 * LANES);
            c10.add(b0).intoArray(c, ci + ldc);
            c11.add(b1).intoArray(c, ci + ldc + LANES);
            c12.add(b2).intoArray(c, ci + ldc + 2 * LANES);
            c20.add(b0).intoArray(c, ci + 2 * ldc);
            c21.add(b1).intoArray(c, ci + 2 * ldc + LANES);
            c22.add(b2).intoArray(c, ci + 2 * ldc + 2 * LANES);
            c30.add(b0).intoArray(c, ci + 3 * ldc);
            c31.add(b1).intoArray(c, ci + 3 * ldc + LANES);
            c32.add(b2).intoArray(c, ci + 3 * ldc + 2 * LANES);
            c40.add(b0).intoArray(c, ci + 4 * ldc);
            c41.add(b1).intoArray(c, ci + 4 * ldc + LANES);
            c42.add(b2).intoArray(c, ci + 4 * ldc + 2 * LANES);
            c50.add(b0).intoArray(c, ci + 5 * ldc);
            c51.add(b1).intoArray(c, ci + 5 * ldc + LANES);
            c52.add(b2).intoArray(c, ci + 5 * ldc + 2 * LANES);
        } else {
            int w = 3 * LANES;
            c00.intoArray(edge, eo + 0);
            c01.intoArray(edge, eo + 0 + LANES);
            c02.intoArray(edge, eo + 0 + 2 * LANES);
            c10.intoArray(edge, eo + 1 * w);
            c11.intoArray(edge, eo + 1 * w + LANES);
            c12.intoArray(edge, eo + 1 * w + 2 * LANES);
            c20.intoArray(edge, eo + 2 * w);
            c21.intoArray(edge, eo + 2 * w + LANES);
            c22.intoArray(edge, eo + 2 * w + 2 * LANES);
            c30.intoArray(edge, eo + 3 * w);
            c31.intoArray(edge, eo + 3 * w + LANES);
            c32.intoArray(edge, eo + 3 * w + 2 * LANES);
            c40.intoArray(edge, eo + 4 * w);
            c41.intoArray(edge, eo + 4 * w + LANES);
            c42.intoArray(edge, eo + 4 * w + 2 * LANES);
            c50.intoArray(edge, eo + 5 * w);
            c51.intoArray(edge, eo + 5 * w + LANES);
            c52.intoArray(edge, eo + 5 * w + 2 * LANES);
            for (int i = 0; i < mv; i++) {
                for (int jj = 0; jj < nv; jj++) {
                    // the same float operations as a whole tile: (sum + bias) [+ C]
                    float v = edge[eo + i * w + jj] + (bias != null ? bias[n + jj] : 0f);
                    put(c, ci + i * ldc + jj, v, acc);
                }
            }
        }
    }

    private static void bt4x2(float[] a, int a0, int lda, int mv, int kl, float[] panel, int j, int ld,
                              float[] c, int ci, int ldc, float[] bias, int n, boolean acc, int nv, float[] edge,
                              int eo) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        int r1 = a0 + Math.min(1, mv - 1) * lda;
        int r2 = a0 + Math.min(2, mv - 1) * lda;
        int r3 = a0 + Math.min(3, mv - 1) * lda;
        for (int k = 0; k < kl; k++) {
            int p = k * ld + j;
            FloatVector w0 = FloatVector.fromArray(F, panel, p);
            FloatVector w1 = FloatVector.fromArray(F, panel, p + 1 * LANES);
            FloatVector x0 = FloatVector.broadcast(F, a[a0 + k]);
            c00 = x0.fma(w0, c00);
            c01 = x0.fma(w1, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[r1 + k]);
            c10 = x1.fma(w0, c10);
            c11 = x1.fma(w1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[r2 + k]);
            c20 = x2.fma(w0, c20);
            c21 = x2.fma(w1, c21);
            FloatVector x3 = FloatVector.broadcast(F, a[r3 + k]);
            c30 = x3.fma(w0, c30);
            c31 = x3.fma(w1, c31);
        }
        boolean full = mv == 4 && nv == 2 * LANES;
        // The bias (or zero) is added to each output before it is stored or accumulated.
        float[] bsrc = bias != null && full ? bias : ZERO;
        int bo = bias != null && full ? n : 0;
        FloatVector b0 = FloatVector.fromArray(F, bsrc, bo);
        FloatVector b1 = FloatVector.fromArray(F, bsrc, bo + 1 * LANES);
        if (full && acc) {
            c00.add(b0).add(FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
            c01.add(b1).add(FloatVector.fromArray(F, c, ci + LANES)).intoArray(c, ci + LANES);
            c10.add(b0).add(FloatVector.fromArray(F, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(b1).add(FloatVector.fromArray(F, c, ci + ldc + LANES)).intoArray(c, ci + ldc + LANES);
            c20.add(b0).add(FloatVector.fromArray(F, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(b1).add(FloatVector.fromArray(F, c, ci + 2 * ldc + LANES)).intoArray(c, ci + 2 * ldc + LANES);
            c30.add(b0).add(FloatVector.fromArray(F, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(b1).add(FloatVector.fromArray(F, c, ci + 3 * ldc + LANES)).intoArray(c, ci + 3 * ldc + LANES);
        } else if (full) {
            c00.add(b0).intoArray(c, ci);
            c01.add(b1).intoArray(c, ci + LANES);
            c10.add(b0).intoArray(c, ci + ldc);
            c11.add(b1).intoArray(c, ci + ldc + LANES);
            c20.add(b0).intoArray(c, ci + 2 * ldc);
            c21.add(b1).intoArray(c, ci + 2 * ldc + LANES);
            c30.add(b0).intoArray(c, ci + 3 * ldc);
            c31.add(b1).intoArray(c, ci + 3 * ldc + LANES);
        } else {
            int w = 2 * LANES;
            c00.intoArray(edge, eo + 0);
            c01.intoArray(edge, eo + 0 + LANES);
            c10.intoArray(edge, eo + 1 * w);
            c11.intoArray(edge, eo + 1 * w + LANES);
            c20.intoArray(edge, eo + 2 * w);
            c21.intoArray(edge, eo + 2 * w + LANES);
            c30.intoArray(edge, eo + 3 * w);
            c31.intoArray(edge, eo + 3 * w + LANES);
            for (int i = 0; i < mv; i++) {
                for (int jj = 0; jj < nv; jj++) {
                    // the same float operations as a whole tile: (sum + bias) [+ C]
                    float v = edge[eo + i * w + jj] + (bias != null ? bias[n + jj] : 0f);
                    put(c, ci + i * ldc + jj, v, acc);
                }
            }
        }
    }

    /*
     * Every output of gemmNT is summed the same way whichever tile computes it — one vector
     * accumulator along k, its lanes reduced, then the scalar tail, then the bias — so a product
     * gives the same bits however its rows and columns are split between threads. A tile at the
     * edge of the product repeats its last row of A or B for the missing ones and stores only the
     * valid outputs: there is one code path per kernel, always hot, so the JIT compiles all of it.
     */

    /*
     * The few-row f32 product loads W in vectors of at most 256 bits (FS), whatever the preferred
     * width. It is bound by how fast one core streams W from memory, and on this project's AMD
     * machines (AVX-512) 256-bit loads stream faster than 512-bit ones: a plain vector sum over a
     * 512 MiB float[] read 34.7 GB/s with 256-bit vectors against 26.3 with 512-bit ones on one
     * thread, 58.4 against 48.0 on two, in one process (docs/benchmarks.md). The arithmetic is no
     * slower: these cores split a 512-bit FMA into two 256-bit halves anyway. bf16 (shorts) and
     * int8 (bytes) already load 256 and 128 bits per vector of weights.
     */
    static final VectorSpecies<Float> FS = F.vectorBitSize() > 256 ? FloatVector.SPECIES_256 : F;
    static final int SLANES = FS.length();
    /** The upper half of an FS vector, and the swap of its halves: the pair lane sum's first level. */
    static final VectorMask<Float> UPPER_S = VectorMask.fromLong(FS, ((1L << SLANES) - 1) & (-1L << (SLANES / 2)));
    static final VectorShuffle<Float> HALVES_S = VectorShuffle.fromOp(FS, i -> i ^ (SLANES / 2));
    /** The pair lane sum's next levels within each half (FS has at most 8 lanes). */
    static final VectorShuffle<Float> S2 = SLANES >= 8 ? VectorShuffle.fromOp(FS, i -> i ^ 2) : null;
    static final VectorShuffle<Float> S1 = SLANES >= 4 ? VectorShuffle.fromOp(FS, i -> i ^ 1) : null;

    /**
     * Four rows of A (at ai, ai + lda, …) against rows r0..r3 of B: each of the 16 outputs summed
     * exactly as nt1x4 sums it (one FS accumulator along k, the same lane sum, the same tail), so
     * a row of A gets the same bits in a tile as alone; each vector of B loaded serves four rows.
     */
    private static void nt4x4(float[] a, int ai, int lda, float[] b, int bi, int ldb, int r0, int r1, int r2, int r3,
                              int K, float[] c, int ci, int ldc, float[] bias, boolean acc) {
        int b0 = bi + r0 * ldb, b1 = bi + r1 * ldb, b2 = bi + r2 * ldb, b3 = bi + r3 * ldb;
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector c00 = FloatVector.zero(FS), c01 = FloatVector.zero(FS), c02 = FloatVector.zero(FS), c03 = FloatVector.zero(FS);
        FloatVector c10 = FloatVector.zero(FS), c11 = FloatVector.zero(FS), c12 = FloatVector.zero(FS), c13 = FloatVector.zero(FS);
        FloatVector c20 = FloatVector.zero(FS), c21 = FloatVector.zero(FS), c22 = FloatVector.zero(FS), c23 = FloatVector.zero(FS);
        FloatVector c30 = FloatVector.zero(FS), c31 = FloatVector.zero(FS), c32 = FloatVector.zero(FS), c33 = FloatVector.zero(FS);
        int k = 0;
        for (; k <= K - SLANES; k += SLANES) {
            FloatVector w0 = FloatVector.fromArray(FS, b, b0 + k), w1 = FloatVector.fromArray(FS, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(FS, b, b2 + k), w3 = FloatVector.fromArray(FS, b, b3 + k);
            FloatVector x = FloatVector.fromArray(FS, a, a0 + k);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            c02 = x.fma(w2, c02);
            c03 = x.fma(w3, c03);
            x = FloatVector.fromArray(FS, a, a1 + k);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            c12 = x.fma(w2, c12);
            c13 = x.fma(w3, c13);
            x = FloatVector.fromArray(FS, a, a2 + k);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            c22 = x.fma(w2, c22);
            c23 = x.fma(w3, c23);
            x = FloatVector.fromArray(FS, a, a3 + k);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
            c32 = x.fma(w2, c32);
            c33 = x.fma(w3, c33);
        }
        {
            FloatVector v = c00.blend(c01, UPPER_S).add(c00.rearrange(HALVES_S).blend(c01.rearrange(HALVES_S), UPPER_S));
            FloatVector w = c02.blend(c03, UPPER_S).add(c02.rearrange(HALVES_S).blend(c03.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                w = w.add(w.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                w = w.add(w.rearrange(S1));
            }
            finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, a0, b, b0, b1, b2, b3, k, K,
                    c, ci, r0, r1, r2, r3, bias, acc);
        }
        {
            FloatVector v = c10.blend(c11, UPPER_S).add(c10.rearrange(HALVES_S).blend(c11.rearrange(HALVES_S), UPPER_S));
            FloatVector w = c12.blend(c13, UPPER_S).add(c12.rearrange(HALVES_S).blend(c13.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                w = w.add(w.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                w = w.add(w.rearrange(S1));
            }
            finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, a1, b, b0, b1, b2, b3, k, K,
                    c, ci + ldc, r0, r1, r2, r3, bias, acc);
        }
        {
            FloatVector v = c20.blend(c21, UPPER_S).add(c20.rearrange(HALVES_S).blend(c21.rearrange(HALVES_S), UPPER_S));
            FloatVector w = c22.blend(c23, UPPER_S).add(c22.rearrange(HALVES_S).blend(c23.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                w = w.add(w.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                w = w.add(w.rearrange(S1));
            }
            finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, a2, b, b0, b1, b2, b3, k, K,
                    c, ci + 2 * ldc, r0, r1, r2, r3, bias, acc);
        }
        {
            FloatVector v = c30.blend(c31, UPPER_S).add(c30.rearrange(HALVES_S).blend(c31.rearrange(HALVES_S), UPPER_S));
            FloatVector w = c32.blend(c33, UPPER_S).add(c32.rearrange(HALVES_S).blend(c33.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                w = w.add(w.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                w = w.add(w.rearrange(S1));
            }
            finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, a3, b, b0, b1, b2, b3, k, K,
                    c, ci + 3 * ldc, r0, r1, r2, r3, bias, acc);
        }
    }

    /**
     * The scalar end shared by nt1x4 and nt4x4, given a row of A's four lane sums: the tail of k,
     * then the bias, stored once per distinct row (floats only: no vector crosses it).
     */
    private static void finish4(float s0, float s1, float s2, float s3, float[] a, int ai,
                                float[] b, int b0, int b1, int b2, int b3, int k, int K,
                                float[] c, int ci, int r0, int r1, int r2, int r3, float[] bias, boolean acc) {
        for (; k < K; k++) {
            float x = a[ai + k];
            s0 += x * b[b0 + k];
            s1 += x * b[b1 + k];
            s2 += x * b[b2 + k];
            s3 += x * b[b3 + k];
        }
        put(c, ci + r0, bias != null ? s0 + bias[r0] : s0, acc);
        if (r1 != r0) {
            put(c, ci + r1, bias != null ? s1 + bias[r1] : s1, acc);
        }
        if (r2 != r1) {
            put(c, ci + r2, bias != null ? s2 + bias[r2] : s2, acc);
        }
        if (r3 != r2) {
            put(c, ci + r3, bias != null ? s3 + bias[r3] : s3, acc);
        }
    }

    /**
     * One row of A against rows r0..r3 of B (B[r, k] = b[bi + r*ldb + k]); output r goes to
     * {@code c[ci + r]}. A repeated row (the range ran out) is stored once. The lane sums are
     * taken two rows at a time, as in int8Rows2, and written out (no vector crosses a call).
     */
    private static void nt1x4(float[] a, int ai, float[] b, int bi, int ldb, int r0, int r1, int r2, int r3, int K,
                              float[] c, int ci, float[] bias, boolean acc) {
        int b0 = bi + r0 * ldb, b1 = bi + r1 * ldb, b2 = bi + r2 * ldb, b3 = bi + r3 * ldb;
        FloatVector c0 = FloatVector.zero(FS), c1 = FloatVector.zero(FS);
        FloatVector c2 = FloatVector.zero(FS), c3 = FloatVector.zero(FS);
        int k = 0;
        for (; k <= K - SLANES; k += SLANES) {
            FloatVector x = FloatVector.fromArray(FS, a, ai + k);
            c0 = x.fma(FloatVector.fromArray(FS, b, b0 + k), c0);
            c1 = x.fma(FloatVector.fromArray(FS, b, b1 + k), c1);
            c2 = x.fma(FloatVector.fromArray(FS, b, b2 + k), c2);
            c3 = x.fma(FloatVector.fromArray(FS, b, b3 + k), c3);
        }
        FloatVector v = c0.blend(c1, UPPER_S).add(c0.rearrange(HALVES_S).blend(c1.rearrange(HALVES_S), UPPER_S));
        FloatVector w = c2.blend(c3, UPPER_S).add(c2.rearrange(HALVES_S).blend(c3.rearrange(HALVES_S), UPPER_S));
        if (SLANES >= 8) {
            v = v.add(v.rearrange(S2));
            w = w.add(w.rearrange(S2));
        }
        if (SLANES >= 4) {
            v = v.add(v.rearrange(S1));
            w = w.add(w.rearrange(S1));
        }
        finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, ai, b, b0, b1, b2, b3, k, K,
                c, ci, r0, r1, r2, r3, bias, acc);
    }

    static void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        gemmBroadcast(a, aOff, lda, 1, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
    }

    static void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        gemmBroadcast(a, aOff, 1, lda, b, bOff, ldb, c, cOff, ldc, accumulate, m0, m1, n0, n1, K);
    }

    /**
     * C[m,n] (+)= Σ_k A(m,k)·B[k,n] with A(m,k) = a[aOff + m*sam + k*sak]: lanes run along n (rows
     * of B are contiguous), each A element is broadcast. Blocked so a [KC, NC] panel of B stays in L2
     * while 4-row tiles of C sweep over it; no horizontal sums are needed.
     */
    private static void gemmBroadcast(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb,
                                      float[] c, int cOff, int ldc, boolean accumulate,
                                      int m0, int m1, int n0, int n1, int K) {
        if (m1 <= m0 || n1 <= n0) {
            return;
        }
        if (K == 0) {
            if (!accumulate) {
                for (int m = m0; m < m1; m++) {
                    java.util.Arrays.fill(c, cOff + m * ldc + n0, cOff + m * ldc + n1, 0f);
                }
            }
            return;
        }
        for (int k0 = 0; k0 < K; k0 += BC_KC) {
            int k1 = Math.min(K, k0 + BC_KC);
            boolean acc = accumulate || k0 > 0;
            for (int nb = n0; nb < n1; nb += BC_NC) {
                int ne = Math.min(n1, nb + BC_NC);
                int m = m0;
                for (; m + 4 <= m1; m += 4) {
                    int n = nb;
                    for (; n + 2 * LANES <= ne; n += 2 * LANES) {
                        bc4x2(a, aOff + m * sam, sam, sak, b, bOff + n, ldb, c, cOff + m * ldc + n, ldc, k0, k1, acc);
                    }
                    for (; n + LANES <= ne; n += LANES) {
                        bc4x1(a, aOff + m * sam, sam, sak, b, bOff + n, ldb, c, cOff + m * ldc + n, ldc, k0, k1, acc);
                    }
                    if (n < ne) {
                        bcScalar(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, acc, m, m + 4, n, ne, k0, k1);
                    }
                }
                for (; m < m1; m++) {
                    int n = nb;
                    for (; n + LANES <= ne; n += LANES) {
                        FloatVector s = FloatVector.zero(F);
                        for (int k = k0; k < k1; k++) {
                            s = FloatVector.fromArray(F, b, bOff + k * ldb + n).fma(FloatVector.broadcast(F, a[aOff + m * sam + k * sak]), s);
                        }
                        store(c, cOff + m * ldc + n, s, acc);
                    }
                    if (n < ne) {
                        bcScalar(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, acc, m, m + 1, n, ne, k0, k1);
                    }
                }
            }
        }
    }

    private static void bc4x2(float[] a, int ai, int sam, int sak, float[] b, int bi, int ldb,
                              float[] c, int ci, int ldc, int k0, int k1, boolean acc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        for (int k = k0; k < k1; k++) {
            int bk = bi + k * ldb;
            FloatVector w0 = FloatVector.fromArray(F, b, bk);
            FloatVector w1 = FloatVector.fromArray(F, b, bk + LANES);
            int ak = ai + k * sak;
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[ak + sam]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[ak + 2 * sam]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[ak + 3 * sam]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
        }
        store(c, ci, c00, acc);
        store(c, ci + LANES, c01, acc);
        store(c, ci + ldc, c10, acc);
        store(c, ci + ldc + LANES, c11, acc);
        store(c, ci + 2 * ldc, c20, acc);
        store(c, ci + 2 * ldc + LANES, c21, acc);
        store(c, ci + 3 * ldc, c30, acc);
        store(c, ci + 3 * ldc + LANES, c31, acc);
    }

    private static void bc4x1(float[] a, int ai, int sam, int sak, float[] b, int bi, int ldb,
                              float[] c, int ci, int ldc, int k0, int k1, boolean acc) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int k = k0; k < k1; k++) {
            FloatVector w = FloatVector.fromArray(F, b, bi + k * ldb);
            int ak = ai + k * sak;
            c0 = w.fma(FloatVector.broadcast(F, a[ak]), c0);
            c1 = w.fma(FloatVector.broadcast(F, a[ak + sam]), c1);
            c2 = w.fma(FloatVector.broadcast(F, a[ak + 2 * sam]), c2);
            c3 = w.fma(FloatVector.broadcast(F, a[ak + 3 * sam]), c3);
        }
        store(c, ci, c0, acc);
        store(c, ci + ldc, c1, acc);
        store(c, ci + 2 * ldc, c2, acc);
        store(c, ci + 3 * ldc, c3, acc);
    }

    private static void store(float[] c, int ci, FloatVector v, boolean acc) {
        if (acc) {
            v.add(FloatVector.fromArray(F, c, ci)).intoArray(c, ci);
        } else {
            v.intoArray(c, ci);
        }
    }

    private static void bcScalar(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean acc, int m0, int m1, int n0, int n1,
                                 int k0, int k1) {
        for (int m = m0; m < m1; m++) {
            for (int n = n0; n < n1; n++) {
                float s = 0f;
                for (int k = k0; k < k1; k++) {
                    s += a[aOff + m * sam + k * sak] * b[bOff + k * ldb + n];
                }
                put(c, cOff + m * ldc + n, s, acc);
            }
        }
    }
}
