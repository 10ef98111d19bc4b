package org.jmamba.kernels;

import java.lang.foreign.MemorySegment;

/**
 * A packed matrix whose weights are in a {@link MemorySegment} (little-endian) owned by a
 * {@link SegmentStore}: native memory it allocated, or a read-only mapping of a checkpoint file.
 * The three storage types hold exactly what the heap kinds of {@link PackedMatrix} hold, in the same
 * layout, and compute the same bits ({@link SegmentKernels}).
 *
 * <p>Read-only: {@link #update} throws. Once the store is closed the memory is gone; every call
 * checks that first and throws {@link IllegalStateException} (the segment access itself would throw
 * too, with a less helpful message).
 */
abstract sealed class SegmentMatrix extends PackedMatrix
        permits SegmentMatrix.F32, SegmentMatrix.Bf16Matrix, SegmentMatrix.Int8Matrix {
    /** The weights: f32 values, bf16 bit patterns, or int8 values, row-major [rows, cols]. */
    final MemorySegment w;
    final PanelSource panels;

    SegmentMatrix(MemorySegment w, int rows, int cols, PanelSource panels) {
        super(rows, cols);
        this.w = w;
        this.panels = panels;
    }

    @Override
    public void update(float[] master) {
        throw new UnsupportedOperationException("this " + type().label() + " matrix lives off the Java heap "
                + "(memory-mapped or native memory of an inference-only model) and is read-only; "
                + "load the model with WeightMemory.HEAP, or use CpuMamba.create, to train it");
    }

    /** Throws when the store that owns the memory is closed. */
    final void checkAlive() {
        if (!w.scope().isAlive()) {
            throw new IllegalStateException("the weights of this " + rows + " x " + cols + " " + type().label()
                    + " matrix were freed: the model that held them is closed");
        }
    }

    @Override
    public final void multiply(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                               int m0, int m1, int n0, int n1, float[] scratch) {
        checkRange(m0, m1, n0, n1);
        checkAlive();
        if (m1 - m0 <= fusedMaxRows(type())) {
            fused(in, inOff, lda, out, outOff, ldc, bias, m0, m1, n0, n1);
        } else {
            Kernels.gemmNT(in, inOff, lda, panels, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols, scratch);
        }
    }

    /** The few-row product: the streaming kernel of the storage type. */
    abstract void fused(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                        int m0, int m1, int n0, int n1);

    @Override
    public final void row(int n, float[] dst, int off) {
        if (n < 0 || n >= rows) {
            throw new IndexOutOfBoundsException("row " + n + " of a " + rows + "-row matrix");
        }
        checkAlive();
        widenRow(n, dst, off);
    }

    abstract void widenRow(int n, float[] dst, int off);

    /** f32 weights. */
    static final class F32 extends SegmentMatrix {
        F32(MemorySegment w, int rows, int cols) {
            super(w, rows, cols, SegmentKernels.f32Panels(w, cols));
        }

        @Override
        public WeightType type() {
            return WeightType.F32;
        }

        @Override
        public long bytes() {
            return 4L * rows * cols;
        }

        @Override
        void fused(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                   int m0, int m1, int n0, int n1) {
            SegmentKernels.gemmNT(in, inOff, lda, w, cols, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
        }

        @Override
        void widenRow(int n, float[] dst, int off) {
            SegmentKernels.f32Row(w, cols, n, dst, off);
        }
    }

    /** bf16 weights (bit patterns). */
    static final class Bf16Matrix extends SegmentMatrix {
        Bf16Matrix(MemorySegment w, int rows, int cols) {
            super(w, rows, cols, SegmentKernels.bf16Panels(w, cols));
        }

        @Override
        public WeightType type() {
            return WeightType.BF16;
        }

        @Override
        public long bytes() {
            return 2L * rows * cols;
        }

        @Override
        void fused(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                   int m0, int m1, int n0, int n1) {
            SegmentKernels.bf16NT(in, inOff, lda, w, cols, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
        }

        @Override
        void widenRow(int n, float[] dst, int off) {
            SegmentKernels.bf16Row(w, cols, n, dst, off);
        }
    }

    /** Block-int8 weights ({@link Int8Blocks}), with their f32 scales in a second segment of the same store. */
    static final class Int8Matrix extends SegmentMatrix {
        private final MemorySegment scales;

        Int8Matrix(MemorySegment q, MemorySegment scales, int rows, int cols) {
            super(q, rows, cols, SegmentKernels.int8Panels(q, scales, cols));
            this.scales = scales;
        }

        @Override
        public WeightType type() {
            return WeightType.INT8;
        }

        @Override
        public long bytes() {
            return (long) rows * cols + 4L * rows * Int8Blocks.blocksPerRow(cols);
        }

        @Override
        void fused(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                   int m0, int m1, int n0, int n1) {
            SegmentKernels.int8NT(in, inOff, lda, w, scales, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
        }

        @Override
        void widenRow(int n, float[] dst, int off) {
            SegmentKernels.int8Row(w, scales, cols, n, dst, off);
        }
    }
}
