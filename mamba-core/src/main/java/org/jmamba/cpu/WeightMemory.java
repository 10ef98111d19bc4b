package org.jmamba.cpu;

import java.util.Locale;

/**
 * Where a model loaded from a checkpoint ({@link CpuMamba#forInference(org.jmamba.io.TensorSource,
 * org.jmamba.MambaConfig, CpuOptions)}, {@link org.jmamba.Mamba#load}) keeps its large matrices.
 * Models built from {@link org.jmamba.MambaWeights} ({@link CpuMamba#create}) always use the heap:
 * training reads and updates the f32 master arrays.
 */
public enum WeightMemory {
    /**
     * Java arrays on the heap (the only choice on Java 21). An f32 model then keeps the arrays it
     * read as its trainable master.
     */
    HEAP,
    /**
     * Outside the heap ({@link org.jmamba.kernels.OffHeapMatrices}): an f32 or bf16 matrix that the
     * checkpoint stores in exactly that type (a safetensors file or shard) is memory-mapped from the
     * file, zero copy; anything else is converted tensor by tensor into native memory owned by the
     * model and freed by {@link CpuMamba#close()}. The heap keeps only the small per-channel tensors.
     * Such a model is for inference only, whatever the weight type. Needs Java 22+ and the Vector
     * API; elsewhere loading falls back to {@link #HEAP} (and logs why once).
     */
    OFF_HEAP;

    /** Parses {@code heap} or {@code off-heap} (any case; {@code off_heap}, {@code offheap} too), naming a bad value. */
    public static WeightMemory parse(String s) {
        if (s != null) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "heap" -> {
                    return HEAP;
                }
                case "off-heap", "off_heap", "offheap" -> {
                    return OFF_HEAP;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("unknown weight memory '" + s + "': expected heap or off-heap");
    }

    /** The lower-case name used on command lines and in reports: {@code heap} or {@code off-heap}. */
    public String label() {
        return this == HEAP ? "heap" : "off-heap";
    }
}
