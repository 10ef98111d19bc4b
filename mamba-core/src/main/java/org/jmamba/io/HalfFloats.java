package org.jmamba.io;

/**
 * Conversions between fp32 and the two 16-bit float formats, bit-exact with PyTorch.
 *
 * <p>bfloat16 is the top half of an fp32 (same exponent range, 8 significant bits); IEEE half has a
 * 5-bit exponent and 11 significant bits. Narrowing rounds to nearest, ties to even, so that a
 * float saved here reads back exactly as {@code tensor.to(torch.bfloat16)} would give it.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** Widening is exact: the bf16 bits are the high 16 bits of the fp32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * Round-to-nearest-even narrowing to bf16. Adding {@code 0x7fff + lsb} to the fp32 bits rounds the
     * dropped low half up exactly when it is above one half, or equal to one half with an odd
     * kept part; a carry out of the mantissa correctly bumps the exponent (overflowing to infinity).
     * NaN is kept a (quiet) NaN with its sign, which plain rounding could turn into infinity.
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }

    /** IEEE binary16 to fp32 (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** fp32 to IEEE binary16, round to nearest even (values beyond the range become infinities). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
