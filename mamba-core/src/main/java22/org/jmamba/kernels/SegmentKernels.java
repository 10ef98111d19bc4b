package org.jmamba.kernels;

import static org.jmamba.kernels.VectorQuantised.BL;
import static jdk.incubator.vector.VectorOperators.B2F;
import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorGemm.FS;
import static org.jmamba.kernels.VectorGemm.HALVES_S;
import static org.jmamba.kernels.VectorGemm.S1;
import static org.jmamba.kernels.VectorGemm.S2;
import static org.jmamba.kernels.VectorGemm.SLANES;
import static org.jmamba.kernels.VectorGemm.UPPER_S;
import static org.jmamba.kernels.VectorLanes.HALVES;
import static org.jmamba.kernels.VectorLanes.UPPER;
import static org.jmamba.kernels.VectorLanes.X1;
import static org.jmamba.kernels.VectorLanes.X16;
import static org.jmamba.kernels.VectorLanes.X2;
import static org.jmamba.kernels.VectorLanes.X4;
import static org.jmamba.kernels.VectorLanes.X8;
import static org.jmamba.kernels.VectorQuantised.I;
import static org.jmamba.kernels.VectorQuantised.INT8_FOUR_STEPS;
import static org.jmamba.kernels.VectorQuantised.INT8_VECTORS;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorGemm.NT_KC;
import static org.jmamba.kernels.VectorQuantised.SH;
import static org.jmamba.kernels.VectorLanes.put;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The products of off-heap matrices ({@link SegmentMatrix}): the few-row (decode) kernels of
 * {@link VectorGemm} and {@link VectorQuantised} with W read from a little-endian
 * {@link MemorySegment} instead of an array, and {@link PanelSource}s that widen a segment for the
 * many-row panel product, which is shared
 * ({@link Kernels#gemmNT(float[], int, int, PanelSource, float[], int, int, float[], boolean, int, int, int, int, int, float[])}).
 *
 * <p><b>Keep in step with {@link VectorGemm} and {@link VectorQuantised}.</b> Each kernel here
 * mirrors its array twin there line by line — the same species, block constants, lane sum and store
 * (those of {@link VectorLanes}, VectorGemm and VectorQuantised, imported above), the same four
 * (f32, bf16, int8 against one row of input) or two (int8 in a batch) rows of W per pass, the same
 * k chunks, the same bf16 and int8 widening, the same accumulators, tails and bias order — so that
 * a model gives the same bits with its weights on or off the heap ({@code SegmentKernelsTest}
 * checks bit equality on random shapes). A change to the int8 or bf16 widening, or to any order of
 * operations, in those classes must be made here too.
 *
 * <p>Loaded only on Java 22+ with the Vector API enabled (see {@link OffHeapMatrices}).
 */
final class SegmentKernels {
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** f32 and bf16 as checkpoints store them: little-endian, and possibly unaligned in a mapped file. */
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort S16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private SegmentKernels() {
    }

    // ---------------------------------------------------------------- element access

    /** f32 element {@code i} of {@code w}. */
    static float f32(MemorySegment w, long i) {
        return w.get(F32, 4 * i);
    }

    /** bf16 element {@code i} of {@code w}, widened (exact). */
    static float bf16(MemorySegment w, long i) {
        return Bf16.toFloat(w.get(S16, 2 * i));
    }

    /** int8 element {@code i} of {@code q} (the byte, not yet scaled). */
    static byte int8(MemorySegment q, long i) {
        return q.get(I8, i);
    }



    // ---------------------------------------------------------------- f32

    /**
     * VectorGemm.gemmNT (the few-row form) with B [N, K] in f32 in {@code b}, row n at element
     * {@code n*ldb}. More than {@link Kernels#FEW_ROWS} rows of A go to the panel product.
     */
    static void gemmNT(float[] a, int aOff, int lda, MemorySegment b, int ldb,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        if (m1 <= m0 || n1 <= n0) {
            return;
        }
        if (K == 0) {
            ScalarKernels.gemmNT(a, aOff, lda, new float[0], 0, 0, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, 0);
            return;
        }
        if (m1 - m0 > Kernels.FEW_ROWS) {
            Kernels.gemmNT(a, aOff, lda, f32Panels(b, ldb), c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K, null);
            return;
        }
        int kc = K <= NT_KC ? K : NT_KC;
        int q = (n1 - n0 + 3) / 4; // quarters of the whole range, as in VectorGemm.gemmNT
        boolean mapped = b.isMapped();
        for (int k0 = 0; k0 < K; k0 += kc) {
            int kl = Math.min(kc, K - k0);
            boolean acc = accumulate || k0 > 0;
            float[] bs = k0 == 0 ? bias : null; // the bias is added once, with the first k chunk
            for (int i = 0; i < q; i++) {
                int r0 = n0 + i;
                int r1 = r0 + q < n1 ? r0 + q : r0;
                int r2 = r0 + 2 * q < n1 ? r0 + 2 * q : r1;
                int r3 = r0 + 3 * q < n1 ? r0 + 3 * q : r2;
                int m = m0;
                for (; m + 4 <= m1; m += 4) {
                    nt4x4(a, aOff + m * lda + k0, lda, b, k0, ldb, r0, r1, r2, r3, kl, c, cOff + m * ldc, ldc, bs, acc);
                }
                for (; m < m1; m++) {
                    nt1x4(a, aOff + m * lda + k0, b, mapped, k0, ldb, r0, r1, r2, r3, kl, c, cOff + m * ldc, bs, acc);
                }
            }
        }
    }

    /**
     * VectorGemm.nt1x4: one row of A against rows r0..r3 of B (B[r, k] at element bk + r*ldb + k).
     *
     * <p>Native memory is read through a slice per row (see int8Rows4). A file mapping ({@code mapped}:
     * B's {@code isMapped()}) is read through offsets into the whole mapping instead, with the same
     * operations in the same order (same bits). A slice of a mapping is a {@code MappedMemorySegmentImpl},
     * and C2 did not always scalar-replace those: a mapped 130m model allocated one per row read,
     * megabytes per token, and in one process the slices then ran at 0.82–0.90 of the offsets
     * (alternated every 16 steps, medians of 40 pairs: f32 1.11× and bf16 1.22× with offsets). On
     * native memory the slices stay the faster form (offsets 0.93× f32, 0.97× bf16, same runs), and
     * int8, which no checkpoint stores, is never mapped (docs/cpu-kernels.md). The two loops are
     * written apart, not as one loop over a segment the branch picks, so that a slice never shares a
     * variable with the mapping and the native path stays the code that was measured.
     */
    private static void nt1x4(float[] a, int ai, MemorySegment b, boolean mapped, int bk, int ldb,
                              int r0, int r1, int r2, int r3, int K, float[] c, int ci, float[] bias, boolean acc) {
        FloatVector c0 = FloatVector.zero(FS), c1 = FloatVector.zero(FS);
        FloatVector c2 = FloatVector.zero(FS), c3 = FloatVector.zero(FS);
        int k = 0;
        if (mapped) {
            long o0 = 4 * ((long) r0 * ldb + bk), o1 = 4 * ((long) r1 * ldb + bk);
            long o2 = 4 * ((long) r2 * ldb + bk), o3 = 4 * ((long) r3 * ldb + bk);
            for (; k <= K - SLANES; k += SLANES) {
                FloatVector x = FloatVector.fromArray(FS, a, ai + k);
                long o = 4L * k;
                c0 = x.fma(FloatVector.fromMemorySegment(FS, b, o0 + o, LE), c0);
                c1 = x.fma(FloatVector.fromMemorySegment(FS, b, o1 + o, LE), c1);
                c2 = x.fma(FloatVector.fromMemorySegment(FS, b, o2 + o, LE), c2);
                c3 = x.fma(FloatVector.fromMemorySegment(FS, b, o3 + o, LE), c3);
            }
        } else {
            MemorySegment w0 = b.asSlice(4 * ((long) r0 * ldb + bk), 4L * K), w1 = b.asSlice(4 * ((long) r1 * ldb + bk), 4L * K);
            MemorySegment w2 = b.asSlice(4 * ((long) r2 * ldb + bk), 4L * K), w3 = b.asSlice(4 * ((long) r3 * ldb + bk), 4L * K);
            for (; k <= K - SLANES; k += SLANES) {
                FloatVector x = FloatVector.fromArray(FS, a, ai + k);
                long o = 4L * k;
                c0 = x.fma(FloatVector.fromMemorySegment(FS, w0, o, LE), c0);
                c1 = x.fma(FloatVector.fromMemorySegment(FS, w1, o, LE), c1);
                c2 = x.fma(FloatVector.fromMemorySegment(FS, w2, o, LE), c2);
                c3 = x.fma(FloatVector.fromMemorySegment(FS, w3, o, LE), c3);
            }
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
        f32Finish4(v.lane(0), v.lane(SLANES / 2), w.lane(0), w.lane(SLANES / 2), a, ai, b, bk, ldb, k, K,
                c, ci, r0, r1, r2, r3, bias, acc);
    }

    /**
     * VectorGemm.nt4x4: four rows of A against rows r0..r3 of B, each output summed as nt1x4 sums
     * it. B is read through offsets into the whole segment, mapped or not: the tile is bound by its
     * arithmetic, not by how one core streams B, and offsets allocate nothing (see nt1x4).
     */
    private static void nt4x4(float[] a, int ai, int lda, MemorySegment b, int bk, int ldb,
                              int r0, int r1, int r2, int r3, int K, float[] c, int ci, int ldc, float[] bias, boolean acc) {
        long o0 = 4 * ((long) r0 * ldb + bk), o1 = 4 * ((long) r1 * ldb + bk);
        long o2 = 4 * ((long) r2 * ldb + bk), o3 = 4 * ((long) r3 * ldb + bk);
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector c00 = FloatVector.zero(FS), c01 = FloatVector.zero(FS), c02 = FloatVector.zero(FS), c03 = FloatVector.zero(FS);
        FloatVector c10 = FloatVector.zero(FS), c11 = FloatVector.zero(FS), c12 = FloatVector.zero(FS), c13 = FloatVector.zero(FS);
        FloatVector c20 = FloatVector.zero(FS), c21 = FloatVector.zero(FS), c22 = FloatVector.zero(FS), c23 = FloatVector.zero(FS);
        FloatVector c30 = FloatVector.zero(FS), c31 = FloatVector.zero(FS), c32 = FloatVector.zero(FS), c33 = FloatVector.zero(FS);
        int k = 0;
        for (; k <= K - SLANES; k += SLANES) {
            long o = 4L * k;
            FloatVector w0 = FloatVector.fromMemorySegment(FS, b, o0 + o, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(FS, b, o1 + o, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(FS, b, o2 + o, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(FS, b, o3 + o, LE);
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
            FloatVector u = c02.blend(c03, UPPER_S).add(c02.rearrange(HALVES_S).blend(c03.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                u = u.add(u.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                u = u.add(u.rearrange(S1));
            }
            f32Finish4(v.lane(0), v.lane(SLANES / 2), u.lane(0), u.lane(SLANES / 2), a, a0, b, bk, ldb, k, K,
                    c, ci, r0, r1, r2, r3, bias, acc);
        }

        {
            FloatVector v = c10.blend(c11, UPPER_S).add(c10.rearrange(HALVES_S).blend(c11.rearrange(HALVES_S), UPPER_S));
            FloatVector u = c12.blend(c13, UPPER_S).add(c12.rearrange(HALVES_S).blend(c13.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                u = u.add(u.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                u = u.add(u.rearrange(S1));
            }
            f32Finish4(v.lane(0), v.lane(SLANES / 2), u.lane(0), u.lane(SLANES / 2), a, a1, b, bk, ldb, k, K,
                    c, ci + ldc, r0, r1, r2, r3, bias, acc);
        }

        {
            FloatVector v = c20.blend(c21, UPPER_S).add(c20.rearrange(HALVES_S).blend(c21.rearrange(HALVES_S), UPPER_S));
            FloatVector u = c22.blend(c23, UPPER_S).add(c22.rearrange(HALVES_S).blend(c23.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                u = u.add(u.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                u = u.add(u.rearrange(S1));
            }
            f32Finish4(v.lane(0), v.lane(SLANES / 2), u.lane(0), u.lane(SLANES / 2), a, a2, b, bk, ldb, k, K,
                    c, ci + 2 * ldc, r0, r1, r2, r3, bias, acc);
        }

        {
            FloatVector v = c30.blend(c31, UPPER_S).add(c30.rearrange(HALVES_S).blend(c31.rearrange(HALVES_S), UPPER_S));
            FloatVector u = c32.blend(c33, UPPER_S).add(c32.rearrange(HALVES_S).blend(c33.rearrange(HALVES_S), UPPER_S));
            if (SLANES >= 8) {
                v = v.add(v.rearrange(S2));
                u = u.add(u.rearrange(S2));
            }
            if (SLANES >= 4) {
                v = v.add(v.rearrange(S1));
                u = u.add(u.rearrange(S1));
            }
            f32Finish4(v.lane(0), v.lane(SLANES / 2), u.lane(0), u.lane(SLANES / 2), a, a3, b, bk, ldb, k, K,
                    c, ci + 3 * ldc, r0, r1, r2, r3, bias, acc);
        }
    }

    /**
     * The scalar end shared by nt1x4 and nt4x4, given a row of A's four lane sums: the tail of k,
     * then the bias, stored once per distinct row (floats only: no vector crosses it).
     */
    private static void f32Finish4(float s0, float s1, float s2, float s3, float[] a, int ai, MemorySegment b, int bk, int ldb,
                                   int k, int K, float[] c, int ci, int r0, int r1, int r2, int r3, float[] bias, boolean acc) {
        for (; k < K; k++) {
            float x = a[ai + k];
            long o = 4L * k;
            s0 += x * b.get(F32, 4 * ((long) r0 * ldb + bk) + o);
            s1 += x * b.get(F32, 4 * ((long) r1 * ldb + bk) + o);
            s2 += x * b.get(F32, 4 * ((long) r2 * ldb + bk) + o);
            s3 += x * b.get(F32, 4 * ((long) r3 * ldb + bk) + o);
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

    // ---------------------------------------------------------------- bf16

    /** VectorQuantised.bf16NT with W [N, K] as bf16 bit patterns in {@code w}, row n at element {@code n*ldw}. */
    static void bf16NT(float[] a, int aOff, int lda, MemorySegment w, int ldw,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        int q = (n1 - n0 + 3) / 4;
        boolean mapped = w.isMapped();
        for (int i = 0; i < q; i++) {
            int r0 = n0 + i;
            int r1 = r0 + q < n1 ? r0 + q : r0;
            int r2 = r0 + 2 * q < n1 ? r0 + 2 * q : r1;
            int r3 = r0 + 3 * q < n1 ? r0 + 3 * q : r2;
            int m = m0;
            for (; m + 4 <= m1; m += 4) {
                bf16Rows4x4(a, aOff + m * lda, lda, w, ldw, r0, r1, r2, r3, K, c, cOff + m * ldc, ldc, bias, accumulate);
            }
            for (; m < m1; m++) {
                bf16Rows4(a, aOff + m * lda, w, mapped, ldw, r0, r1, r2, r3, K, c, cOff + m * ldc, bias, accumulate);
            }
        }
    }

    /**
     * VectorQuantised.bf16Rows4: rows r0..r3 of bf16 W against one row of A, the widening written out as
     * there. Native memory through a slice per row, a mapping through offsets into it (see nt1x4).
     */
    private static void bf16Rows4(float[] a, int ai, MemorySegment w, boolean mapped, int ldw,
                                  int r0, int r1, int r2, int r3, int K, float[] c, int ci, float[] bias, boolean accumulate) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        int k = 0;
        if (mapped) {
            long o0 = 2L * r0 * ldw, o1 = 2L * r1 * ldw, o2 = 2L * r2 * ldw, o3 = 2L * r3 * ldw;
            for (; k <= K - LANES; k += LANES) {
                FloatVector x = FloatVector.fromArray(F, a, ai + k);
                c0 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o0 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c0);
                c1 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o1 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c1);
                c2 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o2 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c2);
                c3 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o3 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c3);
            }
        } else {
            MemorySegment v0 = w.asSlice(2L * r0 * ldw, 2L * K), v1 = w.asSlice(2L * r1 * ldw, 2L * K);
            MemorySegment v2 = w.asSlice(2L * r2 * ldw, 2L * K), v3 = w.asSlice(2L * r3 * ldw, 2L * K);
            for (; k <= K - LANES; k += LANES) {
                FloatVector x = FloatVector.fromArray(F, a, ai + k);
                c0 = ((IntVector) ShortVector.fromMemorySegment(SH, v0, 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c0);
                c1 = ((IntVector) ShortVector.fromMemorySegment(SH, v1, 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c1);
                c2 = ((IntVector) ShortVector.fromMemorySegment(SH, v2, 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c2);
                c3 = ((IntVector) ShortVector.fromMemorySegment(SH, v3, 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, c3);
            }
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
        bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, ai, w, ldw, k, K,
                c, ci, r0, r1, r2, r3, bias, accumulate);
    }

    /**
     * VectorQuantised.bf16Rows4x4: four rows of A against rows r0..r3 of bf16 W, each output summed
     * as bf16Rows4 sums it; W through offsets into the whole segment, mapped or not (see nt4x4).
     */
    private static void bf16Rows4x4(float[] a, int ai, int lda, MemorySegment w, int ldw, int r0, int r1, int r2, int r3,
                                    int K, float[] c, int ci, int ldc, float[] bias, boolean accumulate) {
        long o0 = 2L * r0 * ldw, o1 = 2L * r1 * ldw, o2 = 2L * r2 * ldw, o3 = 2L * r3 * ldw;
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int k = 0;
        for (; k <= K - LANES; k += LANES) {
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o0 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o1 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o2 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(SH, w, o3 + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            c00 = w0.fma(x, c00);
            c01 = w1.fma(x, c01);
            c02 = w2.fma(x, c02);
            c03 = w3.fma(x, c03);
            x = FloatVector.fromArray(F, a, a1 + k);
            c10 = w0.fma(x, c10);
            c11 = w1.fma(x, c11);
            c12 = w2.fma(x, c12);
            c13 = w3.fma(x, c13);
            x = FloatVector.fromArray(F, a, a2 + k);
            c20 = w0.fma(x, c20);
            c21 = w1.fma(x, c21);
            c22 = w2.fma(x, c22);
            c23 = w3.fma(x, c23);
            x = FloatVector.fromArray(F, a, a3 + k);
            c30 = w0.fma(x, c30);
            c31 = w1.fma(x, c31);
            c32 = w2.fma(x, c32);
            c33 = w3.fma(x, c33);
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a0, w, ldw, k, K,
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a1, w, ldw, k, K,
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a2, w, ldw, k, K,
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
            bf16Finish4(v.lane(0), v.lane(LANES / 2), u.lane(0), u.lane(LANES / 2), a, a3, w, ldw, k, K,
                    c, ci + 3 * ldc, r0, r1, r2, r3, bias, accumulate);
        }
    }

    /**
     * The scalar end shared by bf16Rows4 and bf16Rows4x4, given a row of A's four lane sums: the
     * tail of k, then the bias, stored once per distinct row (floats only: no vector crosses it).
     */
    private static void bf16Finish4(float s0, float s1, float s2, float s3, float[] a, int ai, MemorySegment w, int ldw,
                                    int k, int K, float[] c, int ci, int r0, int r1, int r2, int r3, float[] bias, boolean accumulate) {
        for (; k < K; k++) {
            float x = a[ai + k];
            s0 += x * bf16(w, (long) r0 * ldw + k);
            s1 += x * bf16(w, (long) r1 * ldw + k);
            s2 += x * bf16(w, (long) r2 * ldw + k);
            s3 += x * bf16(w, (long) r3 * ldw + k);
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

    // ---------------------------------------------------------------- block int8

    /**
     * VectorQuantised.int8NT with W [N, K] in blocks of int8 ({@link Int8Blocks}): weight (n, k) is
     * byte {@code n*K + k} of {@code q} times f32 {@code n*blocksPerRow(K) + k/BLOCK} of {@code scales}.
     */
    static void int8NT(float[] a, int aOff, int lda, MemorySegment q, MemorySegment scales,
                       float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                       int m0, int m1, int n0, int n1, int K) {
        if (!INT8_VECTORS) {
            int8NTScalar(a, aOff, lda, q, scales, c, cOff, ldc, bias, accumulate, m0, m1, n0, n1, K);
            return;
        }
        if (m1 - m0 == 1) {
            // VectorQuantised.int8NT, a row from each quarter, for every row length. The array kernel
            // takes short rows (dt_proj's) 16 at a time in a straight-line method; its segment twin,
            // with 48 segment loads written out, did not compile: C1 gave up on it ("out of virtual
            // registers in LIR generator"), C2 never took it over, and the interpreted-grade code
            // boxed every vector. An int8 decode step off the heap then spent 8.1 of its 13.4 ms in
            // the scan phase (`bench --weight-memory off-heap --phases`, 2026-12-06). int8Rows4
            // computes every row with the same operations, so the bits are the same. A 16-row twin
            // reading whole 64-byte vectors and widening their parts did compile, but ran slower than
            // this (1536 × 48, one thread, in cache: 18.4 µs against 13.6; the array kernel 3.9).
            int8Rows4(a, aOff + m0 * lda, q, scales, K, n0, n1, c, cOff + m0 * ldc, bias, accumulate);
            return;
        }
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
            if (m < m1) {
                int8Rows2(a, aOff + m * lda, q, scales, K, na, nb, c, cOff + m * ldc, bias, accumulate, nb != na);
            }
        }
    }

    /** ScalarKernels.int8NT (what VectorQuantised runs at widths other than 8 and 16 lanes). */
    private static void int8NTScalar(float[] a, int aOff, int lda, MemorySegment q, MemorySegment scales,
                                     float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                                     int m0, int m1, int n0, int n1, int K) {
        int bpr = Int8Blocks.blocksPerRow(K);
        for (int m = m0; m < m1; m++) {
            int ai = aOff + m * lda;
            for (int n = n0; n < n1; n++) {
                float s = 0f;
                for (int blk = 0; blk < bpr; blk++) {
                    int k0 = blk * Int8Blocks.BLOCK;
                    int k1 = Math.min(K, k0 + Int8Blocks.BLOCK);
                    float bs = 0f;
                    for (int k = k0; k < k1; k++) {
                        bs += a[ai + k] * int8(q, (long) n * K + k);
                    }
                    s += bs * f32(scales, (long) n * bpr + blk);
                }
                if (bias != null) {
                    s += bias[n];
                }
                put(c, cOff + m * ldc + n, s, accumulate);
            }
        }
    }

    /** VectorQuantised.int8Rows2: rows na, nb (nb written only if {@code two}) against one row of A. */
    private static void int8Rows2(float[] a, int ai, MemorySegment q, MemorySegment scales, int K, int na, int nb,
                                  float[] c, int ci, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        // Each row as its own slice, as in int8Rows4.
        MemorySegment w0 = q.asSlice((long) na * K, K), w1 = q.asSlice((long) nb * K, K);
        long sa0 = (long) na * bpr, sb0 = (long) nb * bpr;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            FloatVector x0 = FloatVector.fromArray(F, a, ai + k0);
            FloatVector x1 = FloatVector.fromArray(F, a, ai + k1);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k0, LE).convertShape(B2F, F, 0)).mul(x0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k0, LE).convertShape(B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k1, LE).convertShape(B2F, F, 0)).fma(x1, p0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k1, LE).convertShape(B2F, F, 0)).fma(x1, p1);
            if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                int k2 = k1 + LANES, k3 = k2 + LANES;
                FloatVector x2 = FloatVector.fromArray(F, a, ai + k2);
                FloatVector x3 = FloatVector.fromArray(F, a, ai + k3);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k2, LE).convertShape(B2F, F, 0)).fma(x2, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k2, LE).convertShape(B2F, F, 0)).fma(x2, p1);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k3, LE).convertShape(B2F, F, 0)).fma(x3, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k3, LE).convertShape(B2F, F, 0)).fma(x3, p1);
            }
            acc0 = p0.fma(FloatVector.broadcast(F, f32(scales, sa0 + blk)), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, f32(scales, sb0 + blk)), acc1);
        }
        int kv = full * Int8Blocks.BLOCK;
        int tail = (K - kv) / LANES; // whole vectors of a short last block (none when K is a multiple of 32)
        if (tail > 0) {
            FloatVector x0 = FloatVector.fromArray(F, a, ai + kv);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, kv, LE).convertShape(B2F, F, 0)).mul(x0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, kv, LE).convertShape(B2F, F, 0)).mul(x0);
            for (int t = 1; t < tail; t++) {
                int k = kv + t * LANES;
                FloatVector x = FloatVector.fromArray(F, a, ai + k);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k, LE).convertShape(B2F, F, 0)).fma(x, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k, LE).convertShape(B2F, F, 0)).fma(x, p1);
            }
            acc0 = p0.fma(FloatVector.broadcast(F, f32(scales, sa0 + full)), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, f32(scales, sb0 + full)), acc1);
        }
        // Both lane sums at once, in sum()'s order: halves swapped and added (acc0's sums in the
        // lower half, acc1's in the upper), then the pairwise tree within each half.
        FloatVector v = acc0.blend(acc1, UPPER).add(acc0.rearrange(HALVES).blend(acc1.rearrange(HALVES), UPPER));
        if (LANES == 16) {
            v = v.add(v.rearrange(X4));
        }
        v = v.add(v.rearrange(X2));
        v = v.add(v.rearrange(X1));
        int8Finish2(v.lane(0), v.lane(LANES / 2), a, ai, q, scales, K, na, nb, kv + tail * LANES,
                c, ci, bias, accumulate, two);
    }

    /** VectorQuantised.int8Rest: the last weights of a short block, fewer than a vector, unscaled. */
    private static float int8Rest(float[] a, int ai, MemorySegment q, long qi, int k0, int K) {
        float t = 0f;
        for (int k = k0; k < K; k++) {
            t += a[ai + k] * int8(q, qi + k);
        }
        return t;
    }

    /**
     * VectorQuantised.int8Rows4: rows n0..n1 against one row of A, four at a time, each as int8Rows2
     * computes it. Each of the four rows is read through its own slice of K bytes: every load of a
     * block then indexes a segment of the same length at the same offset, and the JIT's range-check
     * preparation before each group of four rows shrinks accordingly (addressing the whole matrix,
     * C2 spent about 40% of this method's samples outside the block loop). One thread, in cache,
     * against the previous form (whole-matrix offsets, the group loop in the caller): 1.31–1.37× at
     * K = 768, 1.17× at K = 1536 (docs/cpu-kernels.md).
     * The slices are not allocated as long as none reaches a method the JIT may leave un-inlined:
     * the rare tails (a short block's last weights, fewer than a vector) therefore address the whole
     * matrix. Passed to {@code int8Rest}, the slices were allocated: up to 260 KB per step of the
     * tiny model ({@code DecodeBench -p shape=tiny -p weightMemory=off-heap -prof gc}).
     */
    private static void int8Rows4(float[] a, int ai, MemorySegment q, MemorySegment scales, int K, int n0, int n1,
                                  float[] c, int ci, float[] bias, boolean accumulate) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        int q4 = (n1 - n0 + 3) / 4;
        for (int i = 0; i < q4; i++) {
            int r0 = n0 + i;
            int r1 = r0 + q4 < n1 ? r0 + q4 : r0;
            int r2 = r0 + 2 * q4 < n1 ? r0 + 2 * q4 : r1;
            int r3 = r0 + 3 * q4 < n1 ? r0 + 3 * q4 : r2;
            MemorySegment w0 = q.asSlice((long) r0 * K, K), w1 = q.asSlice((long) r1 * K, K);
            MemorySegment w2 = q.asSlice((long) r2 * K, K), w3 = q.asSlice((long) r3 * K, K);
            long s0i = (long) r0 * bpr, s1i = (long) r1 * bpr, s2i = (long) r2 * bpr, s3i = (long) r3 * bpr;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int blk = 0; blk < full; blk++) {
                int k0 = blk * Int8Blocks.BLOCK;
                int k1 = k0 + LANES;
                FloatVector x0 = FloatVector.fromArray(F, a, ai + k0);
                FloatVector x1 = FloatVector.fromArray(F, a, ai + k1);
                FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k0, LE).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k0, LE).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, k0, LE).convertShape(B2F, F, 0)).mul(x0);
                FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, k0, LE).convertShape(B2F, F, 0)).mul(x0);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k1, LE).convertShape(B2F, F, 0)).fma(x1, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k1, LE).convertShape(B2F, F, 0)).fma(x1, p1);
                p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, k1, LE).convertShape(B2F, F, 0)).fma(x1, p2);
                p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, k1, LE).convertShape(B2F, F, 0)).fma(x1, p3);
                if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                    int k2 = k1 + LANES, k3 = k2 + LANES;
                    FloatVector x2 = FloatVector.fromArray(F, a, ai + k2);
                    FloatVector x3 = FloatVector.fromArray(F, a, ai + k3);
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k2, LE).convertShape(B2F, F, 0)).fma(x2, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k2, LE).convertShape(B2F, F, 0)).fma(x2, p1);
                    p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, k2, LE).convertShape(B2F, F, 0)).fma(x2, p2);
                    p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, k2, LE).convertShape(B2F, F, 0)).fma(x2, p3);
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k3, LE).convertShape(B2F, F, 0)).fma(x3, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k3, LE).convertShape(B2F, F, 0)).fma(x3, p1);
                    p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, k3, LE).convertShape(B2F, F, 0)).fma(x3, p2);
                    p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, k3, LE).convertShape(B2F, F, 0)).fma(x3, p3);
                }
                acc0 = p0.fma(FloatVector.broadcast(F, f32(scales, s0i + blk)), acc0);
                acc1 = p1.fma(FloatVector.broadcast(F, f32(scales, s1i + blk)), acc1);
                acc2 = p2.fma(FloatVector.broadcast(F, f32(scales, s2i + blk)), acc2);
                acc3 = p3.fma(FloatVector.broadcast(F, f32(scales, s3i + blk)), acc3);
            }
            int kv = full * Int8Blocks.BLOCK;
            int tail = (K - kv) / LANES; // whole vectors of a short last block
            if (tail > 0) {
                FloatVector x = FloatVector.fromArray(F, a, ai + kv);
                FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, kv, LE).convertShape(B2F, F, 0)).mul(x);
                FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, kv, LE).convertShape(B2F, F, 0)).mul(x);
                FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, kv, LE).convertShape(B2F, F, 0)).mul(x);
                FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, kv, LE).convertShape(B2F, F, 0)).mul(x);
                for (int t = 1; t < tail; t++) {
                    int k = kv + t * LANES;
                    x = FloatVector.fromArray(F, a, ai + k);
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(BL, w0, k, LE).convertShape(B2F, F, 0)).fma(x, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(BL, w1, k, LE).convertShape(B2F, F, 0)).fma(x, p1);
                    p2 = ((FloatVector) ByteVector.fromMemorySegment(BL, w2, k, LE).convertShape(B2F, F, 0)).fma(x, p2);
                    p3 = ((FloatVector) ByteVector.fromMemorySegment(BL, w3, k, LE).convertShape(B2F, F, 0)).fma(x, p3);
                }
                acc0 = p0.fma(FloatVector.broadcast(F, f32(scales, s0i + full)), acc0);
                acc1 = p1.fma(FloatVector.broadcast(F, f32(scales, s1i + full)), acc1);
                acc2 = p2.fma(FloatVector.broadcast(F, f32(scales, s2i + full)), acc2);
                acc3 = p3.fma(FloatVector.broadcast(F, f32(scales, s3i + full)), acc3);
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
                s0 += int8Rest(a, ai, q, (long) r0 * K, kr, K) * f32(scales, s0i + full);
                s1 += int8Rest(a, ai, q, (long) r1 * K, kr, K) * f32(scales, s1i + full);
                s2 += int8Rest(a, ai, q, (long) r2 * K, kr, K) * f32(scales, s2i + full);
                s3 += int8Rest(a, ai, q, (long) r3 * K, kr, K) * f32(scales, s3i + full);
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

    /**
     * VectorQuantised.int8Rows2x4: rows na, nb against four rows of A, each output as int8Rows2
     * computes it; each row of W as its own slice, as in int8Rows4.
     */
    private static void int8Rows2x4(float[] a, int ai, int lda, MemorySegment q, MemorySegment scales, int K, int na, int nb,
                                    float[] c, int ci, int ldc, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        MemorySegment w0 = q.asSlice((long) na * K, K), w1 = q.asSlice((long) nb * K, K);
        long sa0 = (long) na * bpr, sb0 = (long) nb * bpr;
        int a0 = ai, a1 = ai + lda, a2 = ai + 2 * lda, a3 = ai + 3 * lda;
        FloatVector acc00 = FloatVector.zero(F), acc01 = FloatVector.zero(F);
        FloatVector acc10 = FloatVector.zero(F), acc11 = FloatVector.zero(F);
        FloatVector acc20 = FloatVector.zero(F), acc21 = FloatVector.zero(F);
        FloatVector acc30 = FloatVector.zero(F), acc31 = FloatVector.zero(F);
        FloatVector f0, f1, x;
        FloatVector p00, p01, p10, p11, p20, p21, p30, p31;
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k0, LE).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k0, LE).convertShape(B2F, F, 0);
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
            f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k1, LE).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k1, LE).convertShape(B2F, F, 0);
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
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k2, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k2, LE).convertShape(B2F, F, 0);
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
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k3, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k3, LE).convertShape(B2F, F, 0);
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
            FloatVector sa = FloatVector.broadcast(F, f32(scales, sa0 + blk));
            FloatVector sb = FloatVector.broadcast(F, f32(scales, sb0 + blk));
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
            f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, kv, LE).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, kv, LE).convertShape(B2F, F, 0);
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
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k, LE).convertShape(B2F, F, 0);
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
            FloatVector sa = FloatVector.broadcast(F, f32(scales, sa0 + full));
            FloatVector sb = FloatVector.broadcast(F, f32(scales, sb0 + full));
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
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a0, q, scales, K, na, nb, kv + tail * LANES,
                    c, ci, bias, accumulate, two);
        }
        {
            FloatVector v = acc10.blend(acc11, UPPER).add(acc10.rearrange(HALVES).blend(acc11.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a1, q, scales, K, na, nb, kv + tail * LANES,
                    c, ci + ldc, bias, accumulate, two);
        }
        {
            FloatVector v = acc20.blend(acc21, UPPER).add(acc20.rearrange(HALVES).blend(acc21.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a2, q, scales, K, na, nb, kv + tail * LANES,
                    c, ci + 2 * ldc, bias, accumulate, two);
        }
        {
            FloatVector v = acc30.blend(acc31, UPPER).add(acc30.rearrange(HALVES).blend(acc31.rearrange(HALVES), UPPER));
            if (LANES == 16) {
                v = v.add(v.rearrange(X4));
            }
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            int8Finish2(v.lane(0), v.lane(LANES / 2), a, a3, q, scales, K, na, nb, kv + tail * LANES,
                    c, ci + 3 * ldc, bias, accumulate, two);
        }
    }

    /**
     * The scalar end shared by int8Rows2, int8Rows2x2 and int8Rows2x4, given a row of A's two lane
     * sums: the last weights of a short block (from kr), then the bias (floats only).
     */
    private static void int8Finish2(float r0, float r1, float[] a, int ai, MemorySegment q, MemorySegment scales, int K,
                                    int na, int nb, int kr, float[] c, int ci, float[] bias, boolean accumulate, boolean two) {
        if (kr < K) {
            int bpr = Int8Blocks.blocksPerRow(K);
            int full = K / Int8Blocks.BLOCK;
            r0 += int8Rest(a, ai, q, (long) na * K, kr, K) * f32(scales, (long) na * bpr + full);
            r1 += int8Rest(a, ai, q, (long) nb * K, kr, K) * f32(scales, (long) nb * bpr + full);
        }
        put(c, ci + na, bias != null ? r0 + bias[na] : r0, accumulate);
        if (two) {
            put(c, ci + nb, bias != null ? r1 + bias[nb] : r1, accumulate);
        }
    }

    /** VectorQuantised.int8Rows2x2: rows na, nb against rows ai, aj of A, each output as int8Rows2 computes it. */
    private static void int8Rows2x2(float[] a, int ai, int aj, MemorySegment q, MemorySegment scales, int K, int na, int nb,
                                    float[] c, int ci, int cj, float[] bias, boolean accumulate, boolean two) {
        int bpr = Int8Blocks.blocksPerRow(K);
        int full = K / Int8Blocks.BLOCK;
        // Each row as its own slice, as in int8Rows4.
        MemorySegment w0 = q.asSlice((long) na * K, K), w1 = q.asSlice((long) nb * K, K);
        long sa0 = (long) na * bpr, sb0 = (long) nb * bpr;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        FloatVector bcc0 = FloatVector.zero(F), bcc1 = FloatVector.zero(F);
        for (int blk = 0; blk < full; blk++) {
            int k0 = blk * Int8Blocks.BLOCK;
            int k1 = k0 + LANES;
            FloatVector x0 = FloatVector.fromArray(F, a, ai + k0), x1 = FloatVector.fromArray(F, a, ai + k1);
            FloatVector y0 = FloatVector.fromArray(F, a, aj + k0), y1 = FloatVector.fromArray(F, a, aj + k1);
            FloatVector f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k0, LE).convertShape(B2F, F, 0);
            FloatVector f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k0, LE).convertShape(B2F, F, 0);
            FloatVector p0 = f0.mul(x0), p1 = f1.mul(x0);
            FloatVector e0 = f0.mul(y0), e1 = f1.mul(y0);
            f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k1, LE).convertShape(B2F, F, 0);
            f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k1, LE).convertShape(B2F, F, 0);
            p0 = f0.fma(x1, p0);
            p1 = f1.fma(x1, p1);
            e0 = f0.fma(y1, e0);
            e1 = f1.fma(y1, e1);
            if (INT8_FOUR_STEPS) { // a constant: compiled as straight-line code or not at all
                int k2 = k1 + LANES, k3 = k2 + LANES;
                FloatVector x2 = FloatVector.fromArray(F, a, ai + k2), x3 = FloatVector.fromArray(F, a, ai + k3);
                FloatVector y2 = FloatVector.fromArray(F, a, aj + k2), y3 = FloatVector.fromArray(F, a, aj + k3);
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k2, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k2, LE).convertShape(B2F, F, 0);
                p0 = f0.fma(x2, p0);
                p1 = f1.fma(x2, p1);
                e0 = f0.fma(y2, e0);
                e1 = f1.fma(y2, e1);
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k3, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k3, LE).convertShape(B2F, F, 0);
                p0 = f0.fma(x3, p0);
                p1 = f1.fma(x3, p1);
                e0 = f0.fma(y3, e0);
                e1 = f1.fma(y3, e1);
            }
            FloatVector sa = FloatVector.broadcast(F, f32(scales, sa0 + blk));
            FloatVector sb = FloatVector.broadcast(F, f32(scales, sb0 + blk));
            acc0 = p0.fma(sa, acc0);
            acc1 = p1.fma(sb, acc1);
            bcc0 = e0.fma(sa, bcc0);
            bcc1 = e1.fma(sb, bcc1);
        }
        int kv = full * Int8Blocks.BLOCK;
        int tail = (K - kv) / LANES;
        if (tail > 0) {
            FloatVector x = FloatVector.fromArray(F, a, ai + kv), y = FloatVector.fromArray(F, a, aj + kv);
            FloatVector f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, kv, LE).convertShape(B2F, F, 0);
            FloatVector f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, kv, LE).convertShape(B2F, F, 0);
            FloatVector p0 = f0.mul(x), p1 = f1.mul(x);
            FloatVector e0 = f0.mul(y), e1 = f1.mul(y);
            for (int t = 1; t < tail; t++) {
                int k = kv + t * LANES;
                x = FloatVector.fromArray(F, a, ai + k);
                y = FloatVector.fromArray(F, a, aj + k);
                f0 = (FloatVector) ByteVector.fromMemorySegment(BL, w0, k, LE).convertShape(B2F, F, 0);
                f1 = (FloatVector) ByteVector.fromMemorySegment(BL, w1, k, LE).convertShape(B2F, F, 0);
                p0 = f0.fma(x, p0);
                p1 = f1.fma(x, p1);
                e0 = f0.fma(y, e0);
                e1 = f1.fma(y, e1);
            }
            FloatVector sa = FloatVector.broadcast(F, f32(scales, sa0 + full));
            FloatVector sb = FloatVector.broadcast(F, f32(scales, sb0 + full));
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
        int8Finish2(v.lane(0), v.lane(LANES / 2), a, ai, q, scales, K, na, nb, kr, c, ci, bias, accumulate, two);
        int8Finish2(w.lane(0), w.lane(LANES / 2), a, aj, q, scales, K, na, nb, kr, c, cj, bias, accumulate, two);
    }

    // ---------------------------------------------------------------- panels (many rows) and rows

    /*
     * The panel sources are PanelSource.f32 / bf16 / int8 reading a segment: the same values in both
     * forms (transposed one weight at a time; rows widened with SIMD, as VectorQuantised.bf16Widen
     * and int8Widen widen arrays), so the shared panel product gives the same bits as for heap
     * matrices.
     */

    /** {@link PanelSource#f32} over a segment: B [N, K] in f32, row n at element {@code n*ldb}. */
    static PanelSource f32Panels(MemorySegment b, int ldb) {
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    long src = (long) (n0 + j) * ldb + k0;
                    for (int k = 0; k < kl; k++) {
                        panel[k * ld + j] = f32(b, src + k);
                    }
                }
            }

            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                for (int j = 0; j < nl; j++) {
                    MemorySegment.copy(b, F32, 4L * ((long) (n0 + j) * ldb + k0), dst, off + j * ld, kl);
                }
            }
        };
    }

    /** {@link PanelSource#bf16} over a segment of bf16 bit patterns, row n at element {@code n*ldw}. */
    static PanelSource bf16Panels(MemorySegment w, int ldw) {
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    long src = (long) (n0 + j) * ldw + k0;
                    for (int k = 0; k < kl; k++) {
                        panel[k * ld + j] = bf16(w, src + k);
                    }
                }
            }

            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                for (int j = 0; j < nl; j++) {
                    long wi = 2L * ((long) (n0 + j) * ldw + k0);
                    int oi = off + j * ld;
                    int k = 0;
                    for (; k <= kl - LANES; k += LANES) {
                        ShortVector v = ShortVector.fromMemorySegment(SH, w, wi + 2L * k, LE);
                        IntVector x = (IntVector) v.convertShape(VectorOperators.S2I, I, 0);
                        x.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, oi + k);
                    }
                    for (; k < kl; k++) {
                        dst[oi + k] = Bf16.toFloat(w.get(S16, wi + 2L * k));
                    }
                }
            }
        };
    }

    /** {@link PanelSource#int8} over segments of int8 blocks and their f32 scales. */
    static PanelSource int8Panels(MemorySegment q, MemorySegment scales, int K) {
        int bpr = Int8Blocks.blocksPerRow(K);
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    int n = n0 + j;
                    long src = (long) n * K;
                    for (int k = k0; k < k0 + kl; k++) {
                        panel[(k - k0) * ld + j] = int8(q, src + k) * f32(scales, (long) n * bpr + k / Int8Blocks.BLOCK);
                    }
                }
            }

            /** As VectorQuantised.int8Widen: whole blocks a vector at a time, the rest one weight at a time. */
            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                int k1 = k0 + kl;
                int b0 = INT8_VECTORS ? (k0 + Int8Blocks.BLOCK - 1) / Int8Blocks.BLOCK : 0;
                int b1 = INT8_VECTORS ? k1 / Int8Blocks.BLOCK : 0;
                int head = Math.min(k1, b0 * Int8Blocks.BLOCK); // weights before the first whole block
                for (int j = 0; j < nl; j++) {
                    int n = n0 + j;
                    long qi = (long) n * K;
                    long si = (long) n * bpr;
                    int oi = off + j * ld - k0; // dst index of weight k is oi + k
                    for (int k = k0; k < head; k++) {
                        dst[oi + k] = int8(q, qi + k) * f32(scales, si + k / Int8Blocks.BLOCK);
                    }
                    for (int blk = b0; blk < b1; blk++) {
                        int k = blk * Int8Blocks.BLOCK;
                        float s = f32(scales, si + blk);
                        for (int v = 0; v < Int8Blocks.BLOCK; v += LANES) {
                            ((FloatVector) ByteVector.fromMemorySegment(BL, q, qi + k + v, LE).convertShape(B2F, F, 0))
                                    .mul(s).intoArray(dst, oi + k + v);
                        }
                    }
                    for (int k = Math.max(head, b1 * Int8Blocks.BLOCK); k < k1; k++) { // after the last whole block
                        dst[oi + k] = int8(q, qi + k) * f32(scales, si + k / Int8Blocks.BLOCK);
                    }
                }
            }
        };
    }

    /** Row {@code n} of an f32 matrix with {@code cols} columns into {@code dst[off .. off+cols)}. */
    static void f32Row(MemorySegment w, int cols, int n, float[] dst, int off) {
        MemorySegment.copy(w, F32, 4L * n * cols, dst, off, cols);
    }

    /** Row {@code n} of a bf16 matrix, widened. */
    static void bf16Row(MemorySegment w, int cols, int n, float[] dst, int off) {
        long i = (long) n * cols;
        for (int k = 0; k < cols; k++) {
            dst[off + k] = bf16(w, i + k);
        }
    }

    /** Row {@code n} of a block-int8 matrix, dequantised as PackedMatrix's int8 row is. */
    static void int8Row(MemorySegment q, MemorySegment scales, int cols, int n, float[] dst, int off) {
        int bpr = Int8Blocks.blocksPerRow(cols);
        long i = (long) n * cols;
        for (int k = 0; k < cols; k++) {
            dst[off + k] = int8(q, i + k) * f32(scales, (long) n * bpr + k / Int8Blocks.BLOCK);
        }
    }
}
