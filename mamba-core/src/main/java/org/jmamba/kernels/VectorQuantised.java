package org.jmamba.kernels;

import static jdk.incubator.vector.VectorOperators.B2F;
import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.HALVES;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorLanes.UPPER;
import static org.jmamba.kernels.VectorLanes.X1;
import static org.jmamba.kernels.VectorLanes.X16;
import static org.jmamba.kernels.VectorLanes.X2;
import static org.jmamba.kernels.VectorLanes.X4;
import static org.jmamba.kernels.VectorLanes.X8;
import static org.jmamba.kernels.VectorLanes.put;

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
 * The SIMD products of bf16 and block-int8 weights over a few rows of input (decode: bf16NT,
 * int8NT), which widen W as they stream it, and the widening of such rows to f32 (bf16Widen,
 * int8Widen), with the species and constants of that widening. Same signatures and results (up to
 * rounding) as {@link ScalarKernels}; called through {@link Kernels}. The off-heap twins of these
 * kernels ({@code SegmentKernels}, Java 22+) mirror them operation for operation.
 */
final class VectorQuantised {
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

    private VectorQuantised() {
    }

    private static FloatVector bf16(short[] w, int i) {
        ShortVector s = ShortVector.fromArray(SH, w, i);
        IntVector x = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return x.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

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
            // Four rows of A at a time (each widened vector of W serves four), then the rest one at
            // a time. A two-row form once measured slower than one row at a time; the four-row tile,
            // with its lane sums written out and only floats passed on, is faster (docs/cpu-kernels.md).
            int m = m0;
            for (; m + 4 <= m1; m += 4) {
                bf16Rows4x4(a, aOff + m * lda, lda, w, ldw, r0, r1, r2, r3, K, c, cOff + m * ldc, ldc, bias, accumulate);
            }
            for (; m < m1; m++) { // the 4 rows of W stay in L1 across the rows of A
                bf16Rows4(a, aOff + m * lda, w, ldw, r0, r1, r2, r3, K, c, cOff + m * ldc, bias, accumulate);
            }
        }
    }

    /**
     * Four rows of A (at ai, ai + lda, …) against rows r0..r3 of bf16 W: each output summed exactly
     * as bf16Rows4 sums it (same accumulator along k, same lane sum, same tail), so a row of A gets
     * the same bits in the tile as alone; each widened vector of W serves four rows of A.
     */
    private static void bf16Rows4x4(float[] a, int ai, int lda, short[] w, int ldw, int r0, int r1, int r2, int r3, int K,
                                    float[] c, int ci, int ldc, float[] bias, boolean accumulate) {
        int w0 = r0 * ldw, w1 = r1 * ldw, w2 = r2 * ldw, w3 = r3 * ldw;
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int k = 0;
        for (; k <= K - LANES; k += LANES) {
            FloatVector f0 = ((IntVector) ShortVector.fromArray(SH, w, w0 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector f1 = ((IntVector) ShortVector.fromArray(SH, w, w1 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector f2 = ((IntVector) ShortVector.fromArray(SH, w, w2 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector f3 = ((IntVector) ShortVector.fromArray(SH, w, w3 + k).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            c00 = f0.fma(x, c00);
            c01 = f1.fma(x, c01);
            c02 = f2.fma(x, c02);
            c03 = f3.fma(x, c03);
            x = FloatVector.fromArray(F, a, a1 + k);
            c10 = f0.fma(x, c10);
            c11 = f1.fma(x, c11);
            c12 = f2.fma(x, c12);
            c13 = f3.fma(x, c13);
            x = FloatVector.fromArray(F, a, a2 + k);
            c20 = f0.fma(x, c20);
            c21 = f1.fma(x, c21);
            c22 = f2.fma(x, c22);
            c23 = f3.fma(x, c23);
            x = FloatVector.fromArray(F, a, a3 + k);
            c30 = f0.fma(x, c30);
            c31 = f1.fma(x, c31);
            c32 = f2.fma(x, c32);
            c33 = f3.fma(x, c33);
        }
        {
            FloatVector v = c00.blend(c01, UPPER).add(c00.rearrange(HALVES).blend(c01.rearrange(HALVES), UPPER));
            FloatVector u = c02.blend(c03, UPPER).add(c02.rearrange(HALVES).blend(c03.rearrange(HALVES), UPPER));
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a0, w, w0, w1, w2, w3, k, K,
                    c, ci, r0, r1, r2, r3, bias, accumulate);
        }
        {
            FloatVector v = c10.blend(c11, UPPER).add(c10.rearrange(HALVES).blend(c11.rearrange(HALVES), UPPER));
            FloatVector u = c12.blend(c13, UPPER).add(c12.rearrange(HALVES).blend(c13.rearrange(HALVES), UPPER));
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a1, w, w0, w1, w2, w3, k, K,
                    c, ci + ldc, r0, r1, r2, r3, bias, accumulate);
        }
        {
            FloatVector v = c20.blend(c21, UPPER).add(c20.rearrange(HALVES).blend(c21.rearrange(HALVES), UPPER));
            FloatVector u = c22.blend(c23, UPPER).add(c22.rearrange(HALVES).blend(c23.rearrange(HALVES), UPPER));
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a2, w, w0, w1, w2, w3, k, K,
                    c, ci + 2 * ldc, r0, r1, r2, r3, bias, accumulate);
        }
        {
            FloatVector v = c30.blend(c31, UPPER).add(c30.rearrange(HALVES).blend(c31.rearrange(HALVES), UPPER));
            FloatVector u = c32.blend(c33, UPPER).add(c32.rearrange(HALVES).blend(c33.rearrange(HALVES), UPPER));
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a3, w, w0, w1, w2, w3, k, K,
                    c, ci + 3 * ldc, r0, r1, r2, r3, bias, accumulate);
        }
    }

    /**
     * The scalar end shared by bf16Rows4 and bf16Rows4x4, given a row of A's four lane sums: the
     * tail of k, then the bias, stored once per distinct row (floats only: no vector crosses it).
     */
    private static void bf16Finish4(float s0, float s1, float s2, float s3, float[] a, int ai,
                                    short[] w, int w0, int w1, int w2, int w3, int k, int K,
                                    float[] c, int ci, int r0, int r1, int r2, int r3, float[] bias, boolean accumulate) {
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
        bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, ai, w, w0, w1, w2, w3, k, K,
                c, ci, r0, r1, r2, r3, bias, accumulate);
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
     * tens of thousands of vectors per token and ran at a quarter of its speed
     * (docs/benchmark-history.md).
     */

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
            // 24-25 with a row from each half (docs/benchmark-history.md). When the range runs
            // out a row is repeated (computed by the same code) and stored once.
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
            for (; m + 4 <= m1; m += 4) {
                int8Rows2x4(a, aOff + m * lda, lda, q, scales, K, na, nb, c, cOff + m * ldc, ldc, bias, accumulate, nb != na);
            }
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
        int8Finish2(v.lane(0), v.lane(LANES / 2), a, ai, q, scales, K, na, nb, q0, q1, kv + tail * LANES,
                c, ci, bias, accumulate, two);
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

    /**
     * Rows na, nb of W against four rows of A (at ai, ai + lda, …): each output summed exactly as
     * int8Rows2 sums it (block sums, scaled into the accumulator, the same lane sum and tail), so a
     * row of A gets the same bits here as alone; each widened vector of W serves four rows of A.
     */
    private static void int8Rows2x4(float[] a, int ai, int lda, byte[] q, float[] scales, int K, int na, int nb,
                                    float[] c, int ci, int ldc, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        int q0 = na * K, q1 = nb * K;
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector acc00 = FloatVector.zero(F), acc01 = FloatVector.zero(F), acc10 = FloatVector.zero(F), acc11 = FloatVector.zero(F), acc20 = FloatVector.zero(F), acc21 = FloatVector.zero(F), acc30 = FloatVector.zero(F), acc31 = FloatVector.zero(F);
        FloatVector f0, f1, x;
        FloatVector p00, p01, p10, p11, p20, p21, p30, p31;
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k0).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k0).convertShape(B2F, F, 0);
            x = FloatVector.fromArray(F, a, a0 + k0);
            p00 = f0.mul(x);
            p01 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a1 + k0);
            p10 = f0.mul(x);
            p11 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a2 + k0);
            p20 = f0.mul(x);
            p21 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a3 + k0);
            p30 = f0.mul(x);
            p31 = f1.mul(x);
            f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k1).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k1).convertShape(B2F, F, 0);
            x = FloatVector.fromArray(F, a, a0 + k1);
            p00 = f0.fma(x, p00);
            p01 = f1.fma(x, p01);
            x = FloatVector.fromArray(F, a, a1 + k1);
            p10 = f0.fma(x, p10);
            p11 = f1.fma(x, p11);
            x = FloatVector.fromArray(F, a, a2 + k1);
            p20 = f0.fma(x, p20);
            p21 = f1.fma(x, p21);
            x = FloatVector.fromArray(F, a, a3 + k1);
            p30 = f0.fma(x, p30);
            p31 = f1.fma(x, p31);
            if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                int k2 = k1 + LANES, k3 = k2 + LANES;
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k2).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k2).convertShape(B2F, F, 0);
                x = FloatVector.fromArray(F, a, a0 + k2);
                p00 = f0.fma(x, p00);
                p01 = f1.fma(x, p01);
                x = FloatVector.fromArray(F, a, a1 + k2);
                p10 = f0.fma(x, p10);
                p11 = f1.fma(x, p11);
                x = FloatVector.fromArray(F, a, a2 + k2);
                p20 = f0.fma(x, p20);
                p21 = f1.fma(x, p21);
                x = FloatVector.fromArray(F, a, a3 + k2);
                p30 = f0.fma(x, p30);
                p31 = f1.fma(x, p31);
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k3).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k3).convertShape(B2F, F, 0);
                x = FloatVector.fromArray(F, a, a0 + k3);
                p00 = f0.fma(x, p00);
                p01 = f1.fma(x, p01);
                x = FloatVector.fromArray(F, a, a1 + k3);
                p10 = f0.fma(x, p10);
                p11 = f1.fma(x, p11);
                x = FloatVector.fromArray(F, a, a2 + k3);
                p20 = f0.fma(x, p20);
                p21 = f1.fma(x, p21);
                x = FloatVector.fromArray(F, a, a3 + k3);
                p30 = f0.fma(x, p30);
                p31 = f1.fma(x, p31);
            }
            FloatVector sa = FloatVector.broadcast(F, scales[na * bpr + blk]);
            FloatVector sb = FloatVector.broadcast(F, scales[nb * bpr + blk]);
            acc00 = p00.fma(sa, acc00);
            acc01 = p01.fma(sb, acc01);
            acc10 = p10.fma(sa, acc10);
            acc11 = p11.fma(sb, acc11);
            acc20 = p20.fma(sa, acc20);
            acc21 = p21.fma(sb, acc21);
            acc30 = p30.fma(sa, acc30);
            acc31 = p31.fma(sb, acc31);
        }
        int kv = full * Int8Blocks.BLOCK;
        int tail = (K - kv) / LANES;
        if (tail > 0) {
            f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + kv).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + kv).convertShape(B2F, F, 0);
            x = FloatVector.fromArray(F, a, a0 + kv);
            p00 = f0.mul(x);
            p01 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a1 + kv);
            p10 = f0.mul(x);
            p11 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a2 + kv);
            p20 = f0.mul(x);
            p21 = f1.mul(x);
            x = FloatVector.fromArray(F, a, a3 + kv);
            p30 = f0.mul(x);
            p31 = f1.mul(x);
            for (int t = 1; t < tail; t++) {
                int k = kv + t * LANES;
                f0 = (FloatVector) ByteVector.fromArray(BL, q, q0 + k).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromArray(BL, q, q1 + k).convertShape(B2F, F, 0);
                x = FloatVector.fromArray(F, a, a0 + k);
                p00 = f0.fma(x, p00);
                p01 = f1.fma(x, p01);
                x = FloatVector.fromArray(F, a, a1 + k);
                p10 = f0.fma(x, p10);
                p11 = f1.fma(x, p11);
                x = FloatVector.fromArray(F, a, a2 + k);
                p20 = f0.fma(x, p20);
                p21 = f1.fma(x, p21);
                x = FloatVector.fromArray(F, a, a3 + k);
                p30 = f0.fma(x, p30);
                p31 = f1.fma(x, p31);
            }
            FloatVector sa = FloatVector.broadcast(F, scales[na * bpr + full]);
            FloatVector sb = FloatVector.broadcast(F, scales[nb * bpr + full]);
            acc00 = p00.fma(sa, acc00);
            acc01 = p01.fma(sb, acc01);
            acc10 = p10.fma(sa, acc10);
            acc11 = p11.fma(sb, acc11);
            acc20 = p20.fma(sa, acc20);
            acc21 = p21.fma(sb, acc21);
            acc30 = p30.fma(sa, acc30);
            acc31 = p31.fma(sb, acc31);
        }
        {
            FloatVector v = acc00.blend(acc01, UPPER).add(acc00.rearrange(HALVES).blend(acc01.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a0, q, scales, K, na, nb, q0, q1, kv + tail * LANES,
                    c, ci, bias, accumulate, two);
        }
        {
            FloatVector v = acc10.blend(acc11, UPPER).add(acc10.rearrange(HALVES).blend(acc11.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a1, q, scales, K, na, nb, q0, q1, kv + tail * LANES,
                    c, ci + ldc, bias, accumulate, two);
        }
        {
            FloatVector v = acc20.blend(acc21, UPPER).add(acc20.rearrange(HALVES).blend(acc21.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a2, q, scales, K, na, nb, q0, q1, kv + tail * LANES,
                    c, ci + 2 * ldc, bias, accumulate, two);
        }
        {
            FloatVector v = acc30.blend(acc31, UPPER).add(acc30.rearrange(HALVES).blend(acc31.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a3, q, scales, K, na, nb, q0, q1, kv + tail * LANES,
                    c, ci + 3 * ldc, bias, accumulate, two);
        }
    }

    /**
     * The scalar end shared by int8Rows2, int8Rows2x2 and int8Rows2x4, given a row of A's two lane
     * sums: the last weights of a short block (from kr), then the bias (floats only).
     */
    private static void int8Finish2(float r0, float r1, float[] a, int ai, byte[] q, float[] scales, int K, int na, int nb,
                                    int q0, int q1, int kr, float[] c, int ci, float[] bias, boolean accumulate, boolean two) {
        if (kr < K) {
            int bpr = Int8Blocks.blocksPerRow(K);
            int full = K / Int8Blocks.BLOCK;
            r0 += int8Rest(a, ai, q, q0, kr, K) * scales[na * bpr + full];
            r1 += int8Rest(a, ai, q, q1, kr, K) * scales[nb * bpr + full];
        }
        put(c, ci + na, bias != null ? r0 + bias[na] : r0, accumulate);
        if (two) {
            put(c, ci + nb, bias != null ? r1 + bias[nb] : r1, accumulate);
        }
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
        int kr = kv + tail * LANES;
        int8Finish2(v.lane(0), v.lane(LANES / 2), a, ai, q, scales, K, na, nb, q0, q1, kr, c, ci, bias, accumulate, two);
        int8Finish2(w.lane(0), w.lane(LANES / 2), a, aj, q, scales, K, na, nb, q0, q1, kr, c, cj, bias, accumulate, two);
    }

    /** int8 weights {@code q[i .. i+LANES)} widened to floats (exact: every int8 is a float). */
    private static FloatVector widen(byte[] q, int i) {
        return (FloatVector) ByteVector.fromArray(BL, q, i).convertShape(B2F, F, 0);
    }

    /** {@link ScalarKernels#bf16Widen}: a vector of weights at a time, then the row's tail. */
    static void bf16Widen(short[] w, int ldw, int n0, int nl, int k0, int kl, float[] out, int off, int ldo) {
        for (int j = 0; j < nl; j++) {
            int wi = (n0 + j) * ldw + k0;
            int oi = off + j * ldo;
            int k = 0;
            for (; k <= kl - LANES; k += LANES) {
                bf16(w, wi + k).intoArray(out, oi + k);
            }
            for (; k < kl; k++) {
                out[oi + k] = Bf16.toFloat(w[wi + k]);
            }
        }
    }

    /**
     * {@link ScalarKernels#int8Widen}: whole blocks a vector at a time (each vector times its
     * block's scale, one rounding, as the scalar form), the rest one weight at a time. A block that
     * starts before k0 or ends after k0 + kl is done weight by weight too.
     */
    static void int8Widen(byte[] q, float[] scales, int K, int n0, int nl, int k0, int kl,
                          float[] out, int off, int ldo) {
        if (!INT8_VECTORS) {
            ScalarKernels.int8Widen(q, scales, K, n0, nl, k0, kl, out, off, ldo);
            return;
        }
        int bpr = Int8Blocks.blocksPerRow(K);
        int k1 = k0 + kl;
        int b0 = (k0 + Int8Blocks.BLOCK - 1) / Int8Blocks.BLOCK; // first whole block inside [k0, k1)
        int b1 = k1 / Int8Blocks.BLOCK;                          // blocks before b1 end by k1
        int head = Math.min(k1, b0 * Int8Blocks.BLOCK);          // weights before the first whole block
        for (int j = 0; j < nl; j++) {
            int n = n0 + j;
            int qi = n * K;
            int oi = off + j * ldo - k0; // out index of weight k is oi + k
            int si = n * bpr;
            for (int k = k0; k < head; k++) {
                out[oi + k] = q[qi + k] * scales[si + k / Int8Blocks.BLOCK];
            }
            for (int blk = b0; blk < b1; blk++) {
                int k = blk * Int8Blocks.BLOCK;
                float s = scales[si + blk];
                widen(q, qi + k).mul(s).intoArray(out, oi + k); // written out: see INT8_VECTORS
                widen(q, qi + k + LANES).mul(s).intoArray(out, oi + k + LANES);
                if (INT8_FOUR_STEPS) {
                    widen(q, qi + k + 2 * LANES).mul(s).intoArray(out, oi + k + 2 * LANES);
                    widen(q, qi + k + 3 * LANES).mul(s).intoArray(out, oi + k + 3 * LANES);
                }
            }
            for (int k = Math.max(head, b1 * Int8Blocks.BLOCK); k < k1; k++) { // after the last whole block
                out[oi + k] = q[qi + k] * scales[si + k / Int8Blocks.BLOCK];
            }
        }
    }
}
