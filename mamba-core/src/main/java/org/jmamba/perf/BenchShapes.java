package org.jmamba.perf;

import java.util.List;
import java.util.Locale;
import org.jmamba.MambaConfig;

/** Named model shapes for benchmarks (random weights; only the sizes matter). */
public final class BenchShapes {
    private BenchShapes() {
    }

    /** The released mamba-130m: d_model 768, 24 layers, vocab 50280, N 16, K 4, expand 2, dt_rank 48. */
    public static final MambaConfig MAMBA_130M = new MambaConfig(768, 24, 50280, 16, 4, 1536, 48,
            false, true, 1e-5, true, true);

    /** A small model for training throughput: d_model 256, 4 layers, vocab 4096. */
    public static final MambaConfig SMALL = MambaConfig.of(256, 4, 4096, 16, 4);

    /** The golden tiny model's shape: d_model 64, 2 layers, vocab 512. */
    public static final MambaConfig TINY = MambaConfig.of(64, 2, 512, 16, 4);

    public static List<String> names() {
        return List.of("130m", "small", "tiny");
    }

    /** The shape called {@code name} (130m, small or tiny). */
    public static MambaConfig byName(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "130m", "mamba-130m" -> MAMBA_130M;
            case "small" -> SMALL;
            case "tiny" -> TINY;
            default -> throw new IllegalArgumentException("unknown shape '" + name + "': expected one of " + names());
        };
    }
}
