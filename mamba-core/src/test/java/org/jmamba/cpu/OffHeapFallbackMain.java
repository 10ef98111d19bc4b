package org.jmamba.cpu;

import java.nio.file.Path;
import org.jmamba.Mamba;
import org.jmamba.kernels.WeightType;

/**
 * Run in a child JVM by {@link OffHeapModelTest} with the Java 22 layer turned off: loads the model
 * folder given as the argument with the default options (off the heap where possible) and prints
 * where its weights ended up and its logits as hex bit patterns.
 */
public final class OffHeapFallbackMain {
    static final int[] TOKENS = {1, 5, 9, 200, 3, 77};

    private OffHeapFallbackMain() {
    }

    public static void main(String[] args) {
        try (CpuMamba m = (CpuMamba) Mamba.load(Path.of(args[0]), new CpuOptions(1, WeightType.F32))) {
            System.out.println("memory=" + m.weightMemory());
            System.out.println("logits=" + hex(m.forward(new int[][] {TOKENS}, false).logits().data()));
        }
    }

    static String hex(float[] values) {
        StringBuilder sb = new StringBuilder();
        for (float v : values) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(',');
        }
        return sb.toString();
    }
}
