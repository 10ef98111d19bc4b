package org.jmamba.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The deterministic exp / softplus / SiLU: accurate against double-precision {@link Math}, and the
 * scalar copy ({@link ScalarMath}) gives exactly the bits of a vector lane.
 */
class VectorMathTest {
    private final long seed = System.nanoTime();
    private final Random r = new Random(seed);

    /** Inputs over the whole useful range, plus the edges. */
    private float[] inputs(float lo, float hi) {
        int n = 20_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * r.nextFloat();
        }
        float[] edges = {0f, -0f, 1e-30f, -1e-30f, 20f, 20.0001f, 19.9999f, -86.5f, -86.49f, -86.51f, 88.3f, 88.29f,
            -100f, 100f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            -2.0209563f, -16.68377f, 26.728634f}; // the worst cases of softplus, SiLU and exp (see below)
        System.arraycopy(edges, 0, x, 0, edges.length);
        return x;
    }

    private static float[] apply(float[] x, int fn) {
        int L = VectorLanes.LANES;
        float[] out = new float[x.length];
        int i = 0;
        for (; i <= x.length - L; i += L) {
            FloatVector v = FloatVector.fromArray(VectorLanes.F, x, i);
            FloatVector y = fn == 0 ? VectorMath.exp(v) : fn == 1 ? VectorMath.softplus(v) : VectorMath.silu(v);
            y.intoArray(out, i);
        }
        for (; i < x.length; i++) {
            out[i] = fn == 0 ? ScalarMath.exp(x[i]) : fn == 1 ? ScalarMath.softplus(x[i]) : ScalarMath.silu(x[i]);
        }
        return out;
    }

    @Test
    void expIsWithinTwoUlpsOfMath() {
        float[] x = inputs(-90f, 90f);
        float[] e = apply(x, 0);
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            String at = "exp(" + x[i] + ") = " + e[i] + " vs " + want + " (seed " + seed + ")";
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(e[i]), at);
            } else if (x[i] < VectorMath.EXP_LO) {
                assertEquals(0f, e[i], at); // flushed: below 3e-38
            } else if (x[i] > VectorMath.EXP_HI) {
                assertEquals(Float.POSITIVE_INFINITY, e[i], at);
            } else {
                assertTrue(Math.abs(e[i] - want) <= 2 * Math.ulp((float) want), at);
            }
        }
    }

    @Test
    void expAtMostHiIsExpWhereItApplies() {
        // The scan, softplus and softmax call it for arguments that cannot be positive; up to
        // EXP_HI (and for NaN and -inf) it must give exp's bits exactly.
        float[] x = inputs(-100f, VectorMath.EXP_HI);
        for (int i = 0; i < x.length; i++) {
            if (x[i] > VectorMath.EXP_HI) {
                x[i] = -x[i]; // the edges above the bound: still inputs, on the side that applies
            }
        }
        float[] e = apply(x, 0);
        int L = VectorLanes.LANES;
        for (int i = 0; i <= x.length - L; i += L) {
            float[] a = new float[L];
            VectorMath.expAtMostHi(FloatVector.fromArray(VectorLanes.F, x, i)).intoArray(a, 0);
            for (int j = 0; j < L; j++) {
                assertEquals(Float.floatToRawIntBits(e[i + j]), Float.floatToRawIntBits(a[j]),
                        "expAtMostHi(" + x[i + j] + ") = " + a[j] + " vs exp " + e[i + j] + " (seed " + seed + ")");
            }
        }
    }

    @Test
    void softplusAndSiluAreAccurate() {
        float[] x = inputs(-60f, 60f);
        float[] sp = apply(x, 1);
        float[] si = apply(x, 2);
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(sp[i]) && Float.isNaN(si[i]));
                continue;
            }
            if (Float.isInfinite(x[i])) {
                continue;
            }
            double xd = x[i];
            double spWant = xd > 20 ? xd : Math.max(xd, 0) + Math.log1p(Math.exp(-Math.abs(xd)));
            double siWant = xd / (1 + Math.exp(-xd));
            // The bounds are the worst errors over every float of the range, rounded up: softplus
            // 3.67 ulps (at x = -2.0209563; exp's error passes through log1p), SiLU 2.41 ulps.
            // + 1e-37: results below the normal floats are flushed to zero.
            assertTrue(Math.abs(sp[i] - spWant) <= 4 * Math.ulp((float) spWant) + 1e-37,
                    "softplus(" + x[i] + ") = " + sp[i] + " vs " + spWant + " (seed " + seed + ")");
            assertTrue(Math.abs(si[i] - siWant) <= 3 * Math.ulp((float) siWant) + 1e-37,
                    "silu(" + x[i] + ") = " + si[i] + " vs " + siWant + " (seed " + seed + ")");
        }
    }

    @Test
    void theScalarCopyGivesTheLanesBits() {
        for (int fn = 0; fn < 3; fn++) {
            float[] x = inputs(-95f, 95f);
            float[] v = apply(x, fn);
            for (int i = 0; i < x.length; i++) {
                float s = fn == 0 ? ScalarMath.exp(x[i]) : fn == 1 ? ScalarMath.softplus(x[i]) : ScalarMath.silu(x[i]);
                if (Float.isNaN(x[i])) { // NaN in, NaN out (its sign bit is not specified)
                    assertTrue(Float.isNaN(v[i]) && Float.isNaN(s));
                    continue;
                }
                assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(s),
                        "function " + fn + " at " + x[i] + ": lane " + v[i] + ", scalar " + s);
            }
        }
    }

    @Test
    void laneSumsFollowAFixedTree() {
        int L = VectorLanes.LANES;
        float[] a = new float[L];
        for (int trial = 0; trial < 100; trial++) {
            for (int i = 0; i < L; i++) {
                a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8)));
            }
            // The same pairwise tree, written out: (lane i) + (lane i ^ half), halving each time.
            float[] t = a.clone();
            for (int h = L / 2; h >= 1; h /= 2) {
                float[] u = new float[L];
                for (int i = 0; i < L; i++) {
                    u[i] = t[i] + t[i ^ h];
                }
                t = u;
            }
            assertEquals(Float.floatToRawIntBits(t[0]),
                    Float.floatToRawIntBits(VectorLanes.sum(FloatVector.fromArray(VectorLanes.F, a, 0))));
        }
    }
}
