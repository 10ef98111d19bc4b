package org.jmamba.cpu;

import java.util.Objects;
import org.jmamba.kernels.GemmProvider;
import org.jmamba.kernels.WeightType;
import org.jmamba.kernels.WorkerPool;

/**
 * Options of the pure-Java model.
 *
 * @param threads      size of the model's thread pool (1 = everything on the calling thread), at most
 *                     {@link WorkerPool#MAX_THREADS}; more than the machine's processors runs, slower
 * @param weightType   how the inference paths store the large matrices (f32, bf16 or block-int8);
 *                     training always uses the f32 master weights
 * @param gemm         another engine for the large f32 matrix products of prefill and training (ND4J's
 *                     BLAS: {@code org.jmamba.nd4j.Nd4jGemm}), consulted product by product; null for
 *                     the pure-Java kernels only. The model does not close it. It reads Java arrays,
 *                     so a model loaded from a checkpoint with f32 weights and an engine keeps its
 *                     weights on the heap.
 * @param weightMemory where a model loaded from a checkpoint keeps its large matrices
 *                     ({@link WeightMemory}; default {@link WeightMemory#OFF_HEAP}, which falls back
 *                     to the heap where it is unavailable); models made from weights in memory
 *                     ({@link CpuMamba#create}) ignore it
 */
public record CpuOptions(int threads, WeightType weightType, GemmProvider gemm, WeightMemory weightMemory) {
    public CpuOptions {
        WorkerPool.checkThreads(threads);
        Objects.requireNonNull(weightType, "weightType");
        Objects.requireNonNull(weightMemory, "weightMemory");
    }

    /** Weights off the heap where possible ({@link WeightMemory#OFF_HEAP}). */
    public CpuOptions(int threads, WeightType weightType, GemmProvider gemm) {
        this(threads, weightType, gemm, WeightMemory.OFF_HEAP);
    }

    /** The pure-Java kernels only. */
    public CpuOptions(int threads, WeightType weightType) {
        this(threads, weightType, null);
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
        return new CpuOptions(threads, weightType, gemm, weightMemory);
    }

    public CpuOptions withWeightType(WeightType weightType) {
        return new CpuOptions(threads, weightType, gemm, weightMemory);
    }

    /** These options with {@code gemm} taking the large products it accepts (null: pure Java only). */
    public CpuOptions withGemm(GemmProvider gemm) {
        return new CpuOptions(threads, weightType, gemm, weightMemory);
    }

    /** These options with a loaded model's matrices kept in {@code weightMemory}. */
    public CpuOptions withWeightMemory(WeightMemory weightMemory) {
        return new CpuOptions(threads, weightType, gemm, weightMemory);
    }
}
