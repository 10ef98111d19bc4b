package org.jmamba.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} must run the scalar kernels and
 * never load a class that references the Vector API (which would fail to link there).
 */
class ScalarFallbackTest {

    @Test
    void withoutTheModuleTheScalarKernelsRunAndNoVectorClassIsLoaded() throws Exception {
        String out = runChild(List.of("-Xlog:class+load=info"));
        assertTrue(out.contains("simd=false"), tail(out));
        assertFalse(out.contains("load] jdk.incubator.vector."), "a Vector API class was loaded");
        for (String simd : List.of("VectorLanes", "VectorGemm", "VectorQuantised", "VectorRowOps", "VectorScan",
                "VectorConv")) {
            assertFalse(out.contains("load] org.jmamba.kernels." + simd), simd + " was loaded");
        }
        assertFalse(out.contains("load] org.jmamba.kernels.VectorProbe"), "VectorProbe was loaded");
        assertTrue(out.contains("load] org.jmamba.kernels.ScalarKernels"), "the scalar kernels should have run");
        assertEquals(expected(FallbackMain.compute(true)), resultLine(out));
    }

    @Test
    void thePropertyTurnsSimdOffEvenWithTheModule() throws Exception {
        String out = runChild(List.of("--add-modules=jdk.incubator.vector", "-D" + VectorSupport.PROPERTY + "=false"));
        assertTrue(out.contains("simd=false"), out);
        assertEquals(expected(FallbackMain.compute(true)), resultLine(out));
    }

    @Test
    void withTheModuleTheChildUsesSimd() throws Exception {
        String out = runChild(List.of("--add-modules=jdk.incubator.vector"));
        assertTrue(out.contains("simd=true"), out);
    }

    private static String tail(String out) {
        return out.length() <= 4000 ? out : "..." + out.substring(out.length() - 4000);
    }

    private static String resultLine(String out) {
        for (String line : out.split("\n")) {
            if (line.startsWith("result=")) {
                return line.trim();
            }
        }
        return "(no result line)";
    }

    private static String expected(float[] values) {
        StringBuilder sb = new StringBuilder("result=");
        for (float v : values) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(',');
        }
        return sb.toString();
    }

    private static String runChild(List<String> jvmArgs) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(FallbackMain.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
