package org.jmamba.kernels;

import static org.jmamba.contract.Compare.abs;
import static org.jmamba.contract.Compare.errAgainst;
import static org.jmamba.kernels.KernelTestSupport.randn;
import static org.jmamba.kernels.KernelTestSupport.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Packed matrices against the f32 product of the weights they hold (their own rounding applied),
 * on both the fused few-row path and the widen-then-GEMM many-row path; and the rounding itself
 * against its bound.
 */
class PackedMatrixTest {
    private final long seed = System.nanoTime();
    private final Random r = new Random(seed);

    /** The weights a packed matrix actually holds, widened to f32. */
    private static float[] held(PackedMatrix p) {
        float[] w = new float[p.rows() * p.cols()];
        for (int n = 0; n < p.rows(); n++) {
            p.row(n, w, n * p.cols());
        }
        return w;
    }

    @Test
    void multiplyEqualsTheF32ProductOfTheHeldWeightsOnBothPaths() {
        for (WeightType type : WeightType.values()) {
            for (int trial = 0; trial < 12; trial++) {
                int rows = 1 + r.nextInt(70), cols = trial % 3 == 0 ? 64 : 1 + r.nextInt(150);
                int fused = PackedMatrix.fusedMaxRows(type); // fused up to here, the panel product above
                int M = trial % 2 == 0 ? 1 + r.nextInt(fused) : fused + 1 + r.nextInt(20);
                float[] w = randn(r, rows * cols, 0.3f);
                PackedMatrix p = PackedMatrix.pack(w, rows, cols, type);
                float[] ref = held(p);
                float[] in = randn(r, M * cols + 2, 1f);
                float[] bias = r.nextBoolean() ? randn(r, rows, 1f) : null;
                float[] got = new float[M * rows + 1];
                float[] want = new float[M * rows + 1];
                int n0 = rows > 3 ? 1 : 0;
                p.multiply(in, 2, cols, got, 1, rows, bias, 0, M, n0, rows, r.nextBoolean() ? null : new float[p.scratchFloats(M)]);
                ScalarKernels.gemmNT(in, 2, cols, ref, 0, cols, want, 1, rows, bias, false, 0, M, n0, rows, cols);
                // measured against Σ|terms| per output, not the output: one output can cancel to almost 0
                float[] mag = new float[M * rows + 1];
                ScalarKernels.gemmNT(abs(in), 2, cols, abs(ref), 0, cols, mag, 1, rows, abs(bias), false, 0, M, n0, rows, cols);
                double err = errAgainst(got, want, mag);
                assertTrue(err < 1e-5, type + " " + M + "x" + rows + "x" + cols + " seed " + seed + " err " + err);
            }
        }
    }

    @Test
    void roundingErrorIsWithinEachTypesBound() {
        int rows = 37, cols = 97;
        float[] w = randn(r, rows * cols, 1f);
        assertEquals(0.0, relErr(held(PackedMatrix.pack(w, rows, cols, WeightType.F32)), w));
        // bf16 keeps 8 significant bits: round-to-nearest is off by at most half a unit, 2^-8 relative.
        float[] b = held(PackedMatrix.pack(w, rows, cols, WeightType.BF16));
        for (int i = 0; i < w.length; i++) {
            assertTrue(Math.abs(b[i] - w[i]) <= Math.abs(w[i]) * 0x1p-8f, "bf16 weight " + i);
        }
        // int8: at most half a step (max|w| of the block / 127 / 2), plus float rounding.
        PackedMatrix q = PackedMatrix.pack(w, rows, cols, WeightType.INT8);
        float[] h = held(q);
        for (int n = 0; n < rows; n++) {
            for (int k0 = 0; k0 < cols; k0 += Int8Blocks.BLOCK) {
                float amax = 0;
                for (int k = k0; k < Math.min(cols, k0 + Int8Blocks.BLOCK); k++) {
                    amax = Math.max(amax, Math.abs(w[n * cols + k]));
                }
                for (int k = k0; k < Math.min(cols, k0 + Int8Blocks.BLOCK); k++) {
                    float err = Math.abs(h[n * cols + k] - w[n * cols + k]);
                    assertTrue(err <= amax / 127f * 0.5f * 1.0001f + 1e-7f, "int8 weight " + n + "," + k);
                }
            }
        }
        assertEquals(rows * cols + 4L * rows * Int8Blocks.blocksPerRow(cols), q.bytes());
    }

    @Test
    void updateReReadsTheMaster() {
        float[] w = randn(r, 12 * 40, 1f);
        PackedMatrix q = PackedMatrix.pack(w, 12, 40, WeightType.INT8);
        for (int i = 0; i < w.length; i++) {
            w[i] = -w[i];
        }
        q.update(w);
        float[] h = held(q);
        assertTrue(relErr(h, w) < 0.02, "after update the int8 weights follow the master");
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> PackedMatrix.pack(new float[10], 3, 4, WeightType.F32));
        assertThrows(IllegalArgumentException.class, () -> WeightType.parse("fp8"));
        assertEquals(WeightType.BF16, WeightType.parse("BF16"));
        PackedMatrix p = PackedMatrix.pack(new float[12], 3, 4, WeightType.BF16);
        assertThrows(IndexOutOfBoundsException.class,
                () -> p.multiply(new float[4], 0, 4, new float[4], 0, 4, null, 0, 1, 0, 4, null));
    }
}
