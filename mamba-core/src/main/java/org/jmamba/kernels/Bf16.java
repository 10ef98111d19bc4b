package org.jmamba.kernels;

/**
 * bfloat16: the upper 16 bits of an IEEE float32 (same exponent range, 8 bits of mantissa). Stored
 * as the raw bit pattern in a {@code short}; widening to f32 is exact (append 16 zero bits).
 */
public final class Bf16 {
    private Bf16() {
    }

    /** The float whose upper half is {@code bits}. Exact. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Rounds a float to the nearest bf16, ties to even (as PyTorch does); NaN stays NaN. */
    public static short fromFloat(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x0040); // quiet NaN, sign kept
        }
        int rounded = x + 0x7fff + ((x >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /**
     * Rounds {@code n} floats: out[outOff+i] = fromFloat(in[inOff+i]). The definition of
     * {@link Kernels#toBf16}, which gives the same bits with SIMD.
     */
    public static void fromFloats(float[] in, int inOff, short[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = fromFloat(in[inOff + i]);
        }
    }
}
