package org.jmamba.cpu;

import java.util.Objects;
import org.jmamba.kernels.WeightType;

/**
 * Options of the pure-Java model.
 *
 * @param threads    size of the model's thread pool (1 = everything on the calling thread)
 * @param weightType how the inference paths store the large matrices (f32, bf16 or block-int8);
 *                   training always uses the f32 master weights
 */
public record CpuOptions(int threads, WeightType weightType) {
    public CpuOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        Objects.requireNonNull(weightType, "weightType");
    }

    /** f32 weights and {@code threads} threads. */
    public CpuOptions(int threads) {
        this(threads, WeightType.F32);
    }

    /** One thread per available processor, f32 weights. */
    public static CpuOptions defaults() {
        return new CpuOptions(Runtime.getRuntime().availableProcessors());
    }

    public CpuOptions withThreads(int threads) {
        return new CpuOptions(threads, weightType);
    }

    public CpuOptions withWeightType(WeightType weightType) {
        return new CpuOptions(threads, weightType);
    }
}
