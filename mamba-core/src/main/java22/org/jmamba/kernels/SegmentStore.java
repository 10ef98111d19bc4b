package org.jmamba.kernels;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java 22 implementation of {@link OffHeapMatrices}: one shared {@link Arena} per store (per
 * model), from which matrices are allocated or into which checkpoint regions are mapped. Closing
 * the store closes the arena, which frees and unmaps everything at once; a shared arena may be
 * closed while other threads use its segments, which then throw {@link IllegalStateException}
 * (never read freed memory).
 *
 * <p>Made reflectively by {@link OffHeapLoader} ({@value OffHeapLoader#IMPLEMENTATION}), only on
 * Java 22+ with the Vector API enabled.
 */
final class SegmentStore implements OffHeapMatrices {
    /** Values converted per step when packing: the heap holds only this much beside the input. */
    private static final int CHUNK = 1 << 16;
    /** Bytes read per {@link FileChannel#read} slice when copying a stored matrix. */
    private static final long READ_SLICE = 1L << 30;
    /** Allocations start on a cache line (and a whole vector). */
    private static final long ALIGN = 64;

    private final Arena arena = Arena.ofShared();
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final AtomicLong allocated = new AtomicLong();
    private final AtomicLong mapped = new AtomicLong();

    SegmentStore() {
    }

    @Override
    public PackedMatrix pack(float[] w, int rows, int cols, WeightType type) {
        Objects.requireNonNull(w, "w");
        Objects.requireNonNull(type, "type");
        if (rows < 0 || cols < 0 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException("matrix " + rows + " x " + cols + " needs " + (long) rows * cols
                    + " values, the array has " + w.length);
        }
        checkOpen();
        int n = w.length;
        return switch (type) {
            case F32 -> {
                MemorySegment s = allocate(4L * n);
                MemorySegment.copy(w, 0, s, SegmentKernels.F32, 0, n);
                yield new SegmentMatrix.F32(s, rows, cols);
            }
            case BF16 -> {
                MemorySegment s = allocate(2L * n);
                short[] buf = new short[Math.min(n, CHUNK)];
                for (int i0 = 0; i0 < n; i0 += CHUNK) {
                    int len = Math.min(CHUNK, n - i0);
                    Kernels.toBf16(w, i0, buf, 0, len); // PackedMatrix's bf16 rounding
                    MemorySegment.copy(buf, 0, s, SegmentKernels.S16, 2L * i0, len);
                }
                yield new SegmentMatrix.Bf16Matrix(s, rows, cols);
            }
            case INT8 -> {
                int bpr = Int8Blocks.blocksPerRow(cols);
                MemorySegment q = allocate(n);
                MemorySegment scales = allocate(4L * rows * bpr);
                int step = Math.max(1, CHUNK / Math.max(1, cols)); // rows quantised per step
                byte[] qb = new byte[Math.min(rows, step) * cols];
                float[] sb = new float[Math.min(rows, step) * bpr];
                for (int r0 = 0; r0 < rows; r0 += step) {
                    int nr = Math.min(step, rows - r0);
                    Kernels.quantizeInt8(w, r0, nr, cols, qb, sb); // PackedMatrix's quantisation
                    MemorySegment.copy(qb, 0, q, SegmentKernels.I8, (long) r0 * cols, nr * cols);
                    MemorySegment.copy(sb, 0, scales, SegmentKernels.F32, 4L * r0 * bpr, nr * bpr);
                }
                yield new SegmentMatrix.Int8Matrix(q, scales, rows, cols);
            }
        };
    }

    @Override
    public PackedMatrix map(Path file, long offset, int rows, int cols, WeightType type) throws IOException {
        long bytes = storedBytes(file, offset, rows, cols, type);
        checkOpen();
        MemorySegment s;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            // The mapping outlives the channel: it belongs to the arena and ends when it closes.
            s = ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes, arena);
        }
        mapped.addAndGet(bytes);
        return matrix(s, rows, cols, type);
    }

    @Override
    public PackedMatrix copy(Path file, long offset, int rows, int cols, WeightType type) throws IOException {
        long bytes = storedBytes(file, offset, rows, cols, type);
        checkOpen();
        MemorySegment s = allocate(bytes);
        // Read straight into the store's memory: the kernel copies from the page cache, no heap
        // buffer and no mapping (whose page faults, one per 4 KiB, made copying from a mapping
        // slower). A ByteBuffer view holds at most 2 GiB, so large matrices go in slices.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long done = 0; done < bytes; ) {
                ByteBuffer dst = s.asSlice(done, Math.min(READ_SLICE, bytes - done)).asByteBuffer();
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, offset + done + dst.position());
                    if (n < 0) {
                        throw new EOFException(file + " ends inside the " + bytes + " bytes at " + offset);
                    }
                }
                done += dst.capacity();
            }
        }
        return matrix(s, rows, cols, type);
    }

    /** The byte size of a stored f32/bf16 matrix, after checking the arguments. */
    private static long storedBytes(Path file, long offset, int rows, int cols, WeightType type) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(type, "type");
        if (rows < 0 || cols < 0 || offset < 0) {
            throw new IllegalArgumentException("bad region: " + rows + " x " + cols + " at " + offset);
        }
        return switch (type) {
            case F32 -> 4L * rows * cols;
            case BF16 -> 2L * rows * cols;
            case INT8 -> throw new IllegalArgumentException("int8 blocks are never stored in a checkpoint: pack them");
        };
    }

    private static PackedMatrix matrix(MemorySegment s, int rows, int cols, WeightType type) {
        return type == WeightType.F32 ? new SegmentMatrix.F32(s, rows, cols) : new SegmentMatrix.Bf16Matrix(s, rows, cols);
    }

    private MemorySegment allocate(long bytes) {
        MemorySegment s = arena.allocate(bytes, ALIGN);
        allocated.addAndGet(bytes);
        return s;
    }

    private void checkOpen() {
        if (!open.get()) {
            throw new IllegalStateException("this off-heap weight store is closed");
        }
    }

    @Override
    public long allocatedBytes() {
        return allocated.get();
    }

    @Override
    public long mappedBytes() {
        return mapped.get();
    }

    @Override
    public boolean isOpen() {
        return open.get();
    }

    @Override
    public void close() {
        if (open.compareAndSet(true, false)) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SegmentStore[" + (isOpen() ? "open" : "closed") + ", " + allocated.get() + " bytes allocated, "
                + mapped.get() + " bytes mapped]";
    }
}
