package org.jmamba.kernels;

import static org.jmamba.kernels.VectorLanes.F;
import static org.jmamba.kernels.VectorLanes.LANES;
import static org.jmamba.kernels.VectorLanes.X1;
import static org.jmamba.kernels.VectorLanes.X16;
import static org.jmamba.kernels.VectorLanes.X2;
import static org.jmamba.kernels.VectorLanes.X32;
import static org.jmamba.kernels.VectorLanes.X4;
import static org.jmamba.kernels.VectorLanes.X8;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The SIMD operations on one row of floats: RMSNorm, max, log-sum-exp, softmax, log-softmax, SiLU
 * and its backward. Same signatures and results (up to rounding) as {@link ScalarKernels}; called
 * through {@link Kernels}.
 */
final class VectorRowOps {
    private VectorRowOps() {
    }

    static float rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - 2 * LANES; i += 2 * LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xOff + i);
            FloatVector v1 = FloatVector.fromArray(F, x, xOff + i + LANES);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
        }
        for (; i <= n - LANES; i += LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xOff + i);
            s0 = v0.fma(v0, s0);
        }
        // The lane sum in the order of VectorLanes' tree, written out: a call could box the vector.
        FloatVector t = s0.add(s1);
        if (LANES >= 64) {
            t = t.add(t.rearrange(X32));
        }
        if (LANES >= 32) {
            t = t.add(t.rearrange(X16));
        }
        if (LANES >= 16) {
            t = t.add(t.rearrange(X8));
        }
        if (LANES >= 8) {
            t = t.add(t.rearrange(X4));
        }
        t = t.add(t.rearrange(X2));
        t = t.add(t.rearrange(X1));
        float ss = t.lane(0);
        for (; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float r = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).mul(r).mul(FloatVector.fromArray(F, w, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * r * w[i];
        }
        return r;
    }

    static float max(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            mv = mv.max(FloatVector.fromArray(F, x, off + i));
        }
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    /** Σ exp(x_i - m). */
    private static float sumExp(float[] x, int off, int n, float m) {
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            s = s.add(VectorMath.expAtMostHi(FloatVector.fromArray(F, x, off + i).sub(m))); // x - max ≤ 0
        }
        // The lane sum in the order of VectorLanes' tree, written out: a call could box the vector.
        FloatVector t = s;
        if (LANES >= 64) {
            t = t.add(t.rearrange(X32));
        }
        if (LANES >= 32) {
            t = t.add(t.rearrange(X16));
        }
        if (LANES >= 16) {
            t = t.add(t.rearrange(X8));
        }
        if (LANES >= 8) {
            t = t.add(t.rearrange(X4));
        }
        t = t.add(t.rearrange(X2));
        t = t.add(t.rearrange(X1));
        float r = t.lane(0);
        for (; i < n; i++) {
            r += (float) Math.exp(x[off + i] - m);
        }
        return r;
    }

    static float logSumExp(float[] x, int off, int n) {
        float m = max(x, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return m;
        }
        return m + (float) Math.log(sumExp(x, off, n, m));
    }

    static void expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += LANES) {
            // x - shift ≤ 0 (the contract): exp without its overflow step, as softmax takes it
            VectorMath.expAtMostHi(FloatVector.fromArray(F, x, xOff + i).sub(shift)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) { // the lanes' own arithmetic, one at a time: the same bits
            out[outOff + i] = ScalarMath.exp(x[xOff + i] - shift);
        }
    }

    static void softmax(float[] x, int off, int n) {
        float m = max(x, off, n);
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector e = VectorMath.expAtMostHi(FloatVector.fromArray(F, x, off + i).sub(m)); // x - max ≤ 0
            e.intoArray(x, off + i);
            s = s.add(e);
        }
        // The lane sum in the order of VectorLanes' tree, written out: a call could box the vector.
        FloatVector t = s;
        if (LANES >= 64) {
            t = t.add(t.rearrange(X32));
        }
        if (LANES >= 32) {
            t = t.add(t.rearrange(X16));
        }
        if (LANES >= 16) {
            t = t.add(t.rearrange(X8));
        }
        if (LANES >= 8) {
            t = t.add(t.rearrange(X4));
        }
        t = t.add(t.rearrange(X2));
        t = t.add(t.rearrange(X1));
        float sum = t.lane(0);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - m);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    static void logSoftmax(float[] x, int off, int n) {
        float lse = logSumExp(x, off, n);
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(F, x, off + i).sub(lse).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] -= lse;
        }
    }

    /** {@link ScalarKernels#siluBackward} with the vector exp: σ = 1 / (1 + e^-x), in float. */
    static void siluBackward(float[] dx, float[] dOut, float[] x, int off, int n) {
        int i = off;
        for (int end = off + F.loopBound(n); i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector sig = FloatVector.broadcast(F, 1f).div(VectorMath.exp(v.neg()).add(1f));
            FloatVector d = v.mul(sig.neg().add(1f)).add(1f).mul(sig);
            FloatVector.fromArray(F, dOut, i).fma(d, FloatVector.fromArray(F, dx, i)).intoArray(dx, i);
        }
        for (; i < off + n; i++) {
            float sig = 1f / (ScalarMath.exp(-x[i]) + 1f);
            dx[i] = Math.fma(dOut[i], sig * (1f + x[i] * (1f - sig)), dx[i]);
        }
    }

    static void silu(float[] out, int outOff, float[] x, int xOff, int n) {
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            VectorLanes.silu(FloatVector.fromArray(F, x, xOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = ScalarMath.silu(x[xOff + i]);
        }
    }
}
