package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jmamba.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

/**
 * The fp32 scan backward (scalar, and SIMD where the JVM has it) against golden/scan's float64
 * gradients of sum(out·dout) with respect to every input (u, Δ before bias, A, B, C, D, z, Δ bias).
 * Tolerance 1e-5 relative (float32 reaches ~1e-7 here). The file's layout is (batch, dim, len) /
 * (batch, N, len); the kernels' is token-major.
 */
class ScanBackwardGoldenTest {
    private static final double TOL = 1e-5;

    @Test
    void gradientsOfEveryInputMatchGolden() {
        boolean[] paths = SelectiveScan.VECTOR_LANES > 0 ? new boolean[] {false, true} : new boolean[] {false};
        try (SafetensorsFile f = SafetensorsFile.open(ScanGoldenTest.resource("scan/golden.safetensors"))) {
            for (boolean vector : paths) {
                float[][] oneThread = run(f, vector, 1);
                float[][] twoThreads = run(f, vector, 2);
                for (int i = 0; i < oneThread.length; i++) {
                    assertArrayEquals(oneThread[i], twoThreads[i], "thread count must not change a bit");
                }
            }
        }
    }

    /** Runs the backward on the golden inputs, checks every gradient, returns them. */
    private static float[][] run(SafetensorsFile f, boolean vector, int threads) {
        int B = (int) f.info("u").shape()[0];
        int D = (int) f.info("u").shape()[1];
        int L = (int) f.info("u").shape()[2];
        int N = (int) f.info("A").shape()[1];
        int BT = B * L;
        float[] u = ScanGoldenTest.tokenMajor(f.readDoubles("u"), B, D, L);
        float[] delta = ScanGoldenTest.tokenMajor(f.readDoubles("delta"), B, D, L);
        float[] z = ScanGoldenTest.tokenMajor(f.readDoubles("z"), B, D, L);
        float[] Bm = ScanGoldenTest.tokenMajor(f.readDoubles("B"), B, N, L);
        float[] Cm = ScanGoldenTest.tokenMajor(f.readDoubles("C"), B, N, L);
        float[] dout = ScanGoldenTest.tokenMajor(f.readDoubles("dout"), B, D, L);
        float[] du = new float[BT * D];
        float[] dDelta = new float[BT * D];
        float[] dz = new float[BT * D];
        float[] dB = new float[BT * N];
        float[] dC = new float[BT * N];
        float[] dA = new float[D * N];
        float[] dD = new float[D];
        float[] dBias = new float[D];
        try (Parallel par = new Parallel(threads)) {
            SelectiveScan.backward(vector, par, du, dDelta, dBias, dA, dB, 0, dC, 0, N, dD, dz, 0, D, dout,
                    u, delta, f.readFloats("delta_bias"), f.readFloats("A"), Bm, 0, Cm, 0, N, f.readFloats("D"),
                    z, 0, D, B, L, D, N);
        }
        String path = vector ? " (simd)" : "";
        assertClose("u" + path, du, ScanGoldenTest.tokenMajorDouble(f.readDoubles("grad.u"), B, D, L));
        assertClose("delta" + path, dDelta, ScanGoldenTest.tokenMajorDouble(f.readDoubles("grad.delta"), B, D, L));
        assertClose("z" + path, dz, ScanGoldenTest.tokenMajorDouble(f.readDoubles("grad.z"), B, D, L));
        assertClose("B" + path, dB, ScanGoldenTest.tokenMajorDouble(f.readDoubles("grad.B"), B, N, L));
        assertClose("C" + path, dC, ScanGoldenTest.tokenMajorDouble(f.readDoubles("grad.C"), B, N, L));
        assertClose("A" + path, dA, f.readDoubles("grad.A"));
        assertClose("D" + path, dD, f.readDoubles("grad.D"));
        assertClose("delta_bias" + path, dBias, f.readDoubles("grad.delta_bias"));
        return new float[][] {du, dDelta, dz, dB, dC, dA, dD, dBias};
    }

    private static void assertClose(String what, float[] actual, double[] expected) {
        double e = TestModels.relErr(actual, expected);
        assertTrue(e <= TOL, "grad." + what + " rel err " + e);
    }
}
