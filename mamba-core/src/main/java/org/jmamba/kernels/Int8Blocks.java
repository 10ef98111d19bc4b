package org.jmamba.kernels;

/**
 * Symmetric int8 quantisation in blocks of {@value #BLOCK} consecutive weights of a row (the layout
 * of GGML's Q8_0): each block has one f32 scale {@code s = max|w| / 127}, and its weights are
 * stored as {@code q = round(w / s)} in [-127, 127]. A row of K weights has
 * {@code ceil(K / BLOCK)} blocks; the last may be short. The error of each weight is at most
 * {@code s / 2}.
 *
 * <p>These methods define the results; {@link Kernels#quantizeInt8} gives the same bits with SIMD.
 */
public final class Int8Blocks {
    /** Weights per scale. */
    public static final int BLOCK = 32;

    private Int8Blocks() {
    }

    public static int blocksPerRow(int k) {
        return (k + BLOCK - 1) / BLOCK;
    }

    /**
     * Quantises a row-major [rows, k] matrix.
     *
     * @param q      receives rows*k int8 values
     * @param scales receives rows*blocksPerRow(k) scales
     */
    public static void quantize(float[] w, int rows, int k, byte[] q, float[] scales) {
        quantize(w, 0, rows, k, q, scales);
    }

    /**
     * Quantises rows {@code [r0, r0 + rows)} of a row-major matrix of row length {@code k}, held in
     * {@code w} from row 0, into {@code q} and {@code scales} from their index 0 (row {@code r0}
     * goes to row 0): the same values {@link #quantize(float[], int, int, byte[], float[])} gives
     * those rows, so a large matrix can be quantised a few rows at a time.
     */
    public static void quantize(float[] w, int r0, int rows, int k, byte[] q, float[] scales) {
        int bpr = blocksPerRow(k);
        for (int r = 0; r < rows; r++) {
            int wr = (r0 + r) * k;
            for (int b = 0; b < bpr; b++) {
                int k0 = b * BLOCK;
                int k1 = Math.min(k, k0 + BLOCK);
                scales[r * bpr + b] = quantizeBlock(w, wr + k0, k1 - k0, q, r * k + k0);
            }
        }
    }

    /**
     * One block: {@code len} weights from {@code w[wi]} into {@code q[qi]}; returns its scale. A
     * weight becomes {@code Math.round(w / s)}: the nearest integer, ties rounded up (towards
     * positive infinity), clamped to [-127, 127]; NaN becomes 0.
     */
    static float quantizeBlock(float[] w, int wi, int len, byte[] q, int qi) {
        float amax = 0f;
        for (int i = 0; i < len; i++) {
            amax = Math.max(amax, Math.abs(w[wi + i]));
        }
        float s = amax / 127f;
        float inv = s > 0f ? 1f / s : 0f;
        for (int i = 0; i < len; i++) {
            int v = Math.round(w[wi + i] * inv);
            q[qi + i] = (byte) Math.max(-127, Math.min(127, v));
        }
        return s;
    }
}
