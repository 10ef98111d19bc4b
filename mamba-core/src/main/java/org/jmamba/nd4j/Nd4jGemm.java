package org.jmamba.nd4j;

import java.nio.FloatBuffer;
import org.jmamba.kernels.GemmProvider;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The three matrix products of a linear layer computed by ND4J's BLAS (OpenBLAS in
 * {@code nd4j-native}) on Java arrays, with the layout conventions of
 * {@link org.jmamba.kernels.ScalarKernels} (row-major slices given by array, offset and leading
 * dimension), so that it can stand in for {@link org.jmamba.kernels.Kernels#gemmNT} and friends:
 * <pre>
 *   gemmNT:  C[m,n] (+)= Σ_k A[m,k]·B[n,k] + bias[n]    forward   y  = x·Wᵀ + b
 *   gemmNN:  C[m,n] (+)= Σ_k A[m,k]·B[k,n]              backward  dx = dy·W
 *   gemmTN:  C[m,n] (+)= Σ_k A[k,m]·B[k,n]              backward  dW += dyᵀ·x
 * </pre>
 *
 * <p>ND4J keeps its arrays off the Java heap, so a product copies its two operands in and its
 * result out (once each) through staging buffers that this object keeps and grows to the largest
 * product seen; the copies are linear in the matrix sizes while the product is cubic, which is why
 * this path is only worth it for large products ({@link #accepts}). Bias and accumulation are
 * applied on the Java side while the result is copied out, in the scalar twin's order
 * ({@code c + (dot + bias)}).
 *
 * <p>As a {@link GemmProvider} it plugs into the pure-Java model for its large products:
 * {@code CpuMamba.create(weights, new CpuOptions(2).withGemm(gemm))} (see docs/nd4j.md).
 *
 * <p>Thread-safe: the products run one at a time (each already uses all of ND4J's BLAS threads).
 * ND4J's thread counts are process-wide; {@link #create(int)} sets them.
 */
public final class Nd4jGemm implements GemmProvider, AutoCloseable {
    /**
     * Products with fewer multiply-adds ({@code M·N·K}) than this, about 67 million, are left to the
     * pure-Java kernels by {@link #accepts}: measured on a 2-core machine (docs/nd4j.md), ND4J with
     * its copies lost at 38 million (64×768×768 NN, 768×768×64 TN; the copies and ND4J's per-call
     * overhead outweigh BLAS) and won from 75 million (128×768×768) up.
     */
    public static final long DEFAULT_MIN_MULTIPLY_ADDS = 1L << 26;

    private final int threads;
    private final long minMultiplyAdds;
    private final Staging stageA = new Staging();
    private final Staging stageB = new Staging();
    private final Staging stageC = new Staging();
    private float[] row = new float[0];
    private boolean closed;

    private Nd4jGemm(int threads, long minMultiplyAdds) {
        this.threads = threads;
        this.minMultiplyAdds = minMultiplyAdds;
    }

    /** A GEMM on {@code threads} BLAS threads that takes products of at least {@link #DEFAULT_MIN_MULTIPLY_ADDS}. */
    public static Nd4jGemm create(int threads) {
        return create(threads, DEFAULT_MIN_MULTIPLY_ADDS);
    }

    /**
     * @param threads         ND4J's BLAS and OpenMP threads (process-wide settings of ND4J)
     * @param minMultiplyAdds smallest {@code M·N·K} that {@link #accepts} takes (0: every product)
     * @throws IllegalStateException when ND4J is not on the class path
     */
    public static Nd4jGemm create(int threads, long minMultiplyAdds) {
        Nd4jSupport.requireAvailable();
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (minMultiplyAdds < 0) {
            throw new IllegalArgumentException("minMultiplyAdds must not be negative, got " + minMultiplyAdds);
        }
        Nd4jThreads.set(threads);
        return new Nd4jGemm(threads, minMultiplyAdds);
    }

    public int threads() {
        return threads;
    }

    /** Whether a product of this size is large enough to be worth sending to ND4J. */
    @Override
    public boolean accepts(int m, int n, int k) {
        return (long) m * n * k >= minMultiplyAdds;
    }

    /** {@code out[M,N] = in[M,K]·W[N,K]ᵀ + bias}, all contiguous (bias may be null). */
    public void gemmNT(float[] in, float[] weight, float[] bias, float[] out, int M, int N, int K) {
        gemmNT(in, 0, K, weight, 0, K, out, 0, N, bias, false, M, N, K);
    }

    /**
     * {@code C[m,n] = (accumulate ? C[m,n] : 0) + Σ_k A[m,k]·B[n,k] + bias[n]} over the whole
     * {@code [M, N]}: see {@link org.jmamba.kernels.ScalarKernels#gemmNT}.
     */
    @Override
    public synchronized void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                    float[] c, int cOff, int ldc, float[] bias, boolean accumulate,
                                    int M, int N, int K) {
        checkDims(M, N, K);
        checkMatrix("A", a, aOff, lda, M, K);
        checkMatrix("B", b, bOff, ldb, N, K);
        checkMatrix("C", c, cOff, ldc, M, N);
        if (bias != null && bias.length < N) {
            throw new IllegalArgumentException("bias has " + bias.length + " elements, the product needs " + N);
        }
        multiply(a, aOff, lda, M, K, false, b, bOff, ldb, N, K, true, c, cOff, ldc, bias, accumulate, M, N);
    }

    /** {@code C[m,n] (+)= Σ_k A[m,k]·B[k,n]}: see {@link org.jmamba.kernels.ScalarKernels#gemmNN}. */
    @Override
    public synchronized void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                    float[] c, int cOff, int ldc, boolean accumulate, int M, int N, int K) {
        checkDims(M, N, K);
        checkMatrix("A", a, aOff, lda, M, K);
        checkMatrix("B", b, bOff, ldb, K, N);
        checkMatrix("C", c, cOff, ldc, M, N);
        multiply(a, aOff, lda, M, K, false, b, bOff, ldb, K, N, false, c, cOff, ldc, null, accumulate, M, N);
    }

    /** {@code C[m,n] (+)= Σ_k A[k,m]·B[k,n]}: see {@link org.jmamba.kernels.ScalarKernels#gemmTN}. */
    @Override
    public synchronized void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                    float[] c, int cOff, int ldc, boolean accumulate, int M, int N, int K) {
        checkDims(M, N, K);
        checkMatrix("A", a, aOff, lda, K, M);
        checkMatrix("B", b, bOff, ldb, K, N);
        checkMatrix("C", c, cOff, ldc, M, N);
        multiply(a, aOff, lda, K, M, true, b, bOff, ldb, K, N, false, c, cOff, ldc, null, accumulate, M, N);
    }

    /**
     * op(A)·op(B) with A stored [aRows, aCols] and B stored [bRows, bCols] (row-major slices),
     * into C[M, N]: stage both in, one BLAS call, copy out (adding bias / accumulating).
     */
    private void multiply(float[] a, int aOff, int lda, int aRows, int aCols, boolean transA,
                          float[] b, int bOff, int ldb, int bRows, int bCols, boolean transB,
                          float[] c, int cOff, int ldc, float[] bias, boolean accumulate, int M, int N) {
        if (closed) {
            throw new IllegalStateException("this Nd4jGemm is closed");
        }
        if (M == 0 || N == 0) {
            return;
        }
        int K = transA ? aRows : aCols;
        if (K == 0) {
            // An empty sum: ND4J rejects zero-size operands, and the answer is the bias.
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) {
                    float s = bias != null ? bias[n] : 0f;
                    int ci = cOff + m * ldc + n;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
            return;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray A = stageA.load(a, aOff, lda, aRows, aCols);
            INDArray B = stageB.load(b, bOff, ldb, bRows, bCols);
            INDArray C = stageC.matrix(M, N);
            Nd4j.gemm(A, B, C, transA, transB, 1.0, 0.0);
            store(stageC.floats, c, cOff, ldc, bias, accumulate, M, N);
        }
    }

    /** Copies the staged result [M, N] into c, adding bias and the old c as asked. */
    private void store(FloatBuffer result, float[] c, int cOff, int ldc, float[] bias, boolean accumulate, int M, int N) {
        if (!accumulate && bias == null) {
            for (int m = 0; m < M; m++) {
                result.get(m * N, c, cOff + m * ldc, N);
            }
            return;
        }
        if (row.length < N) {
            row = new float[N];
        }
        float[] r = row;
        for (int m = 0; m < M; m++) {
            result.get(m * N, r, 0, N);
            int ci = cOff + m * ldc;
            if (bias != null) {
                for (int n = 0; n < N; n++) {
                    r[n] += bias[n];
                }
            }
            if (accumulate) {
                for (int n = 0; n < N; n++) {
                    c[ci + n] += r[n];
                }
            } else {
                System.arraycopy(r, 0, c, ci, N);
            }
        }
    }

    /** Frees the staging buffers (ND4J's off-heap memory). Later products fail. */
    @Override
    public synchronized void close() {
        closed = true;
        stageA.free();
        stageB.free();
        stageC.free();
    }

    private static void checkDims(int M, int N, int K) {
        if (M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException("negative product size M=" + M + " N=" + N + " K=" + K);
        }
        if ((long) M * K > Integer.MAX_VALUE || (long) M * N > Integer.MAX_VALUE || (long) N * K > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("product too large for one staging buffer: M=" + M + " N=" + N + " K=" + K);
        }
    }

    /** Matrix [rows, cols] at {@code off} with row stride {@code ld} must lie inside {@code x}. */
    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (x == null) {
            throw new IllegalArgumentException("matrix " + name + " is null");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        if (off < 0 || ld < cols) {
            throw new IllegalArgumentException("matrix " + name + ": offset " + off + " and leading dimension " + ld
                    + " do not describe a [" + rows + ", " + cols + "] matrix");
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (end > x.length) {
            throw new IllegalArgumentException("matrix " + name + " [" + rows + ", " + cols + "] (offset " + off
                    + ", leading dimension " + ld + ") needs " + end + " elements, the array has " + x.length);
        }
    }

    /**
     * One off-heap float buffer, grown on demand, and row-major matrix views of its start. A view
     * over a larger buffer costs no copy: the INDArray is only a shape put on the memory.
     */
    private static final class Staging {
        private DataBuffer buffer;
        private FloatBuffer floats;
        private long capacity;
        /** The last view made, reused while the shape repeats (as it does layer after layer). */
        private INDArray last;
        private int lastRows;
        private int lastCols;

        /** A [rows, cols] c-order array over the first rows·cols floats. */
        INDArray matrix(int rows, int cols) {
            if (last != null && rows == lastRows && cols == lastCols) {
                return last;
            }
            long n = (long) rows * cols;
            if (n > capacity) {
                free();
                // Grow with some slack so that a sequence of slowly growing shapes does not
                // reallocate every time.
                long cap = Math.min(Integer.MAX_VALUE - 8L, Math.max(n, capacity + capacity / 4));
                buffer = Nd4j.createBuffer(DataType.FLOAT, cap, false);
                floats = buffer.asNioFloat();
                capacity = cap;
            }
            DataBuffer view = n == capacity ? buffer : Nd4j.createBuffer(buffer, 0, n);
            last = Nd4j.create(view, new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c');
            lastRows = rows;
            lastCols = cols;
            return last;
        }

        /** Copies x's [rows, cols] slice in, row by row. */
        INDArray load(float[] x, int off, int ld, int rows, int cols) {
            INDArray m = matrix(rows, cols);
            if (ld == cols) {
                floats.put(0, x, off, rows * cols);
            } else {
                for (int r = 0; r < rows; r++) {
                    floats.put(r * cols, x, off + r * ld, cols);
                }
            }
            return m;
        }

        void free() {
            if (buffer != null && buffer.closeable()) {
                buffer.close();
            }
            buffer = null;
            floats = null;
            capacity = 0;
            last = null;
        }
    }
}
