package org.jmamba.kernels;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A store of {@link PackedMatrix packed matrices} whose weights live outside the Java heap: in
 * native memory the store allocates, or mapped straight from a checkpoint file (zero copy). One
 * store belongs to one model and frees (unmaps) everything when {@link #close() closed}; a matrix of
 * a closed store throws {@link IllegalStateException} when used, it never reads freed memory.
 *
 * <p>Why: a large primitive array costs the collector nothing to trace, but it is still heap: the
 * heap must be sized for the whole model, and the model must be copied into it. Off-heap weights
 * keep the heap small, and a mapped checkpoint "loads" in the time it takes to map it (the
 * operating system reads pages on first use and shares them between processes).
 *
 * <p>The implementation needs {@code java.lang.foreign}, final only from Java 22, while the library
 * is compiled for Java 21. It lives in mamba-core's {@code src/main/java22} layer (compiled with
 * release 22 into the same jar) and is loaded reflectively, only when {@link #available()}: on Java
 * 21, or without the Vector API (the segment kernels are written with it), loading falls back to heap
 * arrays and one info line in the log says why. {@code -D}{@value #PROPERTY}{@code =false} turns the
 * layer off.
 *
 * <p>Matrices of a store are for inference only: {@link PackedMatrix#update} throws.
 */
public interface OffHeapMatrices extends AutoCloseable {
    /** System property: {@code false} disables off-heap weights (everything stays on the heap). */
    String PROPERTY = "jmamba.offheap";

    /** Whether this JVM can hold weights off the heap (Java 22+, SIMD kernels on, not disabled). Decided once. */
    static boolean available() {
        return OffHeapLoader.available();
    }

    /** Why {@link #available()} is false (for logs and reports); null when it is true. */
    static String unavailableReason() {
        return OffHeapLoader.reason();
    }

    /**
     * A new, empty store.
     *
     * @throws UnsupportedOperationException when not {@link #available()}, saying why
     */
    static OffHeapMatrices open() {
        return OffHeapLoader.open();
    }

    /**
     * Copies {@code w} [rows, cols] into memory of this store, packed as {@code type} exactly as
     * {@link PackedMatrix#pack} packs it (same rounding, same quantisation), so both compute the same
     * bits.
     */
    PackedMatrix pack(float[] w, int rows, int cols, WeightType type);

    /**
     * Maps {@code rows * cols} weights stored in {@code file} from byte {@code offset}, little-endian,
     * in exactly {@code type}'s layout (f32, or bf16 bit patterns), read-only and without a copy.
     * The caller checks that the region lies inside the file.
     *
     * @throws IllegalArgumentException for {@link WeightType#INT8}, which no checkpoint stores
     * @throws IOException              when the file cannot be opened or mapped
     */
    PackedMatrix map(Path file, long offset, int rows, int cols, WeightType type) throws IOException;

    /**
     * Like {@link #map}, but copies the weights into native memory of this store (aligned to a cache
     * line) instead of mapping them, reading the file straight into it: the file is not kept open
     * or mapped afterwards, and the kernels read ordinary anonymous memory, on which decode measured
     * faster than on mapped pages (see {@code WeightMemory.MAPPED}). Same bits as {@link #map}.
     *
     * @throws IllegalArgumentException for {@link WeightType#INT8}, which no checkpoint stores
     * @throws IOException              when the file cannot be opened or read
     */
    PackedMatrix copy(Path file, long offset, int rows, int cols, WeightType type) throws IOException;

    /** Bytes of native memory this store allocated ({@link #pack}, {@link #copy}). */
    long allocatedBytes();

    /** Bytes of files this store mapped ({@link #map}). */
    long mappedBytes();

    /** Whether the store is still open. */
    boolean isOpen();

    /** Frees the allocated memory and unmaps the files; idempotent. Later use of a matrix throws. */
    @Override
    void close();
}
