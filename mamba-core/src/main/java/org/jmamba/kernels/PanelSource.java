package org.jmamba.kernels;

/**
 * A matrix B [N, K] (row n holds the K weights of output n) that can write any block of itself,
 * widened to f32, in the two forms the many-row product
 * ({@link Kernels#gemmNT(float[], int, int, PanelSource, float[], int, int, float[], boolean, int, int, int, int, int, float[])})
 * uses: transposed into a panel (the scalar product packs this way), or row by row (the SIMD product
 * widens rows with SIMD, then transposes them itself: {@code VectorGemm.packPanel}). Each storage
 * type (f32, bf16, block-int8) widens its own way; both forms hold the same values, and the product
 * itself is the same.
 */
public interface PanelSource {
    /** {@code panel[k*ld + j] = B[n0 + j, k0 + k]} for j < nl, k < kl (f32). Columns nl..ld-1 need not be written. */
    void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld);

    /** {@code dst[off + j*ld + k] = B[n0 + j, k0 + k]} for j < nl, k < kl (f32): the same values, not transposed. */
    void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld);

    /** B [N, K] stored as f32, row n at {@code b[bOff + n*ldb]}. */
    static PanelSource f32(float[] b, int bOff, int ldb) {
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    int src = bOff + (n0 + j) * ldb + k0;
                    for (int k = 0; k < kl; k++) {
                        panel[k * ld + j] = b[src + k];
                    }
                }
            }

            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                for (int j = 0; j < nl; j++) {
                    System.arraycopy(b, bOff + (n0 + j) * ldb + k0, dst, off + j * ld, kl);
                }
            }
        };
    }

    /** B [N, K] stored as bf16 bit patterns, row n at {@code w[n*ldw]}. */
    static PanelSource bf16(short[] w, int ldw) {
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    int src = (n0 + j) * ldw + k0;
                    for (int k = 0; k < kl; k++) {
                        panel[k * ld + j] = Bf16.toFloat(w[src + k]);
                    }
                }
            }

            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                Kernels.bf16Widen(w, ldw, n0, nl, k0, kl, dst, off, ld);
            }
        };
    }

    /** B [N, K] in blocks of int8 with one scale per {@link Int8Blocks#BLOCK} weights ({@link Int8Blocks}). */
    static PanelSource int8(byte[] q, float[] scales, int K) {
        int bpr = Int8Blocks.blocksPerRow(K);
        return new PanelSource() {
            @Override
            public void packTransposed(int n0, int nl, int k0, int kl, float[] panel, int ld) {
                for (int j = 0; j < nl; j++) {
                    int n = n0 + j;
                    int src = n * K;
                    for (int k = k0; k < k0 + kl; k++) {
                        panel[(k - k0) * ld + j] = q[src + k] * scales[n * bpr + k / Int8Blocks.BLOCK];
                    }
                }
            }

            @Override
            public void widenRows(int n0, int nl, int k0, int kl, float[] dst, int off, int ld) {
                Kernels.int8Widen(q, scales, K, n0, nl, k0, kl, dst, off, ld);
            }
        };
    }
}
