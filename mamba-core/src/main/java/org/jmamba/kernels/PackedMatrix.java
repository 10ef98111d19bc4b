package org.jmamba.kernels;

import java.util.Objects;

/**
 * A weight matrix W [rows, cols] (PyTorch's [out, in]) in one of the {@link WeightType storage
 * types}, and the product every linear layer needs:
 * {@code out[m, n] = Σ_k in[m, k]·W[n, k] + bias[n]}.
 *
 * <p>Weights live in one large primitive array per matrix (never boxed, never copied per call); a
 * large array is allocated straight into the old generation and never moved, and an array of
 * primitives has no references for the collector to trace, so a multi-GB model costs the GC
 * nothing but its footprint.
 *
 * <p>Products over a few rows (decode) stream the stored weights once through fused
 * widen-and-multiply kernels: this is the memory-bound case, where fewer bytes per weight mean
 * more tokens per second. Products over many rows (prefill, a batch at decode) widen W a panel at a
 * time straight into the transposed layout of the blocked f32 kernel ({@link PanelSource}),
 * amortising the widening over all rows.
 *
 * <p>The heap kinds are nested here. A model loaded from a checkpoint may instead hold its matrices
 * off the heap ({@link OffHeapMatrices}: the same three storage types in a
 * {@code java.lang.foreign.MemorySegment}, allocated or mapped from the file), implemented in the
 * Java 22 layer of this package; that is why the class is not sealed. The constructor stays
 * package-private: only this package defines kinds of matrices.
 */
public abstract class PackedMatrix {
    /** Up to this many rows of input the fused (streaming) kernels are used, above it the panel kernel. */
    static int fusedMaxRows(WeightType type) {
        return type == WeightType.INT8 ? Kernels.INT8_FEW_ROWS : Kernels.FEW_ROWS;
    }

    final int rows;
    final int cols;

