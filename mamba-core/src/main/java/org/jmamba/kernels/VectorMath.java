package org.jmamba.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, softplus and SiLU on vectors, built from additions, multiplications, fused multiply-adds and
 * bit operations only.
 *
 * <p>Why not {@code lanewise(EXP)}: the Vector API computes transcendental functions with a native
 * library once the JIT has compiled the caller, and with {@code Math} before that; the two differ in
 * the last bit. The model would then give different bits depending on how warm the JIT is (a
 * prompt run twice, or the same batch split between threads differently, would not agree
 * exactly). IEEE arithmetic is the same in every tier, so these functions are deterministic. Checked
 * against double-precision {@link Math} on every float of the useful range, the worst errors are
 * 1.01 ulps for exp, 2.41 for SiLU and 3.67 for softplus (at x = -2.02, where exp's own error
 * passes through the logarithm).
 */
final class VectorMath {
    private static final VectorSpecies<Float> F = VectorLanes.F;

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two so that n·LN2_HI is exact for |n| ≤ 128 (Cody and Waite). */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Adding 1.5·2^23 rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /**
     * Inputs below this give 0: exp(-86.5) ≈ 2.7e-38, the edge of the normal floats (this also keeps
     * 2^n normal). Above EXP_HI the result is +∞ (exp(88.3) ≈ 2.2e38; the largest float is 3.4e38).
     */
    static final float EXP_LO = -86.5f;
    static final float EXP_HI = 88.3f;

    // Minimax polynomial of (e^r - 1 - r) / r² on [-ln2/2, ln2/2] (Cephes expf).
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorMath() {
    }

    /** e^x for every lane: e^x = 2^n · e^r with n = round(x / ln2), |r| ≤ ln2 / 2. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
        // x.blend(EXP_HI, over) is x.min(EXP_HI) for every x, NaN included, in one instruction: the
        // JIT compiles min and max with Java's rules for NaN and signed zeros, six instructions each.
        return expAtMostHi(x.blend(EXP_HI, over)).blend(Float.POSITIVE_INFINITY, over);
    }

    /**
     * e^x for lanes with x ≤ {@link #EXP_HI} (or NaN), with exactly {@link #exp}'s bits there: exp
     * without its overflow step, for the callers whose arguments cannot be positive — the scan's
     * Δ·A (A is negative), softplus's e^-|x|, softmax's e^(x - max). It saves a min, a compare and
     * a blend in the scan's recurrence, where exp is most of the work (docs/cpu-kernels.md).
     */
    static FloatVector expAtMostHi(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
        FloatVector xc = x.blend(EXP_LO, under); // x.max(EXP_LO), NaN included, in one instruction (see exp)
        FloatVector t = xc.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUND));
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(F, P0), FloatVector.broadcast(F, P1));
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^n: add n to the exponent field (n is t's low bits, since t = 1.5·2^23 + n exactly).
        IntVector ni = t.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector e = p.reinterpretAsInts().add(ni.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
        return e.blend(0f, under);
    }

    /**
     * log(1 + y) for y in [0, 1]: with s = y / (2 + y) ∈ [0, 1/3], log(1 + y) = 2·atanh(s)
     * = 2s·(1 + s²/3 + s⁴/5 + … + s¹⁴/15), whose next term is below float precision.
     */
    private static FloatVector log1pUnit(FloatVector y) {
        FloatVector s = y.div(y.add(2f));
        FloatVector z = s.mul(s);
        FloatVector q = z.fma(FloatVector.broadcast(F, 1f / 15), FloatVector.broadcast(F, 1f / 13));
        q = q.fma(z, FloatVector.broadcast(F, 1f / 11));
        q = q.fma(z, FloatVector.broadcast(F, 1f / 9));
        q = q.fma(z, FloatVector.broadcast(F, 1f / 7));
        q = q.fma(z, FloatVector.broadcast(F, 1f / 5));
        q = q.fma(z, FloatVector.broadcast(F, 1f / 3));
        q = q.fma(z, FloatVector.broadcast(F, 1f));
        return s.add(s).mul(q);
    }

    /**
     * softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|) (no overflow for any x), with
     * PyTorch's threshold: x above 20 is returned as it is.
     */
    static FloatVector softplus(FloatVector x) {
        FloatVector sp = x.max(0f).add(log1pUnit(expAtMostHi(x.abs().neg())));
        return sp.blend(x, x.compare(VectorOperators.GT, 20f));
    }

    /** silu(x) = x / (1 + e^-x). */
    static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }
}
