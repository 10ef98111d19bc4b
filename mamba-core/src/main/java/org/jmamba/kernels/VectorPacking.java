package org.jmamba.kernels;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.F2B;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2S;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MAX;
import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.LANES;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;

/**
 * The SIMD forms of what loading a bf16 or int8 model does to each large matrix: rounding f32 to
 * bf16 ({@link Bf16#fromFloats}) and quantising to int8 blocks ({@link Int8Blocks#quantize}). Those
 * scalar methods define the results; these give the same bits, element for element
 * (VectorKernelsTest), and are what {@link Kernels} runs when the Vector API is there. Loading the
 * 130m shape as int8 spent about 1 s of CPU in the scalar quantiser, 8 ns a weight, against
 * 0.6 ns here (docs/benchmarks.md, "Loading and memory").
 */
final class VectorPacking {
    /**
     * 1.5 · 2^23: for |x| below 2^22, {@code (x + RINT) - RINT} is x rounded to an integer, ties to
     * even (the sum's spacing is 1, and RINT is even).
     */
    private static final float RINT = 12582912f;

    private VectorPacking() {
    }

    /** Whether these kernels serve this vector width: int8's block is a whole number of vectors, of 8 or 16 lanes. */
    static final boolean SUPPORTED = VectorQuantised.INT8_VECTORS;

    /** {@link Bf16#fromFloats}: round to nearest even on the bits, NaN kept quiet with its sign. */
    static void toBf16(float[] in, int inOff, short[] out, int outOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += LANES) {
            IntVector x = FloatVector.fromArray(F, in, inOff + i).reinterpretAsInts();
            IntVector high = x.lanewise(LSHR, 16);
            IntVector rounded = x.add(0x7fff).add(high.and(1)).lanewise(LSHR, 16);
            VectorMask<Integer> nan = x.and(0x7fffffff).compare(GT, 0x7f800000);
            IntVector bits = rounded.blend(high.or(0x0040), nan);
            ((ShortVector) bits.convertShape(I2S, VectorQuantised.SH, 0)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = Bf16.fromFloat(in[inOff + i]);
        }
    }

    /**
     * {@link Int8Blocks#quantize(float[], int, int, int, byte[], float[])}: whole blocks a vector at
     * a time, a short last block by {@link Int8Blocks#quantizeBlock}. The block's max|w| is the
     * same whatever the order it is taken in, and every weight's value is Math.round's: rint (the
     * sum with {@link #RINT}, exact here since |w / s| ≤ 127 or is infinite or NaN), plus 1 where
     * that rounded a tie down.
     */
    static void quantizeInt8(float[] w, int r0, int rows, int k, byte[] q, float[] scales) {
        final int block = Int8Blocks.BLOCK;
        int bpr = Int8Blocks.blocksPerRow(k);
        int full = k / block;
        for (int r = 0; r < rows; r++) {
            int wr = (r0 + r) * k;
            int qr = r * k;
            for (int b = 0; b < full; b++) {
                int wi = wr + b * block;
                FloatVector amax = FloatVector.fromArray(F, w, wi).abs();
                for (int j = LANES; j < block; j += LANES) {
                    amax = amax.max(FloatVector.fromArray(F, w, wi + j).abs());
                }
                float s = amax.reduceLanes(MAX) / 127f; // NaN stays NaN, as Math.max keeps it
                float inv = s > 0f ? 1f / s : 0f;
                scales[r * bpr + b] = s;
                for (int j = 0; j < block; j += LANES) {
                    FloatVector x = FloatVector.fromArray(F, w, wi + j).mul(inv);
                    FloatVector n = x.add(RINT).sub(RINT);
                    n = n.add(1f, x.sub(n).compare(EQ, 0.5f));
                    // Clamped as floats (NaN stays NaN and converts to 0, as Math.round gives it).
                    ((ByteVector) n.max(-127f).min(127f).convertShape(F2B, VectorQuantised.BL, 0))
                            .intoArray(q, qr + b * block + j);
                }
            }
            if (full < bpr) {
                int k0 = full * block;
                scales[r * bpr + full] = Int8Blocks.quantizeBlock(w, wr + k0, k - k0, q, qr + k0);
            }
        }
    }
}
