package org.jmamba.io;

import java.math.BigDecimal;

/**
 * Scalar twins of the narrowing conversions, written differently from {@link HalfFloats}: they
 * decode the candidate values with the exponent/mantissa formula and pick the nearest by exact
 * decimal arithmetic, ties to the even mantissa.
 */
public final class Bf16Twin {
    private Bf16Twin() {
    }

    /** Value of bf16 bits by the formula (sign, 8-bit exponent with bias 127, 7-bit mantissa). */
    public static double bf16Value(int bits) {
        int sign = (bits >> 15) & 1;
        int exp = (bits >> 7) & 0xff;
        int man = bits & 0x7f;
        double v;
        if (exp == 0xff) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exp == 0) {
            v = Math.scalb((double) man, -126 - 7);
        } else {
            v = Math.scalb((double) (128 + man), exp - 127 - 7);
        }
        return sign == 1 ? -v : v;
    }

    /** Value of IEEE half bits by the formula (5-bit exponent with bias 15, 10-bit mantissa). */
    public static double f16Value(int bits) {
        int sign = (bits >> 15) & 1;
        int exp = (bits >> 10) & 0x1f;
        int man = bits & 0x3ff;
        double v;
        if (exp == 0x1f) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exp == 0) {
            v = Math.scalb((double) man, -14 - 10);
        } else {
            v = Math.scalb((double) (1024 + man), exp - 15 - 10);
        }
        return sign == 1 ? -v : v;
    }

    /** Round-to-nearest-even of {@code x} to bf16, by search over the two neighbouring encodings. */
    public static int roundToBf16(double x) {
        return roundTo(x, 0x7f80, true);
    }

    /** Round-to-nearest-even of {@code x} to IEEE half. */
    public static int roundToF16(double x) {
        return roundTo(x, 0x7c00, false);
    }

    /**
     * Non-negative encodings are ordered like their values, so the answer is found by binary
     * search for the largest finite encoding {@code <= |x|} and comparing it with the next one.
     * Beyond the largest finite value, IEEE rounds to infinity once |x| reaches
     * max + half an ulp (the value the next encoding would have with an unbounded exponent).
     */
    private static int roundTo(double x, int infBits, boolean bf16) {
        if (Double.isNaN(x)) {
            throw new IllegalArgumentException("NaN");
        }
        int sign = (Double.doubleToRawLongBits(x) < 0) ? 0x8000 : 0;
        double a = Math.abs(x);
        int lo = 0;
        int hi = infBits - 1; // largest finite
        if (value(hi, bf16) <= a) {
            lo = hi;
        } else {
            while (hi - lo > 1) {
                int mid = (lo + hi) >>> 1;
                if (value(mid, bf16) <= a) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        int below = lo;
        int above = below + 1;
        double vb = value(below, bf16);
        if (vb == a) {
            return sign | below;
        }
        // value of the encoding above; for the largest finite, the unbounded next value
        BigDecimal va = above == infBits
                ? new BigDecimal(vb).add(new BigDecimal(vb).subtract(new BigDecimal(value(below - 1, bf16))))
                : new BigDecimal(value(above, bf16));
        BigDecimal dx = new BigDecimal(a);
        int cmp = dx.subtract(new BigDecimal(vb)).compareTo(va.subtract(dx));
        int pick = cmp < 0 ? below : cmp > 0 ? above : ((below & 1) == 0 ? below : above);
        return sign | pick;
    }

    private static double value(int bits, boolean bf16) {
        return bf16 ? bf16Value(bits) : f16Value(bits);
    }
}
