package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

/**
 * The bare fused scan against the golden float64 reference (golden/scan): out and last_state.
 * The file's layout is (batch, dim, len) for u/delta/z and (batch, N, len) for B/C; the kernel's is
 * token-major, so the test transposes.
 */
class ScanGoldenTest {

    static Path resource(String name) {
        try {
            var url = ScanGoldenTest.class.getResource("/golden/" + name);
            if (url == null) {
                throw new IllegalStateException("test resource golden/" + name + " is missing");
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void outAndLastStateMatchGolden() {
        try (SafetensorsFile f = SafetensorsFile.open(resource("scan/golden.safetensors"))) {
            int B = (int) f.info("u").shape()[0];
            int D = (int) f.info("u").shape()[1];
            int L = (int) f.info("u").shape()[2];
            int N = (int) f.info("A").shape()[1];
            float[] u = tokenMajor(f.readDoubles("u"), B, D, L);
            float[] delta = tokenMajor(f.readDoubles("delta"), B, D, L);
            float[] z = tokenMajor(f.readDoubles("z"), B, D, L);
            float[] Bm = tokenMajor(f.readDoubles("B"), B, N, L);
            float[] Cm = tokenMajor(f.readDoubles("C"), B, N, L);
            double[] outRef = tokenMajorDouble(f.readDoubles("out"), B, D, L);
            double[] lastRef = f.readDoubles("last_state"); // (batch, dim, N) is already our layout
            float[] out = new float[B * L * D];
            float[] state = new float[B * D * N];
            for (int threads : new int[] {1, 2}) {
                try (Parallel par = new Parallel(threads)) {
                    SelectiveScan.forward(par, out, null, u, delta, f.readFloats("delta_bias"), f.readFloats("A"),
                            Bm, 0, Cm, 0, N, f.readFloats("D"), z, 0, D, state, B, L, D, N);
                }
                double eo = TestModels.relErr(out, outRef);
                double es = TestModels.relErr(state, lastRef);
                assertTrue(eo <= 1e-6, "out rel err " + eo);
                assertTrue(es <= 1e-6, "last_state rel err " + es);
                java.util.Arrays.fill(state, 0f);
            }
        }
    }

    /** (batch, X, len) float64 to token-major [batch, len, X] fp32. */
    static float[] tokenMajor(double[] a, int B, int X, int L) {
        double[] d = tokenMajorDouble(a, B, X, L);
        float[] o = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            o[i] = (float) d[i];
        }
        return o;
    }

    static double[] tokenMajorDouble(double[] a, int B, int X, int L) {
        double[] o = new double[a.length];
        for (int b = 0; b < B; b++) {
            for (int x = 0; x < X; x++) {
                for (int t = 0; t < L; t++) {
                    o[(b * L + t) * X + x] = a[(b * X + x) * L + t];
                }
            }
        }
        return o;
    }
}