    PackedMatrix(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative matrix size " + rows + " x " + cols);
        }
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * Packs {@code w} [rows, cols] as {@code type}. F32 wraps the array itself (later changes to
     * it are seen at once); the others copy and round it ({@link #update} re-reads it).
     */
    public static PackedMatrix pack(float[] w, int rows, int cols, WeightType type) {
        Objects.requireNonNull(w, "w");
        Objects.requireNonNull(type, "type");
        if ((long) rows * cols != w.length) {
            throw new IllegalArgumentException("matrix " + rows + " x " + cols + " needs " + (long) rows * cols
                    + " values, the array has " + w.length);
        }
        return switch (type) {
            case F32 -> new F32(w, rows, cols);
            case BF16 -> new Bf16Matrix(w, rows, cols);
            case INT8 -> new Int8Matrix(w, rows, cols);
        };
    }

    /**
     * Whether a model whose large matrices live off the heap should keep this one on the heap
     * instead: int8 rows of one block or one and a half (the dt_proj of models with d_model 512 or
     * 768). The array kernel takes such rows sixteen at a time; off the heap every segment load of
     * a row this short pays its own checks, and the same product took 3× as long (1536 × 48, one
     * thread, in cache: 12.3–13.4 µs against 3.7–4.1; docs/cpu-kernels.md). Such a matrix is small:
     * 86 KB per layer of the 130m shape.
     */
    public static boolean fasterOnHeap(WeightType type, int cols) {
        return type == WeightType.INT8 && Kernels.simd() && VectorQuantised.sixteenRows(null, false, cols);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public abstract WeightType type();

    /** Bytes one full pass over the matrix reads (weights and scales): the decode traffic. */
    public abstract long bytes();

    /**
     * Re-reads the f32 master (after an optimiser step); {@code w} must have the original size.
     * Off-heap matrices ({@link OffHeapMatrices}) are read-only and throw
     * {@link UnsupportedOperationException}.
     */
    public abstract void update(float[] w);

    /**
     * {@code out[outOff + m*ldc + n] = Σ_k in[inOff + m*lda + k]·W[n,k] (+ bias[n])} for m in
     * [m0, m1) and n in [n0, n1). Splitting n over threads is the natural parallelisation.
     *
     * @param bias    [rows] or null
     * @param scratch room for {@link #scratchFloats(int)} floats, or null to allocate when needed
     */
    public abstract void multiply(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                                  int m0, int m1, int n0, int n1, float[] scratch);

    /** Floats of scratch {@link #multiply} can use for {@code m} input rows (0 if none). */
    public int scratchFloats(int m) {
        return m <= fusedMaxRows(type()) ? 0 : Kernels.PANEL_SCRATCH_FLOATS;
    }

    /** Row n widened to f32 into {@code dst[off .. off+cols)}. */
    public abstract void row(int n, float[] dst, int off);

    /** The f32 array an {@link WeightType#F32} matrix wraps (row-major), null for the other types. */
    public float[] f32Array() {
        return null;
    }

    void checkRange(int m0, int m1, int n0, int n1) {
        if (n0 < 0 || n1 > rows || n0 > n1 || m0 < 0 || m0 > m1) {
            throw new IndexOutOfBoundsException("rows [" + n0 + ", " + n1 + ") of a " + rows + "-row matrix, inputs ["
                    + m0 + ", " + m1 + ")");
        }
    }


    /** The f32 matrix: the master array itself. */
    static final class F32 extends PackedMatrix {
        private final float[] w;
        private final PanelSource panels;

        F32(float[] w, int rows, int cols) {
            super(rows, cols);
            this.w = w;
            this.panels = PanelSource.f32(w, 0, cols);
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
        public void update(float[] master) {
            if (master != w) {
                throw new IllegalArgumentException("an f32 matrix wraps its master array; got another array");
            }
        }

        @Override
        public void multiply(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                             int m0, int m1, int n0, int n1, float[] scratch) {
            checkRange(m0, m1, n0, n1);
            if (m1 - m0 <= fusedMaxRows(type())) {
                Kernels.gemmNT(in, inOff, lda, w, 0, cols, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
            } else {
                Kernels.gemmNT(in, inOff, lda, panels, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols, scratch);
            }
        }

        @Override
        public void row(int n, float[] dst, int off) {
            System.arraycopy(w, n * cols, dst, off, cols);
        }

        @Override
        public float[] f32Array() {
            return w;
        }
    }

    /** bfloat16 storage: half the bytes of f32, exact widening. */
    static final class Bf16Matrix extends PackedMatrix {
        private final short[] w;
        private final PanelSource panels;

        Bf16Matrix(float[] master, int rows, int cols) {
            super(rows, cols);
            this.w = new short[rows * cols];
            this.panels = PanelSource.bf16(w, cols);
            update(master);
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
        public void update(float[] master) {
            if (master.length != w.length) {
                throw new IllegalArgumentException("expected " + w.length + " weights, got " + master.length);
            }
            Kernels.toBf16(master, 0, w, 0, w.length);
        }


        @Override
        public void multiply(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                             int m0, int m1, int n0, int n1, float[] scratch) {
            checkRange(m0, m1, n0, n1);
            if (m1 - m0 <= fusedMaxRows(type())) {
                Kernels.bf16NT(in, inOff, lda, w, cols, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
            } else {
                Kernels.gemmNT(in, inOff, lda, panels, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols, scratch);
            }
        }

        @Override
        public void row(int n, float[] dst, int off) {
            for (int k = 0; k < cols; k++) {
                dst[off + k] = Bf16.toFloat(w[n * cols + k]);
            }
        }
    }

    /** Block-int8 storage ({@link Int8Blocks}): about 1.125 bytes per weight. */
    static final class Int8Matrix extends PackedMatrix {
        private final byte[] q;
        private final float[] scales;
        private final PanelSource panels;

        Int8Matrix(float[] master, int rows, int cols) {
            super(rows, cols);
            this.q = new byte[rows * cols];
            this.scales = new float[rows * Int8Blocks.blocksPerRow(cols)];
            this.panels = PanelSource.int8(q, scales, cols);
            update(master);
        }

        @Override
        public WeightType type() {
            return WeightType.INT8;
        }

        @Override
        public long bytes() {
            return q.length + 4L * scales.length;
        }

        @Override
        public void update(float[] master) {
            if (master.length != q.length) {
                throw new IllegalArgumentException("expected " + q.length + " weights, got " + master.length);
            }
            Kernels.quantizeInt8(master, 0, rows, cols, q, scales);
        }


        @Override
        public void multiply(float[] in, int inOff, int lda, float[] out, int outOff, int ldc, float[] bias,
                             int m0, int m1, int n0, int n1, float[] scratch) {
            checkRange(m0, m1, n0, n1);
            if (m1 - m0 <= fusedMaxRows(type())) {
                Kernels.int8NT(in, inOff, lda, q, scales, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols);
            } else {
                Kernels.gemmNT(in, inOff, lda, panels, out, outOff, ldc, bias, false, m0, m1, n0, n1, cols, scratch);
            }
        }

        @Override
        public void row(int n, float[] dst, int off) {
            int bpr = Int8Blocks.blocksPerRow(cols);
            for (int k = 0; k < cols; k++) {
                dst[off + k] = q[n * cols + k] * scales[n * bpr + k / Int8Blocks.BLOCK];
            }
        }
    }
}
