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
     * Outside the heap, in native memory owned by the model and freed by {@link CpuMamba#close()}
     * ({@link org.jmamba.kernels.OffHeapMatrices}): an f32 or bf16 matrix that the checkpoint stores
     * in exactly that type (a safetensors file or shard) is copied byte for byte from the file,
     * anything else is converted tensor by tensor. The heap keeps only the small per-channel
     * tensors. Such a model is for inference only, whatever the weight type. Needs Java 22+ and the
     * Vector API; elsewhere loading falls back to {@link #HEAP} (and logs why once).
     */
    OFF_HEAP,
    /**
     * As {@link #OFF_HEAP}, but an f32 or bf16 matrix that the checkpoint stores in exactly that type
     * is memory-mapped from the file instead of copied: zero copy, loading costs only the mapping,
     * and processes mapping one file share its pages. The price can be decode speed, which then
     * depends on how the operating system holds the file's pages: on the ext4 disk of the machines
     * this was measured on, f32 and bf16 decode on mapped weights ran at 0.49–0.86 of the heap's
     * speed (native memory 0.98–1.12), because that VM reads a large-folio page cache slowly through
     * any mapping; the same checkpoint mapped from tmpfs ran at 0.92–1.02 (one process, the
     * 130m shape, 2 threads: docs/benchmarks.md, "Where the weights live, and decode speed"). That
     * is why it is not the default. Matrices the file does not store in the weight type are
     * converted into native memory.
     */
    MAPPED;

    /**
     * Parses {@code heap}, {@code off-heap} or {@code mapped} (any case; {@code off_heap},
     * {@code offheap} too), naming a bad value.
     */
    public static WeightMemory parse(String s) {
        if (s != null) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "heap" -> {
                    return HEAP;
                }
                case "off-heap", "off_heap", "offheap" -> {
                    return OFF_HEAP;
                }
                case "mapped" -> {
                    return MAPPED;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("unknown weight memory '" + s + "': expected heap, off-heap or mapped");
    }

    /** The lower-case name used on command lines and in reports: {@code heap}, {@code off-heap} or {@code mapped}. */
    public String label() {
        return switch (this) {
            case HEAP -> "heap";
            case OFF_HEAP -> "off-heap";
            case MAPPED -> "mapped";
        };
    }

    /** Whether the large matrices live outside the Java heap ({@link #OFF_HEAP} or {@link #MAPPED}). */
    public boolean offHeap() {
        return this != HEAP;
    }
}
