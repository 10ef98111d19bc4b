package org.jmamba;

import java.nio.file.Path;
import java.util.Objects;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.io.Checkpoints;

/**
 * The shortest way in: load a checkpoint directory and get a runnable model.
 *
 * <pre>{@code
 * try (SequenceModel model = Mamba.load(Path.of("mamba-130m"))) {
 *     float[] logits = model.forward(new int[][] {{1, 2, 3}}, false).logits().data();
 * }
 * }</pre>
 */
public final class Mamba {
    private Mamba() {
    }

    /**
     * Loads {@code dir} (Hugging Face or {@code mamba_ssm} layout; see {@link Checkpoints#load(Path)})
     * onto the pure-Java CPU model with one thread per processor.
     *
     * @throws org.jmamba.io.CheckpointException if the checkpoint is missing, malformed or inconsistent
     */
    public static SequenceModel load(Path dir) {
        return load(dir, CpuOptions.defaults());
    }

    /** As {@link #load(Path)}, with explicit CPU options. */
    public static SequenceModel load(Path dir, CpuOptions options) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        return CpuMamba.create(Checkpoints.load(dir).weights(), options);
    }
}
