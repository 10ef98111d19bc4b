package org.jmamba.kernels;

import java.util.Random;

/**
 * Run in a child JVM by {@link ScalarFallbackTest}, without the Vector API module: prints whether
 * SIMD is on and the results of a few kernels through {@link Kernels}, as hex bit patterns.
 */
public final class FallbackMain {
    private FallbackMain() {
    }

    public static void main(String[] args) {
        System.out.println("simd=" + Kernels.simd());
        StringBuilder sb = new StringBuilder("result=");
        for (float v : compute()) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(',');
        }
        System.out.println(sb);
    }

    /** The same computation through {@link Kernels}; deterministic inputs. */
    static float[] compute() {
        return compute(false);
    }

    /**
     * A product and a softmax of fixed random inputs, concatenated: through {@link Kernels}, or,
     * with {@code scalarDirect}, through {@link ScalarKernels} itself (what the child must match).
     */
    static float[] compute(boolean scalarDirect) {
        Random r = new Random(42);
        int M = 3, N = 5, K = 19;
        float[] a = new float[M * K], b = new float[N * K], c = new float[M * N];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian();
        }
        float[] x = a.clone();
        if (scalarDirect) {
            ScalarKernels.gemmNT(a, 0, K, b, 0, K, c, 0, N, null, false, 0, M, 0, N, K);
            ScalarKernels.softmax(x, 0, K);
        } else {
            Kernels.gemmNT(a, 0, K, b, 0, K, c, 0, N, null, false, 0, M, 0, N, K);
            Kernels.softmax(x, 0, K);
        }
        float[] out = new float[c.length + K];
        System.arraycopy(c, 0, out, 0, c.length);
        System.arraycopy(x, 0, out, c.length, K);
        return out;
    }
}
