package org.jmamba.kernels;

/**
 * {@link VectorMath} one lane at a time: the same operations in the same order, so the result is
 * bit for bit the lane's. The SIMD kernels finish a range that is not a whole number of vectors
 * with these, which keeps every element's value independent of where a range was split.
 */
final class ScalarMath {
    private ScalarMath() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    static float exp(float x) {
        float xc = Math.min(Math.max(x, VectorMath.EXP_LO), VectorMath.EXP_HI);
        float t = Math.fma(xc, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        int ni = Float.floatToRawIntBits(t) - ROUND_BITS;
        float e = Float.intBitsToFloat(Float.floatToRawIntBits(p) + (ni << 23));
        if (x < VectorMath.EXP_LO) {
            e = 0f;
        }
        if (x > VectorMath.EXP_HI) {
            e = Float.POSITIVE_INFINITY;
        }
        return e;
    }

    private static float log1pUnit(float y) {
        float s = y / (y + 2f);
        float z = s * s;
        float q = Math.fma(z, 1f / 15, 1f / 13);
        q = Math.fma(q, z, 1f / 11);
        q = Math.fma(q, z, 1f / 9);
        q = Math.fma(q, z, 1f / 7);
        q = Math.fma(q, z, 1f / 5);
        q = Math.fma(q, z, 1f / 3);
        q = Math.fma(q, z, 1f);
        return (s + s) * q;
    }

    static float softplus(float x) {
        float sp = Math.max(x, 0f) + log1pUnit(exp(-Math.abs(x)));
        return x > 20f ? x : sp;
    }

    static float silu(float x) {
        return x / (exp(-x) + 1f);
    }
}
