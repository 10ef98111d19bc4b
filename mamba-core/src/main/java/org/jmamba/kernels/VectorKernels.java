package org.jmamba.kernels;

import static jdk.incubator.vector.VectorOperators.B2F;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD kernels, written with {@code jdk.incubator.vector} at the machine's preferred width
 * (never a fixed one). Same signatures and results (up to rounding) as {@link ScalarKernels}, whose
 * javadoc defines each operation; this file only explains how each is made fast.
 *
 * <p>This class is loaded only when {@link VectorSupport#enabled()}: nothing outside this package
 * names it except through {@link Kernels}.
 */
final class VectorKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** bf16 is widened from half-width short vectors: LANES shorts -> LANES floats. */
    static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /**
     * int8 is widened from byte vectors of LANES bytes, a quarter of the float width (none below 64
     * bits: with fewer than 8 lanes the int8 kernels run the scalar code).
     */
    static final VectorSpecies<Byte> BL = LANES >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8)) : null;
    /**
     * The int8 kernels take a block of 32 weights as 2 vectors (16 lanes) or 4 (8 lanes), written
     * out: a loop nested in the block loop stays a loop in C2's code, at two thirds of the speed,
     * and a helper method for the block is sometimes compiled without being inlined, which boxes
     * every vector it returns. Other widths run the scalar code.
     */
    static final boolean INT8_VECTORS = LANES == 8 || LANES == 16;
    static final boolean INT8_FOUR_STEPS = Int8Blocks.BLOCK / LANES == 4;

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

    private VectorKernels() {
    }

    // ---------------------------------------------------------------- helpers

    /*
     * Element-wise kernels finish a range that is not a whole number of vectors with ScalarMath,
     * which computes exactly what a vector lane computes, and the whole-sequence kernels run a
     * last partial block of channels through the vector code on a zero-padded copy: either way
     * every element gets the same bits wherever a thread's range happens to end, so results do not
     * depend on how the work was split.
     *
     * A note on style: a vector must not be chosen by a branch (v = c ? a : b, or reassigned
     * under an if), nor passed to a method that may not be inlined, because the JIT then has to
     * materialise it as an object (an allocation per vector, and a slow path); optional operands
     * are read from a zero array instead, and optional steps are written as separate stores.
     */

    /** Zeros: what an absent bias vector is loaded from (never written). */
    private static final float[] ZERO = new float[Math.max(64, LANES)];

    /*
     * Horizontal sums go through a fixed pairwise tree (lanes i and i^8, then i^4, i^2, i^1)
     * instead of reduceLanes(ADD), whose order is unspecified: the JIT-compiled reduction and the
     * interpreter's differ in the last bit, and results would then depend on how warm the JIT is.
     * The kernels write the tree out where they need it rather than call sum(v): a call the JIT
     * leaves out of a large compiled method (NodeCountInliningCutoff) takes its vector as an
     * object. The decode step's final RMSNorm did exactly that in some processes — 96 bytes
     * allocated per step per sequence (JMH DecodeBench -prof gc, -XX:+PrintInlining).
     */
    static final VectorShuffle<Float> X32 = LANES >= 64 ? VectorShuffle.fromOp(F, i -> i ^ 32) : null;
    static final VectorShuffle<Float> X16 = LANES >= 32 ? VectorShuffle.fromOp(F, i -> i ^ 16) : null;
    static final VectorShuffle<Float> X8 = LANES >= 16 ? VectorShuffle.fromOp(F, i -> i ^ 8) : null;
    static final VectorShuffle<Float> X4 = LANES >= 8 ? VectorShuffle.fromOp(F, i -> i ^ 4) : null;
    static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

    /** The sum of the lanes of v, in the fixed order above: the definition the kernels' written-out sums are tested against. */
    static float sum(FloatVector v) {
        FloatVector s = v;
        if (LANES >= 64) {
            s = s.add(s.rearrange(X32));
        }
        if (LANES >= 32) {
            s = s.add(s.rearrange(X16));
        }
        if (LANES >= 16) {
            s = s.add(s.rearrange(X8));
        }
        if (LANES >= 8) {
            s = s.add(s.rearrange(X4));
        }
        s = s.add(s.rearrange(X2));
        s = s.add(s.rearrange(X1));
        return s.lane(0);
    }

    private static FloatVector bf16(short[] w, int i) {
        ShortVector s = ShortVector.fromArray(SH, w, i);
        IntVector x = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return x.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    // ---------------------------------------------------------------- dot and GEMM

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
        // The lane sum in the order of the tree above, written out: a call could box the vector.
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

    static void put(float[] c, int ci, float v, boolean accumulate) {
        c[ci] = accumulate ? c[ci] + v : v;
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
                // One row of A at a time: a two-row form (one load of B for both) measured no
                // faster at batch 8 (whole-process time ratio 1.01 over 6 pairs).
                for (int m = m0; m < m1; m++) {
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
        boolean own = scratch == null || scratch.length < kc * ncMax + MR * nr;
        float[] panel = own ? new float[kc * ncMax + MR * nr] : scratch;
        float[] edge = panel;
        int eo = kc * ncMax;
        for (int k0 = 0; k0 < K; k0 += kc) {
            int kl = Math.min(kc, K - k0);
            boolean acc = accumulate || k0 > 0;
            float[] bs = k0 == 0 ? bias : null;
            for (int nb = n0; nb < n1; nb += ncMax) {
                int nl = Math.min(ncMax, n1 - nb);
                int ld = (nl + nr - 1) / nr * nr;
                b.packTransposed(nb, nl, k0, kl, panel, ld);
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
        float s0 = v.lane(0), s1 = v.lane(SLANES / 2);
        float s2 = w.lane(0), s3 = w.lane(SLANES / 2);
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

    // ---------------------------------------------------------------- quantised weights at decode

    /*
     * Each vector loop below is a method of its own, called with arrays and offsets only: a
     * kernel with several loops inlined into one method can outgrow the JIT's inlining budget, and
     * a vector operation left as a call allocates an object per vector.
     */

    static void bf16NT(float[] a, int aOff, int lda, short[] w, int ldw,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        // Four rows of W at once, one from each quarter of the range: four memory streams far
        // apart and four FMA chains. When the range runs out a row is repeated (computed by the
        // same code) and stored once.
        int q = (n1 - n0 + 3) / 4;
        for (int i = 0; i < q; i++) {
            int r0 = n0 + i;
            int r1 = r0 + q < n1 ? r0 + q : r0;
            int r2 = r0 + 2 * q < n1 ? r0 + 2 * q : r1;
            int r3 = r0 + 3 * q < n1 ? r0 + 3 * q : r2;
            // One row of A at a time: a two-row form (each widened vector of W used twice) measured
            // 24% slower at batch 8 than this, in the same run (the JIT's code for it is worse).
            for (int m = m0; m < m1; m++) { // the 4 rows of W stay in L1 across the rows of A
                bf16Rows4(a, aOff + m * lda, w, ldw, r0, r1, r2, r3, K, c, cOff + m * ldc, bias, accumulate);
            }
        }
    }

    /**
     * Rows r0..r3 of bf16 W against one row of A. The widening (a shift into the upper half of an
     * int, exact) is written out rather than called through bf16(w, i): as in the int8 kernels, no
     * vector crosses a method boundary of ours in a decode kernel.
     */
    private static void bf16Rows4(float[] a, int ai, short[] w, int ldw, int r0, int r1, int r2, int r3, int K,
                                  float[] c, int ci, float[] bias, boolean accumulate) {
        int w0 = r0 * ldw, w1 = r1 * ldw, w2 = r2 * ldw, w3 = r3 * ldw;
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        int k = 0;
        for (; k <= K - LANES; k += LANES) {
            FloatVector x = FloatVector.fromArray(F, a, ai + k);
            c0 = ((IntVector) ShortVector.fromArray(SH, w, w0 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c0);
            c1 = ((IntVector) ShortVector.fromArray(SH, w, w1 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c1);
            c2 = ((IntVector) ShortVector.fromArray(SH, w, w2 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c2);
            c3 = ((IntVector) ShortVector.fromArray(SH, w, w3 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c3);
        }
        // The four lane sums, two rows at a time as in int8Rows2 (the tree's order, written out).
        FloatVector v = c0.blend(c1, UPPER).add(c0.rearrange(HALVES).blend(c1.rearrange(HALVES), UPPER));
        FloatVector u = c2.blend(c3, UPPER).add(c2.rearrange(HALVES).blend(c3.rearrange(HALVES), UPPER));
        if (LANES >= 64) {
            v = v.add(v.rearrange(X16));
            u = u.add(u.rearrange(X16));
        }
        if (LANES >= 32) {
            v = v.add(v.rearrange(X8));
            u = u.add(u.rearrange(X8));
        }
        if (LANES >= 16) {
            v = v.add(v.rearrange(X4));
            u = u.add(u.rearrange(X4));
        }
        if (LANES >= 8) {
            v = v.add(v.rearrange(X2));
            u = u.add(u.rearrange(X2));
        }
        v = v.add(v.rearrange(X1));
        u = u.add(u.rearrange(X1));
        float s0 = v.lane(0), s1 = v.lane(LANES / 2);
        float s2 = u.lane(0), s3 = u.lane(LANES / 2);
        for (; k < K; k++) {
            float x = a[ai + k];
            s0 += x * Bf16.toFloat(w[w0 + k]);
            s1 += x * Bf16.toFloat(w[w1 + k]);
            s2 += x * Bf16.toFloat(w[w2 + k]);
            s3 += x * Bf16.toFloat(w[w3 + k]);
        }
        put(c, ci + r0, bias != null ? s0 + bias[r0] : s0, accumulate);
        if (r1 != r0) {
            put(c, ci + r1, bias != null ? s1 + bias[r1] : s1, accumulate);
        }
        if (r2 != r1) {
            put(c, ci + r2, bias != null ? s2 + bias[r2] : s2, accumulate);
        }
        if (r3 != r2) {
            put(c, ci + r3, bias != null ? s3 + bias[r3] : s3, accumulate);
        }
    }

    /*
     * The int8 products. Each block of 32 weights shares one scale, so its products are summed
     * first (p = w·x for the block's first vector, then fused multiply-adds) and the block sum is
     * scaled into the row's accumulator with one more: acc += p·scale. A short last block does the
     * same for its whole vectors, and its last few weights (fewer than a vector) are added after
     * the lane sum. Widening costs two instructions per vector of weights (sign-extend, convert),
     * which makes int8 the one type whose decode is bound by arithmetic rather than memory on a
     * fast machine, so each block is written as straight-line code (see INT8_VECTORS).
     * int8Rows2x2 computes every output with exactly the same operations, so a batch gives the
     * same bits as one sequence.
     *
     * No vector crosses a method boundary of ours in these two kernels: the widening (a byte
     * load and B2F) and the lane sums are written out with the Vector API's own calls, which are
     * always inlined. A helper such as widen(q, i) or sum(v) is inlined or not depending on
     * the profile the JIT happened to collect, and when it is not, every vector it takes or returns
     * becomes an object: in about one process in five, int8 decode on two threads allocated
     * tens of thousands of vectors per token and ran at a quarter of its speed (docs/benchmarks.md).
     */

    /** The lanes of the upper half: the pair lane sum takes one row's accumulator from each half. */
    static final VectorMask<Float> UPPER = VectorMask.fromLong(F, ((1L << LANES) - 1) & (-1L << (LANES / 2)));
    /** Swaps the two halves of a vector (lane i with lane i ^ LANES/2): the first level of {@link #sum}. */
    static final VectorShuffle<Float> HALVES = VectorShuffle.fromOp(F, i -> i ^ (LANES / 2));
    /**
     * int8Rows16 (16 lanes only): lane i takes the second operand where bit b of i is set (UPPER:
     * b = 3, H4: b = 2, … H1: b = 0), and BIT_REVERSED moves lane bitReverse4(r) to lane r.
     */
    static final boolean SIXTEEN_ROWS = LANES == 16;
    static final VectorMask<Float> H4 = SIXTEEN_ROWS ? VectorMask.fromLong(F, 0xF0F0L) : null;
    static final VectorMask<Float> H2 = SIXTEEN_ROWS ? VectorMask.fromLong(F, 0xCCCCL) : null;
    static final VectorMask<Float> H1 = SIXTEEN_ROWS ? VectorMask.fromLong(F, 0xAAAAL) : null;
    static final VectorShuffle<Float> BIT_REVERSED = SIXTEEN_ROWS ? VectorShuffle.fromOp(F, i -> Integer.reverse(i) >>> 28) : null;


    static void int8NT(float[] a, int aOff, int lda, byte[] q, float[] scales,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        if (!INT8_VECTORS) {
            ScalarKernels.int8NT(a, aOff, lda, q, scales, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
            return;
        }
        if (m1 - m0 == 1) {
            // One row of A (decode at batch 1): four rows of W at once, one from each quarter of
            // the range, as in bf16NT. Four memory streams far apart keep more loads in flight
            // than two: one thread read int8 weights from memory at 32-35 GB/s this way against
            // 24-25 with a row from each half (docs/benchmarks.md). When the range runs out a row
            // is repeated (computed by the same code) and stored once.
            int n = n0;
            if (sixteenRows(bias, accumulate, K)) {
                for (; n + 16 <= n1; n += 16) { // short rows (dt_proj): 16 at a time, same bits
                    int8Rows16(a, aOff + m0 * lda, q, scales, K, n, c, cOff + m0 * ldc);
                }
            }
            if (n < n1) {
                int8Rows4(a, aOff + m0 * lda, q, scales, K, n, n1, c, cOff + m0 * ldc, bias, accumulate);
            }
            return;
        }
        // A batch: pairs of rows of W, a row from each half of the range, against two rows of A
        // at a time (each widened vector of W serves both). Every output gets the operations it
        // gets in int8Rows4, so a sequence has the same bits alone or in a batch.
        int h = (n1 - n0 + 1) / 2;
        for (int i = 0; i < h; i++) {
            int na = n0 + i;
            int nb = na + h < n1 ? na + h : na; // odd count: the last row pairs with itself
            int m = m0;
            for (; m + 1 < m1; m += 2) {
                int8Rows2x2(a, aOff + m * lda, aOff + (m + 1) * lda, q, scales, K, na, nb,
                        c, cOff + m * ldc, cOff + (m + 1) * ldc, bias, accumulate, nb != na);
            }
            if (m < m1) { // the 2 rows of W stay in L1 across the rows of A
                int8Rows2(a, aOff + m * lda, q, scales, K, na, nb, c, cOff + m * ldc, bias, accumulate, nb != na);
            }
        }
    }

    /**
     * {@code Σ a[ai+k]·q[qi+k]} over {@code k ∈ [k0, K)}, fewer than LANES weights (the end of a
     * short last block), one at a time.
     */
    static float int8Rest(float[] a, int ai, byte[] q, int qi, int k0, int K) {
        float t = 0f;
        for (int k = k0; k < K; k++) {
            t += a[ai + k] * q[qi + k];
        }
        return t;
    }

    /** Rows na, nb (nb written only if {@code two}) against one row of A at {@code ai}. */
    private static void int8Rows2(float[] a, int ai, byte[] q, float[] scales, int K, int na, int nb,
                                  float[] c, int ci, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        int q0 = na * K, q1 = nb * K;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            FloatVector x0 = FloatVector.fromArray(F, a, ai + k0);
            FloatVector x1 = FloatVector.fromArray(F, a, ai + k1);
            FloatVector p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k0).convertShape(B2F, F, 0)).mul(x0);
            FloatVector p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k0).convertShape(B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k1).convertShape(B2F, F, 0)).fma(x1, p0);
            p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k1).convertShape(B2F, F, 0)).fma(x1, p1);
            if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                int k2 = k1 + LANES, k3 = k2 + LANES;
                FloatVector x2 = FloatVector.fromArray(F, a, ai + k2);
                FloatVector x3 = FloatVector.fromArray(F, a, ai + k3);
                p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k2).convertShape(B2F, F, 0)).fma(x2, p0);
                p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k2).convertShape(B2F, F, 0)).fma(x2, p1);
                p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k3).convertShape(B2F, F, 0)).fma(x3, p0);
                p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k3).convertShape(B2F, F, 0)).fma(x3, p1);
            }
            acc0 = p0.fma(FloatVector.broadcast(F, scales[na * bpr + blk]), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, scales[nb * bpr + blk]), acc1);
        }
        int kv = full * Int8Blocks.BLOCK;
        int tail = (K - kv) / LANES; // whole vectors of a short last block (none when K is a multiple of 32)
        if (tail > 0) {
            FloatVector x0 = FloatVector.fromArray(F, a, ai + kv);
            FloatVector p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + kv).convertShape(B2F, F, 0)).mul(x0);
            FloatVector p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + kv).convertShape(B2F, F, 0)).mul(x0);
            for (int t = 1; t < tail; t++) {
                int k = kv + t * LANES;
                FloatVector x = FloatVector.fromArray(F, a, ai + k);
                p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k).convertShape(B2F, F, 0)).fma(x, p0);
                p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k).convertShape(B2F, F, 0)).fma(x, p1);
            }
            acc0 = p0.fma(FloatVector.broadcast(F, scales[na * bpr + full]), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, scales[nb * bpr + full]), acc1);
        }
        // Both lane sums at once, in sum()'s order: halves swapped and added (acc0's sums in the
        // lower half, acc1's in the upper), then the pairwise tree within each half.
        FloatVector v = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
        if (LANES == 16) {
            v = v.add(v.rearrange(X4));
        }
        v = v.add(v.rearrange(X2));
        v = v.add(v.rearrange(X1));
        float s0 = v.lane(0), s1 = v.lane(LANES / 2);
        int kr = kv + tail * LANES;
        if (kr < K) { // the last weights of a short block, fewer than a vector
            s0 += int8Rest(a, ai, q, q0, kr, K) * scales[na * bpr + full];
            s1 += int8Rest(a, ai, q, q1, kr, K) * scales[nb * bpr + full];
        }
        put(c, ci + na, bias != null ? s0 + bias[na] : s0, accumulate);
        if (two) {
            put(c, ci + nb, bias != null ? s1 + bias[nb] : s1, accumulate);
        }
    }

    /**
     * Rows n0..n1 against one row of A at {@code ai}, four at a time (one from each quarter of the
     * range), each as int8Rows2 computes it; a repeated row is stored once. The loop over groups of
     * four is in here rather than in the caller, so that each group no longer pays a call and the
     * method's entry: with short rows (K = 768, 24 blocks) that is a visible share of the work. One
     * thread, in cache, against the loop in the caller: 1.07–1.11× at K = 768, 1.02–1.05× at
     * K = 1536 (docs/cpu-kernels.md).
     */
    private static void int8Rows4(float[] a, int ai, byte[] q, float[] scales, int K, int n0, int n1,
                                  float[] c, int ci, float[] bias, boolean accumulate) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        int q4 = (n1 - n0 + 3) / 4;
        for (int i = 0; i < q4; i++) {
            int r0 = n0 + i;
            int r1 = r0 + q4 < n1 ? r0 + q4 : r0;
            int r2 = r0 + 2 * q4 < n1 ? r0 + 2 * q4 : r1;
            int r3 = r0 + 3 * q4 < n1 ? r0 + 3 * q4 : r2;
            int q0 = r0 * K, q1 = r1 * K, q2 = r2 * K, q3 = r3 * K;
            int s0i = r0 * bpr, s1i = r1 * bpr, s2i = r2 * bpr, s3i = r3 * bpr;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int blk = 0; blk < full; blk++) {
                int k0 = blk * Int8Blocks.BLOCK;
                int k1 = k0 + LANES;
                FloatVector x0 = FloatVector.fromArray(F, a, ai + k0);
                FloatVector x1 = FloatVector.fromArray(F, a, ai + k1);
                FloatVector p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k0).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k0).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + k0).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + k0).convertShape(B2F, F, 0)).mul(x0);
                p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k1).convertShape(B2F, F, 0)).fma(x1, p0);
                p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k1).convertShape(B2F, F, 0)).fma(x1, p1);
                p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + k1).convertShape(B2F, F, 0)).fma(x1, p2);
                p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + k1).convertShape(B2F, F, 0)).fma(x1, p3);
                if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                    int k2 = k1 + LANES, k3 = k2 + LANES;
                    FloatVector x2 = FloatVector.fromArray(F, a, ai + k2);
                    FloatVector x3 = FloatVector.fromArray(F, a, ai + k3);
                    p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k2).convertShape(B2F, F, 0)).fma(x2, p0);
                    p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k2).convertShape(B2F, F, 0)).fma(x2, p1);
                    p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + k2).convertShape(B2F, F, 0)).fma(x2, p2);
                    p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + k2).convertShape(B2F, F, 0)).fma(x2, p3);
                    p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k3).convertShape(B2F, F, 0)).fma(x3, p0);
                    p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k3).convertShape(B2F, F, 0)).fma(x3, p1);
                    p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + k3).convertShape(B2F, F, 0)).fma(x3, p2);
                    p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + k3).convertShape(B2F, F, 0)).fma(x3, p3);
                }
                acc0 = p0.fma(FloatVector.broadcast(F, scales[s0i + blk]), acc0);
                acc1 = p1.fma(FloatVector.broadcast(F, scales[s1i + blk]), acc1);
                acc2 = p2.fma(FloatVector.broadcast(F, scales[s2i + blk]), acc2);
                acc3 = p3.fma(FloatVector.broadcast(F, scales[s3i + blk]), acc3);
            }
            int kv = full * Int8Blocks.BLOCK;
            int tail = (K - kv) / LANES; // whole vectors of a short last block
            if (tail > 0) {
                FloatVector x = FloatVector.fromArray(F, a, ai + kv);
                FloatVector p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + kv).convertShape(B2F, F, 0)).mul(x);
                FloatVector p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + kv).convertShape(B2F, F, 0)).mul(x);
                FloatVector p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + kv).convertShape(B2F, F, 0)).mul(x);
                FloatVector p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + kv).convertShape(B2F, F, 0)).mul(x);
                for (int t = 1; t < tail; t++) {
                    int k = kv + t * LANES;
                    x = FloatVector.fromArray(F, a, ai + k);
                    p0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + k).convertShape(B2F, F, 0)).fma(x, p0);
                    p1 = ((FloatVector) ByteVector.fromArray(BL, q, q1 + k).convertShape(B2F, F, 0)).fma(x, p1);
                    p2 = ((FloatVector) ByteVector.fromArray(BL, q, q2 + k).convertShape(B2F, F, 0)).fma(x, p2);
                    p3 = ((FloatVector) ByteVector.fromArray(BL, q, q3 + k).convertShape(B2F, F, 0)).fma(x, p3);
                }
                acc0 = p0.fma(FloatVector.broadcast(F, scales[s0i + full]), acc0);
                acc1 = p1.fma(FloatVector.broadcast(F, scales[s1i + full]), acc1);
                acc2 = p2.fma(FloatVector.broadcast(F, scales[s2i + full]), acc2);
                acc3 = p3.fma(FloatVector.broadcast(F, scales[s3i + full]), acc3);
            }
            FloatVector v = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
            FloatVector w = acc2.blend(acc3, UPPER).add(acc2.rearrange(HALVES).blend(acc3.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
                w = w.add(w.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            w = w.add(w.rearrange(X2));
            v = v.add(v.rearrange(X1));
            w = w.add(w.rearrange(X1));
            float s0 = v.lane(0), s1 = v.lane(LANES / 2);
            float s2 = w.lane(0), s3 = w.lane(LANES / 2);
            int kr = kv + tail * LANES;
            if (kr < K) { // the last weights of a short block, fewer than a vector
                s0 += int8Rest(a, ai, q, q0, kr, K) * scales[s0i + full];
                s1 += int8Rest(a, ai, q, q1, kr, K) * scales[s1i + full];
                s2 += int8Rest(a, ai, q, q2, kr, K) * scales[s2i + full];
                s3 += int8Rest(a, ai, q, q3, kr, K) * scales[s3i + full];
            }
            put(c, ci + r0, bias != null ? s0 + bias[r0] : s0, accumulate);
            if (r1 != r0) {
                put(c, ci + r1, bias != null ? s1 + bias[r1] : s1, accumulate);
            }
            if (r2 != r1) {
                put(c, ci + r2, bias != null ? s2 + bias[r2] : s2, accumulate);
            }
            if (r3 != r2) {
                put(c, ci + r3, bias != null ? s3 + bias[r3] : s3, accumulate);
            }
        }
    }

    /** Whether a one-row int8 product on arrays takes its rows 16 at a time (int8Rows16; segments never do: SegmentKernels.int8NT). */
    static boolean sixteenRows(float[] bias, boolean accumulate, int K) {
        return SIXTEEN_ROWS && bias == null && !accumulate && (K == Int8Blocks.BLOCK || K == Int8Blocks.BLOCK + LANES);
    }

    /**
     * Rows n .. n+16 of an int8 matrix whose rows are one block or one and a half (K = 32 or 48:
     * dt_proj of the 130m shape, dt_rank 48) against one row of A at {@code ai}, stored to
     * {@code c[ci + n .. ci + n + 16)}. Each row's products are exactly int8Rows4's (same bits);
     * what differs is the end: int8Rows4 takes the lane sums two rows at a time and stores each
     * output alone, which for a 48-long row costs more than its products. Here the 16 lane sums
     * are taken together, level by level in the one-row tree's order, and stored as one vector.
     * One thread, in cache, 1536 × 48: 4.0 µs against 9.5–14.1 (docs/cpu-kernels.md). Longer rows
     * keep int8Rows4: with a loop over blocks the 16 accumulators were spilled around its back edge
     * (7.2 µs at K = 48), and with the first block written out as well the method passed the JIT's
     * 8,000-byte limit and was never compiled. 16 lanes only; no bias, no accumulation (int8NT
     * checks).
     */
    private static void int8Rows16(float[] a, int ai, byte[] q, float[] scales, int K, int n, float[] c, int ci) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int q0 = n * K;
        int s0 = n * bpr;
        // The block (int8Rows4's operations: p = w·x0 + w·x1, acc = p·scale + 0).
        FloatVector z = FloatVector.zero(F);
        FloatVector x0 = FloatVector.fromArray(F, a, ai);
        FloatVector x1 = FloatVector.fromArray(F, a, ai + LANES);
        FloatVector a0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0]), z);
        FloatVector a1 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + bpr]), z);
        FloatVector a2 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 2 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 2 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 2 * bpr]), z);
        FloatVector a3 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 3 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 3 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 3 * bpr]), z);
        FloatVector a4 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 4 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 4 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 4 * bpr]), z);
        FloatVector a5 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 5 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 5 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 5 * bpr]), z);
        FloatVector a6 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 6 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 6 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 6 * bpr]), z);
        FloatVector a7 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 7 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 7 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 7 * bpr]), z);
        FloatVector a8 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 8 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 8 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 8 * bpr]), z);
        FloatVector a9 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 9 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 9 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 9 * bpr]), z);
        FloatVector a10 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 10 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 10 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 10 * bpr]), z);
        FloatVector a11 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 11 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 11 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 11 * bpr]), z);
        FloatVector a12 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 12 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 12 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 12 * bpr]), z);
        FloatVector a13 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 13 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 13 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 13 * bpr]), z);
        FloatVector a14 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 14 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 14 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 14 * bpr]), z);
        FloatVector a15 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 15 * K + LANES).convertShape(B2F, F, 0))
                .fma(x1, ((FloatVector) ByteVector.fromArray(BL, q, q0 + 15 * K + 0).convertShape(B2F, F, 0)).mul(x0))
                .fma(FloatVector.broadcast(F, scales[s0 + 15 * bpr]), z);
        if (K == Int8Blocks.BLOCK + LANES) { // the half block: one vector, scaled by its own scale
            FloatVector x2 = FloatVector.fromArray(F, a, ai + Int8Blocks.BLOCK);
            a0 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 1]), a0);
            a1 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + bpr + 1]), a1);
            a2 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 2 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 2 * bpr + 1]), a2);
            a3 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 3 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 3 * bpr + 1]), a3);
            a4 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 4 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 4 * bpr + 1]), a4);
            a5 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 5 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 5 * bpr + 1]), a5);
            a6 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 6 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 6 * bpr + 1]), a6);
            a7 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 7 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 7 * bpr + 1]), a7);
            a8 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 8 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 8 * bpr + 1]), a8);
            a9 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 9 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 9 * bpr + 1]), a9);
            a10 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 10 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 10 * bpr + 1]), a10);
            a11 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 11 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 11 * bpr + 1]), a11);
            a12 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 12 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 12 * bpr + 1]), a12);
            a13 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 13 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 13 * bpr + 1]), a13);
            a14 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 14 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 14 * bpr + 1]), a14);
            a15 = ((FloatVector) ByteVector.fromArray(BL, q, q0 + 15 * K + Int8Blocks.BLOCK).convertShape(B2F, F, 0)).mul(x2)
                    .fma(FloatVector.broadcast(F, scales[s0 + 15 * bpr + 1]), a15);
        }
        // The 16 lane sums at once: pairs of rows at lanes i, i^8 (the first row in the lower
        // half), then pairs of pairs at i^4, then i^2 and i^1 — each row summed in its one-row
        // tree's order. Row r ends in lane bitReverse4(r); BIT_REVERSED puts them in order.
        FloatVector b0 = a0.blend(a1, UPPER).add(a0.rearrange(X8).blend(a1.rearrange(X8), UPPER));
        FloatVector b1 = a2.blend(a3, UPPER).add(a2.rearrange(X8).blend(a3.rearrange(X8), UPPER));
        FloatVector b2 = a4.blend(a5, UPPER).add(a4.rearrange(X8).blend(a5.rearrange(X8), UPPER));
        FloatVector b3 = a6.blend(a7, UPPER).add(a6.rearrange(X8).blend(a7.rearrange(X8), UPPER));
        FloatVector b4 = a8.blend(a9, UPPER).add(a8.rearrange(X8).blend(a9.rearrange(X8), UPPER));
        FloatVector b5 = a10.blend(a11, UPPER).add(a10.rearrange(X8).blend(a11.rearrange(X8), UPPER));
        FloatVector b6 = a12.blend(a13, UPPER).add(a12.rearrange(X8).blend(a13.rearrange(X8), UPPER));
        FloatVector b7 = a14.blend(a15, UPPER).add(a14.rearrange(X8).blend(a15.rearrange(X8), UPPER));
        FloatVector c0 = b0.blend(b1, H4).add(b0.rearrange(X4).blend(b1.rearrange(X4), H4));
        FloatVector c1 = b2.blend(b3, H4).add(b2.rearrange(X4).blend(b3.rearrange(X4), H4));
        FloatVector c2 = b4.blend(b5, H4).add(b4.rearrange(X4).blend(b5.rearrange(X4), H4));
        FloatVector c3 = b6.blend(b7, H4).add(b6.rearrange(X4).blend(b7.rearrange(X4), H4));
        FloatVector d0 = c0.blend(c1, H2).add(c0.rearrange(X2).blend(c1.rearrange(X2), H2));
        FloatVector d1 = c2.blend(c3, H2).add(c2.rearrange(X2).blend(c3.rearrange(X2), H2));
        FloatVector e0 = d0.blend(d1, H1).add(d0.rearrange(X1).blend(d1.rearrange(X1), H1));
        e0.rearrange(BIT_REVERSED).intoArray(c, ci + n);
    }

    /** Rows na, nb (nb written only if {@code two}) against rows ai, aj of A, each output as int8Rows2 computes it. */
    private static void int8Rows2x2(float[] a, int ai, int aj, byte[] q, float[] scales, int K, int na, int nb,
                                    float[] c, int ci, int cj, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        int q0 = na * K, q1 = nb * K;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        FloatVector bcc0 = FloatVector.zero(F), bcc1 = FloatVector.zero(F);
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            FloatVector x0 = FloatVector.fromArray(F, a, ai + k0), x1 = FloatVector.fromArray(F, a, ai + k1);
            FloatVector y0 = FloatVector.fromArray(F, a, aj + k0), y1 = FloatVector.fromArray(F, a, aj + k1);
            FloatVector f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k0).convertShape(B2F, F, 0);
            FloatVector f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k0).convertShape(B2F, F, 0);
            FloatVector p0 = f0.mul(x0), p1 = f1.mul(x0);
            FloatVector e0 = f0.mul(y0), e1 = f1.mul(y0);
            f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k1).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k1).convertShape(B2F, F, 0);
            p0 = f0.fma(x1, p0);
            p1 = f1.fma(x1, p1);
            e0 = f0.fma(y1, e0);
            e1 = f1.fma(y1, e1);
            if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                int k2 = k1 + LANES, k3 = k2 + LANES;
                FloatVector x2 = FloatVector.fromArray(F, a, ai + k2), x3 = FloatVector.fromArray(F, a, ai + k3);
                FloatVector y2 = FloatVector.fromArray(F, a, aj + k2), y3 = FloatVector.fromArray(F, a, aj + k3);
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k2).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k2).convertShape(B2F, F, 0);
                p0 = f0.fma(x2, p0);
                p1 = f1.fma(x2, p1);
                e0 = f0.fma(y2, e0);
                e1 = f1.fma(y2, e1);
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k3).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k3).convertShape(B2F, F, 0);
                p0 = f0.fma(x3, p0);
                p1 = f1.fma(x3, p1);
                e0 = f0.fma(y3, e0);
                e1 = f1.fma(y3, e1);
            }
            FloatVector sa = FloatVector.broadcast(F, scales[na * bpr + blk]);
            FloatVector sb = FloatVector.broadcast(F, scales[nb * bpr + blk]);
            acc0 = p0.fma(sa, acc0);
            acc1 = p1.fma(sb, acc1);
            bcc0 = e0.fma(sa, bcc0);
            bcc1 = e1.fma(sb, bcc1);
        }
        int kv = full * Int8Blocks.BLOCK;
        int tail = (K - kv) / LANES;
        if (tail > 0) {
            FloatVector x = FloatVector.fromArray(F, a, ai + kv), y = FloatVector.fromArray(F, a, aj + kv);
            FloatVector f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + kv).convertShape(B2F, F, 0);
            FloatVector f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + kv).convertShape(B2F, F, 0);
            FloatVector p0 = f0.mul(x), p1 = f1.mul(x);
            FloatVector e0 = f0.mul(y), e1 = f1.mul(y);
            for (int t = 1; t < tail; t++) {
                int k = kv + t * LANES;
                x = FloatVector.fromArray(F, a, ai + k);
                y = FloatVector.fromArray(F, a, aj + k);
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k).convertShape(B2F, F, 0);
                p0 = f0.fma(x, p0);
                p1 = f1.fma(x, p1);
                e0 = f0.fma(y, e0);
                e1 = f1.fma(y, e1);
            }
            FloatVector sa = FloatVector.broadcast(F, scales[na * bpr + full]);
            FloatVector sb = FloatVector.broadcast(F, scales[nb * bpr + full]);
            acc0 = p0.fma(sa, acc0);
            acc1 = p1.fma(sb, acc1);
            bcc0 = e0.fma(sa, bcc0);
            bcc1 = e1.fma(sb, bcc1);
        }
        FloatVector v = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
        FloatVector w = bcc0.blend(bcc1, UPPER).add(bcc0.rearrange(HALVES).blend(bcc1.rearrange(HALVES), UPPER));
        if (LANES == 16) {
            v = v.add(v.rearrange(X4));
            w = w.add(w.rearrange(X4));
        }
        v = v.add(v.rearrange(X2));
        w = w.add(w.rearrange(X2));
        v = v.add(v.rearrange(X1));
        w = w.add(w.rearrange(X1));
        float r0 = v.lane(0), r1 = v.lane(LANES / 2);
        float u0 = w.lane(0), u1 = w.lane(LANES / 2);
        int kr = kv + tail * LANES;
        if (kr < K) {
            float sa = scales[na * bpr + full], sb = scales[nb * bpr + full];
            r0 += int8Rest(a, ai, q, q0, kr, K) * sa;
            r1 += int8Rest(a, ai, q, q1, kr, K) * sb;
            u0 += int8Rest(a, aj, q, q0, kr, K) * sa;
            u1 += int8Rest(a, aj, q, q1, kr, K) * sb;
        }
        put(c, ci + na, bias != null ? r0 + bias[na] : r0, accumulate);
        put(c, cj + na, bias != null ? u0 + bias[na] : u0, accumulate);
        if (two) {
            put(c, ci + nb, bias != null ? r1 + bias[nb] : r1, accumulate);
            put(c, cj + nb, bias != null ? u1 + bias[nb] : u1, accumulate);
        }
    }

    /** int8 weights {@code q[i .. i+LANES)} widened to floats (exact: every int8 is a float). */
    private static FloatVector widen(byte[] q, int i) {
        return (FloatVector) ByteVector.fromArray(BL, q, i).convertShape(B2F, F, 0);
    }

    static void bf16Widen(short[] w, int ldw, float[] out, int n0, int n1, int K) {
        for (int n = n0; n < n1; n++) {
            int wi = n * ldw;
            int oi = (n - n0) * K;
            int k = 0;
            for (; k <= K - LANES; k += LANES) {
                bf16(w, wi + k).intoArray(out, oi + k);
            }
            for (; k < K; k++) {
                out[oi + k] = Bf16.toFloat(w[wi + k]);
            }
        }
    }

    static void int8Widen(byte[] q, float[] scales, float[] out, int n0, int n1, int K) {
        if (!INT8_VECTORS) {
            ScalarKernels.int8Widen(q, scales, out, n0, n1, K);
            return;
        }
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        for (int n = n0; n < n1; n++) {
            int qi = n * K;
            int oi = (n - n0) * K;
            for (int blk = 0; blk < full; blk++) {
                int k0 = blk * Int8Blocks.BLOCK;
                float s = scales[n * bpr + blk];
                widen(q, qi + k0).mul(s).intoArray(out, oi + k0); // written out: see INT8_VECTORS
                widen(q, qi + k0 + LANES).mul(s).intoArray(out, oi + k0 + LANES);
                if (INT8_FOUR_STEPS) {
                    widen(q, qi + k0 + 2 * LANES).mul(s).intoArray(out, oi + k0 + 2 * LANES);
                    widen(q, qi + k0 + 3 * LANES).mul(s).intoArray(out, oi + k0 + 3 * LANES);
                }
            }
            for (int k = full * Int8Blocks.BLOCK; k < K; k++) {
                out[oi + k] = q[qi + k] * scales[n * bpr + full];
            }
        }
    }

    // ---------------------------------------------------------------- row ops

    static float rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - 2 * LANES; i += 2 * LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xOff + i);
            FloatVector v1 = FloatVector.fromArray(F, x, xOff + i + LANES);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
        }
        for (; i <= n - LANES; i += LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xOff + i);
            s0 = v0.fma(v0, s0);
        }
        // The lane sum in the order of the tree above, written out: a call could box the vector.
        FloatVector t = s0.add(s1);
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
        float ss = t.lane(0);
        for (; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float r = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).mul(r).mul(FloatVector.fromArray(F, w, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * r * w[i];
        }
        return r;
    }

    static float max(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            mv = mv.max(FloatVector.fromArray(F, x, off + i));
        }
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    /** Σ exp(x_i - m). */
    private static float sumExp(float[] x, int off, int n, float m) {
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            s = s.add(VectorMath.expAtMostHi(FloatVector.fromArray(F, x, off + i).sub(m))); // x - max ≤ 0
        }
        // The lane sum in the order of the tree above, written out: a call could box the vector.
        FloatVector t = s;
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
        float r = t.lane(0);
        for (; i < n; i++) {
            r += (float) Math.exp(x[off + i] - m);
        }
        return r;
    }

    static float logSumExp(float[] x, int off, int n) {
        float m = max(x, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return m;
        }
        return m + (float) Math.log(sumExp(x, off, n, m));
    }

    static void softmax(float[] x, int off, int n) {
        float m = max(x, off, n);
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector e = VectorMath.expAtMostHi(FloatVector.fromArray(F, x, off + i).sub(m)); // x - max ≤ 0
            e.intoArray(x, off + i);
            s = s.add(e);
        }
        // The lane sum in the order of the tree above, written out: a call could box the vector.
        FloatVector t = s;
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
        float sum = t.lane(0);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - m);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    static void logSoftmax(float[] x, int off, int n) {
        float lse = logSumExp(x, off, n);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, off + i).sub(lse).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] -= lse;
        }
    }

    private static FloatVector silu(FloatVector v) {
        return VectorMath.silu(v);
    }

    /** {@link ScalarKernels#convBackwardTap}, lane-wise the same fused multiply-adds (bit-identical). */
    static void convBackwardTap(float[] dw, int dwOff, float[] dx, int dxOff, float[] w, int wOff,
                                float[] go, int goOff, float[] x, int xOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += LANES) {
            FloatVector g = FloatVector.fromArray(F, go, goOff + i);
            g.fma(FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, dw, dwOff + i)).intoArray(dw, dwOff + i);
            FloatVector.fromArray(F, w, wOff + i).fma(g, FloatVector.fromArray(F, dx, dxOff + i)).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            float g = go[goOff + i];
            dw[dwOff + i] = Math.fma(g, x[xOff + i], dw[dwOff + i]);
            dx[dxOff + i] = Math.fma(w[wOff + i], g, dx[dxOff + i]);
        }
    }

    /** {@link ScalarKernels#siluBackward} with the vector exp: σ = 1 / (1 + e^-x), in float. */
    static void siluBackward(float[] dx, float[] dOut, float[] x, int off, int n) {
        int i = off;
        for (int end = off + F.loopBound(n); i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector sig = FloatVector.broadcast(F, 1f).div(VectorMath.exp(v.neg()).add(1f));
            FloatVector d = v.mul(sig.neg().add(1f)).add(1f).mul(sig);
            FloatVector.fromArray(F, dOut, i).fma(d, FloatVector.fromArray(F, dx, i)).intoArray(dx, i);
        }
        for (; i < off + n; i++) {
            float sig = 1f / (ScalarMath.exp(-x[i]) + 1f);
            dx[i] = Math.fma(dOut[i], sig * (1f + x[i] * (1f - sig)), dx[i]);
        }
    }

    static void silu(float[] out, int outOff, float[] x, int xOff, int n) {
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            silu(FloatVector.fromArray(F, x, xOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = ScalarMath.silu(x[xOff + i]);
        }
    }

    /** softplus, with PyTorch's threshold (identity above 20, where it is exact in float). */
    private static FloatVector softplus(FloatVector x) {
        return VectorMath.softplus(x);
    }

    // ---------------------------------------------------------------- the selective scan

    /*
     * The scans are split into passes (softplus of Δ, the recurrence, the gate), each its own
     * method: one method holding every exp, log and division would outgrow the JIT's inlining
     * budget, and a vector operation left as a call costs an object per vector.
     */

    /**
     * Lanes run across channels: a block of LANES channels shares B_t and C_t (broadcast), so the
     * update of each state row h[n] is three vector FMAs and one vector exp, with no horizontal sums.
     * The block's state [N][LANES] and A (transposed to [N][LANES]) live in small L1-resident arrays.
     */
    static void scan(float[] out, float[] yOut, int off, float[] u, float[] delta, float[] deltaBias,
                     float[] A, float[] bm, int bOff, float[] cm, int cOff, int bcStride, float[] dSkip,
                     float[] z, int zOff, int zStride, float[] state, int stateOff,
                     int L, int D, int N, int d0, int d1) {
        float[] h = new float[N * LANES];
        float[] at = new float[N * LANES];
        float[] dt = new float[L * LANES];
        float[] biasArr = deltaBias != null ? deltaBias : ZERO;
        float[] skipArr = dSkip != null ? dSkip : ZERO;
        for (int d = d0; d < d1; d += LANES) {
            int valid = Math.min(LANES, d1 - d);
            java.util.Arrays.fill(h, 0f);
            java.util.Arrays.fill(at, 0f);
            for (int j = 0; j < valid; j++) {
                for (int n = 0; n < N; n++) {
                    at[n * LANES + j] = A[(d + j) * N + n];
                    h[n * LANES + j] = state != null ? state[stateOff + (d + j) * N + n] : 0f;
                }
            }
            if (valid == LANES) {
                scanDelta(dt, delta, off + d, D, biasArr, deltaBias != null ? d : 0, L);
                scanBlock(out, yOut, off + d, D, u, dt, at, h, bm, bOff, cm, cOff, bcStride,
                        skipArr, dSkip != null ? d : 0, L, N);
                if (z != null) {
                    gateRows(out, off + d, D, z, zOff + d, zStride, L);
                }
            } else {
                // A partial block: the same code on a zero-padded copy of its channels.
                float[] us = stage(u, off + d, D, L, valid);
                float[] ds = stage(delta, off + d, D, L, valid);
                float[] bs = stage(biasArr, deltaBias != null ? d : 0, 0, 1, valid);
                float[] ks = stage(skipArr, dSkip != null ? d : 0, 0, 1, valid);
                float[] os = new float[L * LANES];
                float[] ys = yOut != null ? new float[L * LANES] : null;
                scanDelta(dt, ds, 0, LANES, bs, 0, L);
                scanBlock(os, ys, 0, LANES, us, dt, at, h, bm, bOff, cm, cOff, bcStride, ks, 0, L, N);
                if (z != null) {
                    gateRows(os, 0, LANES, stage(z, zOff + d, zStride, L, valid), 0, LANES, L);
                }
                unstage(os, out, off + d, D, L, valid);
                if (yOut != null) {
                    unstage(ys, yOut, off + d, D, L, valid);
                }
            }
            if (state != null) {
                for (int j = 0; j < valid; j++) {
                    for (int n = 0; n < N; n++) {
                        state[stateOff + (d + j) * N + n] = h[n * LANES + j];
                    }
                }
            }
        }
    }

    /** rows x LANES copy of a[i0 + r*stride + j] for j < valid, zero-padded. */
    private static float[] stage(float[] a, int i0, int stride, int rows, int valid) {
        float[] s = new float[rows * LANES];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, i0 + r * stride, s, r * LANES, valid);
        }
        return s;
    }

    private static void unstage(float[] s, float[] a, int i0, int stride, int rows, int valid) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s, r * LANES, a, i0 + r * stride, valid);
        }
    }

    /** dt[t][lane] = softplus(delta[i0 + t*ld + lane] + bias[bi + lane]) for a block of channels. */
    private static void scanDelta(float[] dt, float[] delta, int i0, int ld, float[] bias, int bi, int L) {
        FloatVector b = FloatVector.fromArray(F, bias, bi);
        for (int t = 0; t < L; t++) {
            softplus(FloatVector.fromArray(F, delta, i0 + t * ld).add(b)).intoArray(dt, t * LANES);
        }
    }

    /** The recurrence of one block of channels over L tokens; out (and yOut) receive y. */
    private static void scanBlock(float[] out, float[] yOut, int i0, int ld, float[] u, float[] dt, float[] at,
                                  float[] h, float[] bm, int bOff, float[] cm, int cOff, int bcStride,
                                  float[] skip, int ki, int L, int N) {
        FloatVector sk = FloatVector.fromArray(F, skip, ki);
        for (int t = 0; t < L; t++) {
            int i = i0 + t * ld;
            FloatVector uu = FloatVector.fromArray(F, u, i);
            FloatVector dtv = FloatVector.fromArray(F, dt, t * LANES);
            FloatVector dtu = dtv.mul(uu);
            int bi = bOff + t * bcStride;
            int ci = cOff + t * bcStride;
            FloatVector y = FloatVector.zero(F);
            for (int n = 0; n < N; n++) {
                int hi = n * LANES;
                FloatVector dA = VectorMath.expAtMostHi(dtv.mul(FloatVector.fromArray(F, at, hi))); // Δ ≥ 0, A ≤ 0
                FloatVector hn = FloatVector.fromArray(F, h, hi).fma(dA, dtu.mul(bm[bi + n]));
                hn.intoArray(h, hi);
                y = hn.fma(FloatVector.broadcast(F, cm[ci + n]), y);
            }
            FloatVector yy = sk.fma(uu, y);
            if (yOut != null) {
                yy.intoArray(yOut, i);
            }
            yy.intoArray(out, i);
        }
    }

    /** out[i0 + t*ld + lane] *= silu(z[z0 + t*zld + lane]) for L rows of one block. */
    private static void gateRows(float[] out, int i0, int ld, float[] z, int z0, int zld, int L) {
        for (int t = 0; t < L; t++) {
            int i = i0 + t * ld;
            FloatVector.fromArray(F, out, i).mul(silu(FloatVector.fromArray(F, z, z0 + t * zld))).intoArray(out, i);
        }
    }

    /**
     * One token (L = 1) with the state in its [D, N] layout: lanes run along n within a channel, so
     * no transposition is needed. Softplus of Δ and the gate are computed for all channels at once
     * (vectorised across channels), in passes of their own; {@code out} holds Δ' in between.
     */
    static void scanStep(float[] out, int off, float[] u, float[] delta, float[] deltaBias,
                         float[] A, float[] bm, int bOff, float[] cm, int cOff, float[] dSkip,
                         float[] z, int zOff, float[] state, int stateOff, int D, int N, int d0, int d1) {
        stepDelta(out, off, delta, deltaBias, d0, d1);
        if (LANES == 16 && N == 16) {
            stepRecurrenceOneVector(out, off, u, A, bm, bOff, cm, cOff, dSkip, state, stateOff, d0, d1);
        } else {
            stepRecurrence(out, off, u, A, bm, bOff, cm, cOff, dSkip, state, stateOff, N, d0, d1);
        }
        if (z != null) {
            stepGate(out, off, z, zOff, d0, d1);
        }
    }

    /** out[off+d] = softplus(delta[off+d] + bias[d]) for d in [d0, d1). */
    private static void stepDelta(float[] out, int off, float[] delta, float[] deltaBias, int d0, int d1) {
        float[] bias = deltaBias != null ? deltaBias : ZERO;
        int d = d0;
        if (deltaBias != null) {
            for (; d <= d1 - LANES; d += LANES) {
                FloatVector x = FloatVector.fromArray(F, delta, off + d).add(FloatVector.fromArray(F, bias, d));
                softplus(x).intoArray(out, off + d);
            }
        } else {
            for (; d <= d1 - LANES; d += LANES) {
                softplus(FloatVector.fromArray(F, delta, off + d)).intoArray(out, off + d);
            }
        }
        for (; d < d1; d++) {
            out[off + d] = ScalarMath.softplus(delta[off + d] + (deltaBias != null ? deltaBias[d] : 0f));
        }
    }

    /** out[off+d] *= silu(z[zOff+d]) for d in [d0, d1). */
    private static void stepGate(float[] out, int off, float[] z, int zOff, int d0, int d1) {
        int d = d0;
        for (; d <= d1 - LANES; d += LANES) {
            FloatVector.fromArray(F, out, off + d).mul(silu(FloatVector.fromArray(F, z, zOff + d))).intoArray(out, off + d);
        }
        for (; d < d1; d++) {
            out[off + d] *= ScalarMath.silu(z[zOff + d]);
        }
    }

    /**
     * Per channel: reads Δ' from out, advances the state, writes y = ⟨h, C⟩ + D·u to out.
     *
     * <p>Two channels at a time. One channel is a chain of dependent steps (exp, the state update,
     * the lane sum) that leaves the FMA units waiting; two interleaved keep them busy, and their lane
     * sums are taken together (the first channel's in the lower half, the second's in the upper,
     * each in the order of the one-vector tree of {@link #sum}), so a channel gets the same bits
     * whichever channel it is paired with (an odd last one with itself), wherever a thread's range
     * starts. Δ ≥ 0 and A ≤ 0, so e^(Δ·A) needs no overflow step
     * ({@link VectorMath#expAtMostHi}, the same bits as exp there). Both together: 1.47× one
     * channel at a time with exp (one thread, a 130m layer in cache; docs/cpu-kernels.md). Four
     * channels at a time ran slower (0.73–0.83×): their exponentials' registers no longer fit.
     */
    static void stepRecurrence(float[] out, int off, float[] u, float[] A, float[] bm, int bOff, float[] cm,
                                       int cOff, float[] dSkip, float[] state, int stateOff, int N, int d0, int d1) {
        int nv = N - N % LANES;
        for (int d = d0; d < d1; d += 2) {
            // An odd last channel is paired with itself: computed twice by the same code (both copies
            // read the old state before either writes) and stored twice with the same bits. A path
            // of its own would be cold, and the JIT leaves a cold call to expAtMostHi un-inlined,
            // which boxes its vectors (384 bytes a step in DecoderTest's odd-width model).
            int e = d + 1 < d1 ? d + 1 : d;
            float dt0 = out[off + d], dt1 = out[off + e];
            float u0 = u[off + d], u1 = u[off + e];
            float dtu0 = dt0 * u0, dtu1 = dt1 * u1;
            int s0 = stateOff + d * N, s1 = stateOff + e * N;
            int a0 = d * N, a1 = e * N;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int n = 0;
            for (; n < nv; n += LANES) {
                FloatVector b = FloatVector.fromArray(F, bm, bOff + n);
                FloatVector c = FloatVector.fromArray(F, cm, cOff + n);
                FloatVector h0 = FloatVector.fromArray(F, state, s0 + n)
                        .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, a0 + n).mul(dt0)), b.mul(dtu0));
                FloatVector h1 = FloatVector.fromArray(F, state, s1 + n)
                        .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, a1 + n).mul(dt1)), b.mul(dtu1));
                h0.intoArray(state, s0 + n);
                h1.intoArray(state, s1 + n);
                acc0 = h0.fma(c, acc0);
                acc1 = h1.fma(c, acc1);
            }
            // Both lane sums at once, written out (a call could box the vectors): the halves swapped
            // and added (acc0's sums in the lower half, acc1's in the upper), then the tree within
            // each half — the levels of VectorKernels.sum's tree, in the same order.
            FloatVector t = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
            if (LANES >= 64) {
                t = t.add(t.rearrange(X16));
            }
            if (LANES >= 32) {
                t = t.add(t.rearrange(X8));
            }
            if (LANES >= 16) {
                t = t.add(t.rearrange(X4));
            }
            if (LANES >= 8) {
                t = t.add(t.rearrange(X2));
            }
            t = t.add(t.rearrange(X1));
            float y0 = t.lane(0), y1 = t.lane(LANES / 2);
            for (; n < N; n++) { // N not a multiple of the vector: the lanes' arithmetic, one by one
                float h0 = Math.fma(state[s0 + n], ScalarMath.exp(A[a0 + n] * dt0), bm[bOff + n] * dtu0);
                float h1 = Math.fma(state[s1 + n], ScalarMath.exp(A[a1 + n] * dt1), bm[bOff + n] * dtu1);
                state[s0 + n] = h0;
                state[s1 + n] = h1;
                y0 = Math.fma(h0, cm[cOff + n], y0);
                y1 = Math.fma(h1, cm[cOff + n], y1);
            }
            out[off + d] = y0 + (dSkip != null ? dSkip[d] * u0 : 0f);
            out[off + e] = y1 + (dSkip != null ? dSkip[e] * u1 : 0f);
        }
    }

    /**
     * {@link #stepRecurrence} for N = LANES = 16 (d_state 16, every Mamba checkpoint's, at 16 lanes), the
     * same operations in the same order, so the same bits: a channel's state is one vector, so
     * there is no loop over it and no tail. Written out, the loop over channels is straight-line
     * code with B, C and zero loaded once; in the general form the JIT set up the inner loop's
     * bounds and range checks again for every pair of channels (docs/cpu-kernels.md).
     */
    static void stepRecurrenceOneVector(float[] out, int off, float[] u, float[] A, float[] bm, int bOff,
                                                float[] cm, int cOff, float[] dSkip, float[] state, int stateOff,
                                                int d0, int d1) {
        FloatVector b = FloatVector.fromArray(F, bm, bOff);
        FloatVector c = FloatVector.fromArray(F, cm, cOff);
        FloatVector zero = FloatVector.zero(F);
        for (int d = d0; d < d1; d += 2) {
            int e = d + 1 < d1 ? d + 1 : d; // an odd last channel pairs with itself (see stepRecurrence)
            float dt0 = out[off + d], dt1 = out[off + e];
            float u0 = u[off + d], u1 = u[off + e];
            float dtu0 = dt0 * u0, dtu1 = dt1 * u1;
            int s0 = stateOff + d * LANES, s1 = stateOff + e * LANES;
            FloatVector h0 = FloatVector.fromArray(F, state, s0)
                    .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, d * LANES).mul(dt0)), b.mul(dtu0));
            FloatVector h1 = FloatVector.fromArray(F, state, s1)
                    .fma(VectorMath.expAtMostHi(FloatVector.fromArray(F, A, e * LANES).mul(dt1)), b.mul(dtu1));
            h0.intoArray(state, s0);
            h1.intoArray(state, s1);
            FloatVector acc0 = h0.fma(c, zero), acc1 = h1.fma(c, zero);
            // stepRecurrence's pair of lane sums (16 lanes: halves, then X4, X2, X1).
            FloatVector t = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
            t = t.add(t.rearrange(X4));
            t = t.add(t.rearrange(X2));
            t = t.add(t.rearrange(X1));
            float y0 = t.lane(0), y1 = t.lane(LANES / 2);
            out[off + d] = y0 + (dSkip != null ? dSkip[d] * u0 : 0f);
            out[off + e] = y1 + (dSkip != null ? dSkip[e] * u1 : 0f);
        }
    }

    // ---------------------------------------------------------------- the causal depthwise conv

    /**
     * Lanes across channels; the block's K taps are transposed once to [K][LANES]. A partial last
     * block runs the same code on a zero-padded copy of its channels.
     */
    /**
     * A vector of channels at a time: with tap-major taps every operand is a plain load of
     * consecutive channels. Channels past the last whole vector go through the scalar twin's
     * per-channel code, which does the same fused multiply-adds in the same order.
     */
    static void convStep(float[] out, int outOff, float[] x, int xOff, float[] taps, float[] bias,
                         float[] window, int winOff, int D, int K, int d0, int d1) {
        int W = K - 1;
        float[] b = bias != null ? bias : ZERO;
        int d = d0;
        for (; d <= d1 - LANES; d += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + d);
            FloatVector acc = FloatVector.fromArray(F, b, bias != null ? d : 0);
            for (int k = 0; k < W; k++) {
                acc = FloatVector.fromArray(F, taps, k * D + d).fma(FloatVector.fromArray(F, window, winOff + k * D + d), acc);
            }
            acc = FloatVector.fromArray(F, taps, W * D + d).fma(xv, acc);
            acc.intoArray(out, outOff + d);
            for (int k = 0; k + 1 < W; k++) {
                FloatVector.fromArray(F, window, winOff + (k + 1) * D + d).intoArray(window, winOff + k * D + d);
            }
            if (W > 0) {
                xv.intoArray(window, winOff + (W - 1) * D + d);
            }
        }
        for (; d < d1; d++) {
            out[outOff + d] = ScalarKernels.convStepChannel(x, xOff, taps, bias, window, winOff, D, K, d);
        }
    }

    static void conv(float[] out, int outOff, float[] x, int xOff, int xStride, float[] w, float[] bias,
                     float[] window, int winOff, int L, int D, int K, int d0, int d1) {
        int W = K - 1;
        float[] wt = new float[K * LANES];
        float[] biasArr = bias != null ? bias : ZERO;
        for (int d = d0; d < d1; d += LANES) {
            int valid = Math.min(LANES, d1 - d);
            java.util.Arrays.fill(wt, 0f);
            for (int j = 0; j < valid; j++) {
                for (int k = 0; k < K; k++) {
                    wt[k * LANES + j] = w[(d + j) * K + k];
                }
            }
            if (valid == LANES) {
                convBlock(out, outOff + d, D, x, xOff + d, xStride, wt, biasArr, bias != null ? d : 0,
                        window, winOff + d, D, L, K);
            } else {
                float[] xs = stage(x, xOff + d, xStride, L, valid);
                float[] ws = window != null ? stage(window, winOff + d, D, W, valid) : null;
                float[] bs = stage(biasArr, bias != null ? d : 0, 0, 1, valid);
                float[] os = new float[L * LANES];
                convBlock(os, 0, LANES, xs, 0, LANES, wt, bs, 0, ws, 0, LANES, L, K);
                unstage(os, out, outOff + d, D, L, valid);
            }
        }
    }

    private static void convBlock(float[] out, int o0, int old, float[] x, int x0, int xld, float[] wt,
                                  float[] bias, int bi, float[] window, int w0, int wld, int L, int K) {
        int W = K - 1;
        FloatVector b = FloatVector.fromArray(F, bias, bi);
        for (int t = 0; t < L; t++) {
            FloatVector acc = b;
            for (int k = 0; k < K; k++) {
                int s = t - W + k;
                // Before the chunk: the window's inputs, or zero padding.
                float[] src = s >= 0 ? x : window != null ? window : ZERO;
                int si = s >= 0 ? x0 + s * xld : window != null ? w0 + (W + s) * wld : 0;
                acc = FloatVector.fromArray(F, src, si).fma(FloatVector.fromArray(F, wt, k * LANES), acc);
            }
            acc.intoArray(out, o0 + t * old);
        }
    }
}
