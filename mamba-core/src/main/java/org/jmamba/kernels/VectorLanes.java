package org.jmamba.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the SIMD kernels share: the species {@link #F} (the machine's preferred width, never a fixed
 * one) and {@link #LANES}, the fixed lane-sum tree ({@link #sum}, and the shuffles and masks with
 * which the kernels write it out), and the few helpers that more than one kernel class calls.
 *
 * <p>The kernels, written with {@code jdk.incubator.vector}, are {@link VectorGemm} (dot and the
 * f32 products), {@link VectorQuantised} (bf16 and int8 weights at decode), {@link VectorRowOps},
 * {@link VectorScan} and {@link VectorConv}. Each has the same signatures and results (up to
 * rounding) as its twin in {@link ScalarKernels}, whose javadoc defines each operation; their
 * files only explain how each is made fast. The off-heap kernels ({@code SegmentKernels}, Java 22+)
 * import these constants too.
 *
 * <p>These classes are loaded only when {@link VectorSupport#enabled()}: nothing outside this
 * package names them except through {@link Kernels}.
 */
final class VectorLanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();

    private VectorLanes() {
    }

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
    static final float[] ZERO = new float[Math.max(64, LANES)];

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

    static void put(float[] c, int ci, float v, boolean accumulate) {
        c[ci] = accumulate ? c[ci] + v : v;
    }

    /** The lanes of the upper half: the pair lane sum takes one row's accumulator from each half. */
    static final VectorMask<Float> UPPER = VectorMask.fromLong(F, ((1L << LANES) - 1) & (-1L << (LANES / 2)));
    /** Swaps the two halves of a vector (lane i with lane i ^ LANES/2): the first level of {@link #sum}. */
    static final VectorShuffle<Float> HALVES = VectorShuffle.fromOp(F, i -> i ^ (LANES / 2));

    static FloatVector silu(FloatVector v) {
        return VectorMath.silu(v);
    }

    /** rows x LANES copy of a[i0 + r*stride + j] for j < valid, zero-padded. */
    static float[] stage(float[] a, int i0, int stride, int rows, int valid) {
        float[] s = new float[rows * LANES];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, i0 + r * stride, s, r * LANES, valid);
        }
        return s;
    }

    static void unstage(float[] s, float[] a, int i0, int stride, int rows, int valid) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s, r * LANES, a, i0 + r * stride, valid);
        }
    }
}
