package org.jmamba.perf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.io.AtomicFiles;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.DType;
import org.jmamba.io.TensorSource;
import org.jmamba.io.TokenIds;
import org.jmamba.kernels.WeightType;

/**
 * A checkpoint that benchmarks load models from, to measure weights off the heap: only a model read
 * from a checkpoint keeps its matrices there ({@link CpuMamba#create} always uses the heap).
 * {@link #write} saves random weights into a temporary directory, which {@link #close} deletes;
 * {@link #existing} uses a checkpoint the caller has (kept). Closing also closes the tensor sources
 * of the models loaded, so close it after them.
 */
public final class BenchCheckpoint implements AutoCloseable {
    private final Path dir;
    private final boolean temporary;
    private final MambaConfig config;
    private final List<TensorSource> sources = new ArrayList<>();

    private BenchCheckpoint(Path dir, boolean temporary, MambaConfig config) {
        this.dir = dir;
        this.temporary = temporary;
        this.config = config;
    }

    /**
     * Writes {@code weights} to a new temporary directory, stored as bf16 for {@code type} bf16 and
     * f32 otherwise: a matrix is then copied or mapped as a released checkpoint loaded in its own
     * type would be.
     */
    public static BenchCheckpoint write(MambaWeights weights, WeightType type) {
        Objects.requireNonNull(weights, "weights");
        Path dir;
        try {
            dir = Files.createTempDirectory("jmamba-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a benchmark's temporary checkpoint directory", e);
        }
        try {
            Checkpoints.save(dir, weights, TokenIds.NONE, type == WeightType.BF16 ? DType.BF16 : DType.F32);
        } catch (RuntimeException e) {
            AtomicFiles.deleteTreeQuietly(dir);
            throw e;
        }
        return new BenchCheckpoint(dir, true, weights.config());
    }

    /** The checkpoint in {@code dir} (its config.json and weights), left in place by {@link #close}. */
    public static BenchCheckpoint existing(Path dir) {
        return new BenchCheckpoint(dir, false, ConfigJson.read(dir.resolve(Checkpoints.CONFIG_FILE)).config());
    }

    /** The checkpoint's directory. */
    public Path dir() {
        return dir;
    }

    public MambaConfig config() {
        return config;
    }

    /**
     * A model read from the checkpoint with {@code options}, its weights where
     * {@link CpuOptions#weightMemory()} says.
     *
     * @throws IllegalStateException when the model did not get that weight memory (e.g. off-heap
     *                               weights unavailable on this JVM)
     */
    public CpuMamba load(CpuOptions options) {
        TensorSource src = Checkpoints.openWeights(dir.resolve(Checkpoints.SAFETENSORS_FILE));
        sources.add(src);
        CpuMamba m = CpuMamba.forInference(src, config, options);
        if (m.weightMemory() != options.weightMemory()) {
            m.close();
            throw new IllegalStateException("asked for " + options.weightMemory().label() + " weights, the model has "
                    + m.weightMemory().label());
        }
        return m;
    }

    /** Closes the sources of the models loaded and deletes a temporary checkpoint. */
    @Override
    public void close() {
        sources.forEach(TensorSource::close);
        sources.clear();
        if (temporary) {
            AtomicFiles.deleteTreeQuietly(dir);
        }
    }
}
