package org.jmamba;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.TensorSource;

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

    /**
     * As {@link #load(Path)}, with explicit CPU options. The model is made for inference
     * ({@link CpuMamba#forInference(TensorSource, MambaConfig, CpuOptions)}). By default
     * ({@link org.jmamba.cpu.WeightMemory#OFF_HEAP}, on Java 22+ with the Vector API) its large
     * matrices live off the heap, in native memory freed by {@link SequenceModel#close()}: copied
     * from the checkpoint when it stores them in the weight type (f32 or bf16 safetensors), else
     * converted; the heap keeps only the small tensors, and the model cannot be trained.
     * {@link org.jmamba.cpu.WeightMemory#MAPPED} maps such matrices instead (zero copy: a
     * checkpoint loads in the time it takes to map it, but decodes slower). With {@link org.jmamba.cpu.WeightMemory#HEAP} (and
     * on Java 21) a bf16 or int8 model keeps only those, not the f32 copy it was read into, packed
     * tensor by tensor as it is read, so loading needs about the packed size of heap; an f32 one
     * stays trainable. To train, load with f32 and {@code WeightMemory.HEAP}, or use
     * {@link CpuMamba#create} on {@link Checkpoints#load}'s weights.
     */
    public static SequenceModel load(Path dir, CpuOptions options) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, "not a directory");
        }
        MambaConfig config = ConfigJson.read(dir.resolve(Checkpoints.CONFIG_FILE)).config();
        try (TensorSource src = Checkpoints.openWeights(Checkpoints.findWeights(dir))) {
            return CpuMamba.forInference(src, config, options);
        }
    }
}
