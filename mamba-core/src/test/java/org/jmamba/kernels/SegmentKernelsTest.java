package org.jmamba.kernels;

import static org.jmamba.kernels.KernelTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The off-heap (segment) kernels against their array twins in {@link VectorGemm} and
 * {@link VectorQuantised}, bit for bit, on fresh random shapes: odd sizes, tails shorter than a
 * vector, {@code K = 48} (dt_proj: a block and a half of int8), K beyond one k chunk of the f32
 * kernel, 1, 2, 3 and up to {@link Kernels#FEW_ROWS} rows of input (the fused kernels) and more (the
 * panel product through a segment {@link PanelSource}). Then the matrices of a {@link SegmentStore},
 * packed and mapped, against heap {@link PackedMatrix}es of the same weights, and what a closed
 * store does.
 *
 * <p>If this fails after a change to VectorQuantised's bf16 or int8 kernels (or VectorGemm's
 * few-row f32 product), SegmentKernels has to follow it (see its class comment).
 */
class SegmentKernelsTest {
    private final long seed = System.nanoTime();
    private final Random r = new Random(seed);
    private Arena arena;

    @BeforeEach
    void open() {
        assumeTrue(OffHeapMatrices.available(), "off-heap weights unavailable: " + OffHeapMatrices.unavailableReason());
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        if (arena != null) {
            arena.close();
        }
    }

    private String ctx(String s) {
        return s + " (seed " + seed + ", " + VectorLanes.LANES + " lanes)";
    }

    /** K values that matter: 48, whole int8 blocks, a block and a bit, odd, short, and more than one f32 k chunk. */
    private int randomK(int trial) {
        return switch (trial % 6) {
            case 0 -> 48;
            case 1 -> 32 * (1 + r.nextInt(6));
            case 2 -> 32 * r.nextInt(6) + 8 * (1 + r.nextInt(3));
            case 3 -> 1 + r.nextInt(7);
            case 4 -> VectorGemm.NT_KC + 1 + r.nextInt(300); // two k chunks in the f32 few-row kernel
            default -> 1 + r.nextInt(200);
        };
    }

    private MemorySegment f32Segment(float[] w) {
        MemorySegment s = arena.allocate(4L * w.length + 3).asSlice(3); // unaligned on purpose
        MemorySegment.copy(w, 0, s, SegmentKernels.F32, 0, w.length);
        return s;
    }

    private MemorySegment bf16Segment(short[] w) {
        MemorySegment s = arena.allocate(2L * w.length + 1).asSlice(1);
        MemorySegment.copy(w, 0, s, SegmentKernels.S16, 0, w.length);
        return s;
    }

    private MemorySegment int8Segment(byte[] q) {
        MemorySegment s = arena.allocate(q.length + 5L).asSlice(5);
        MemorySegment.copy(q, 0, s, SegmentKernels.I8, 0, q.length);
        return s;
    }

    @Test
    void fusedProductsAreBitEqualToTheArrayKernels() {
        for (int trial = 0; trial < 60; trial++) {
            int M = trial < 3 ? trial + 1 : 1 + r.nextInt(Kernels.FEW_ROWS);
            int N = 1 + r.nextInt(41);
            int K = randomK(trial);
            float[] w = randn(r, N * K, 0.5f);
            short[] bf = new short[w.length];
            Bf16.fromFloats(w, 0, bf, 0, w.length);
            byte[] q = new byte[w.length];
            float[] scales = new float[N * Int8Blocks.blocksPerRow(K)];
            Int8Blocks.quantize(w, N, K, q, scales);
            MemorySegment ws = f32Segment(w), bs = bf16Segment(bf), qs = int8Segment(q), ss = f32Segment(scales);

            int lda = K + r.nextInt(3);
            float[] a = randn(r, M * lda + 2, 1f);
            float[] bias = r.nextBoolean() ? randn(r, N, 1f) : null;
            boolean acc = r.nextBoolean();
            int ldc = N + r.nextInt(2);
            float[] init = randn(r, M * ldc + 1, 1f);
            int n0 = r.nextInt(N), n1 = n0 + 1 + r.nextInt(N - n0);
            String shape = M + "x[" + n0 + "," + n1 + ")/" + N + "x" + K + (bias != null ? " bias" : "") + (acc ? " acc" : "");

            float[] want = init.clone(), got = init.clone();
            VectorGemm.gemmNT(a, 2, lda, w, 0, K, want, 1, ldc, bias, acc, 0, M, n0, n1, K);
            SegmentKernels.gemmNT(a, 2, lda, ws, K, got, 1, ldc, bias, acc, 0, M, n0, n1, K);
            assertArrayEquals(want, got, ctx("f32 " + shape));

            want = init.clone();
            got = init.clone();
            VectorQuantised.bf16NT(a, 2, lda, bf, K, want, 1, ldc, bias, acc, 0, M, n0, n1, K);
            SegmentKernels.bf16NT(a, 2, lda, bs, K, got, 1, ldc, bias, acc, 0, M, n0, n1, K);
            assertArrayEquals(want, got, ctx("bf16 " + shape));

            want = init.clone();
            got = init.clone();
            VectorQuantised.int8NT(a, 2, lda, q, scales, want, 1, ldc, bias, acc, 0, M, n0, n1, K);
            SegmentKernels.int8NT(a, 2, lda, qs, ss, got, 1, ldc, bias, acc, 0, M, n0, n1, K);
            assertArrayEquals(want, got, ctx("int8 " + shape));
        }
    }

    @Test
    void shortInt8RowsGiveEveryRowTheBitsItGetsAlone() {
        // Off the heap as on it (VectorKernelsTest): dt_proj-like rows, which the array kernel takes
        // 16 at a time at 16 lanes (K = 32 and 48) and the segment kernel four at a time.
        int[] ks = {16, 32, 48, 64, 96, 160};
        for (int trial = 0; trial < 18; trial++) {
            int K = ks[trial % ks.length];
            int N = 16 + r.nextInt(60), n0 = r.nextInt(3);
            float[] w = randn(r, N * K, 0.5f);
            byte[] q = new byte[w.length];
            float[] scales = new float[N * Int8Blocks.blocksPerRow(K)];
            Int8Blocks.quantize(w, N, K, q, scales);
            MemorySegment qs = int8Segment(q), ss = f32Segment(scales);
            float[] a = randn(r, K, 1f);
            float[] range = new float[N], alone = new float[N];
            SegmentKernels.int8NT(a, 0, K, qs, ss, range, 0, N, null, false, 0, 1, n0, N, K);
            for (int n = n0; n < N; n++) {
                VectorQuantised.int8NT(a, 0, K, q, scales, alone, 0, N, null, false, 0, 1, n, n + 1, K);
            }
            assertArrayEquals(alone, range, ctx("int8 [" + n0 + "," + N + ")x" + K));
        }
    }

    @Test
    void segmentPanelSourcesPackWhatTheArrayOnesPack() {
        for (int trial = 0; trial < 20; trial++) {
            int N = 1 + r.nextInt(60), K = randomK(trial) % 400 + 1;
            float[] w = randn(r, N * K, 1f);
            short[] bf = new short[w.length];
            Bf16.fromFloats(w, 0, bf, 0, w.length);
            byte[] q = new byte[w.length];
            float[] scales = new float[N * Int8Blocks.blocksPerRow(K)];
            Int8Blocks.quantize(w, N, K, q, scales);
            int n0 = r.nextInt(N), nl = 1 + r.nextInt(N - n0);
            int k0 = r.nextInt(K), kl = 1 + r.nextInt(K - k0);
            int ld = nl + r.nextInt(4);
            PanelSource[][] pairs = {
                    {PanelSource.f32(w, 0, K), SegmentKernels.f32Panels(f32Segment(w), K)},
                    {PanelSource.bf16(bf, K), SegmentKernels.bf16Panels(bf16Segment(bf), K)},
                    {PanelSource.int8(q, scales, K), SegmentKernels.int8Panels(int8Segment(q), f32Segment(scales), K)}};
            for (int t = 0; t < pairs.length; t++) {
                float[] want = new float[kl * ld], got = new float[kl * ld];
                pairs[t][0].packTransposed(n0, nl, k0, kl, want, ld);
                pairs[t][1].packTransposed(n0, nl, k0, kl, got, ld);
                assertArrayEquals(want, got, ctx("panel of type " + t + ", " + N + "x" + K));
                // the row form: the same values, row by row, from either source
                int off = r.nextInt(3), ldr = kl + r.nextInt(3);
                float[] rowsWant = new float[off + nl * ldr], rowsGot = new float[off + nl * ldr];
                pairs[t][0].widenRows(n0, nl, k0, kl, rowsWant, off, ldr);
                pairs[t][1].widenRows(n0, nl, k0, kl, rowsGot, off, ldr);
                assertArrayEquals(rowsWant, rowsGot, ctx("rows of type " + t + ", " + N + "x" + K));
                for (int j = 0; j < nl; j++) {
                    for (int k = 0; k < kl; k++) {
                        assertEquals(want[k * ld + j], rowsGot[off + j * ldr + k], ctx("rows vs panel of type " + t));
                    }
                }
                // and the SIMD product's packing through the rows gives the scalar panel, for the
                // first PK_KC columns (a panel has at most that many; row k of it depends on k only)
                int kp = Math.min(kl, VectorGemm.PK_KC);
                float[] simd = new float[kp * ld + Kernels.PANEL_SCRATCH_FLOATS];
                VectorGemm.packPanel(pairs[t][1], n0, nl, k0, kp, simd, ld, kp * ld);
                assertArrayEquals(java.util.Arrays.copyOf(want, kp * ld), java.util.Arrays.copyOf(simd, kp * ld),
                        ctx("packPanel of type " + t + ", " + N + "x" + K + " cols " + k0 + "+" + kp));
            }
        }
    }

    @Test
    void storeMatricesComputeTheBitsOfHeapMatricesOnBothPaths() {
        try (OffHeapMatrices store = OffHeapMatrices.open()) {
            for (WeightType type : WeightType.values()) {
                for (int trial = 0; trial < 12; trial++) {
                    int rows = 1 + r.nextInt(70);
                    int cols = trial % 4 == 0 ? 48 : randomK(trial) % 300 + 1;
                    // 1, 2, 3 rows and up to fusedMaxRows: fused; above: the panel product
                    int fused = PackedMatrix.fusedMaxRows(type);
                    int M = trial < 3 ? trial + 1 : trial % 2 == 0 ? 1 + r.nextInt(fused) : fused + 1 + r.nextInt(30);
                    float[] w = randn(r, rows * cols, 0.3f);
                    PackedMatrix heap = PackedMatrix.pack(w, rows, cols, type);
                    PackedMatrix off = store.pack(w, rows, cols, type);
                    assertEquals(heap.type(), off.type());
                    assertEquals(heap.bytes(), off.bytes());
                    assertEquals(heap.scratchFloats(M), off.scratchFloats(M));
                    float[] in = randn(r, M * cols + 2, 1f);
                    float[] bias = r.nextBoolean() ? randn(r, rows, 1f) : null;
                    int n0 = rows > 3 ? 1 : 0;
                    float[] want = new float[M * rows + 1], got = new float[M * rows + 1];
                    heap.multiply(in, 2, cols, want, 1, rows, bias, 0, M, n0, rows, null);
                    off.multiply(in, 2, cols, got, 1, rows, bias, 0, M, n0, rows,
                            r.nextBoolean() ? null : new float[off.scratchFloats(M)]);
                    assertArrayEquals(want, got, ctx(type + " " + M + "x" + rows + "x" + cols));
                    int n = r.nextInt(rows);
                    float[] rowWant = new float[cols + 1], rowGot = new float[cols + 1];
                    heap.row(n, rowWant, 1);
                    off.row(n, rowGot, 1);
                    assertArrayEquals(rowWant, rowGot, ctx(type + " row " + n));
                }
            }
            assertTrue(store.allocatedBytes() > 0);
            assertEquals(0, store.mappedBytes());
        }
    }

    /**
     * Mapped ({@code map}) or copied into aligned native memory ({@code copy}): the file's bytes, the
     * heap's bits. The kernels address a mapping through offsets and native memory through a slice
     * per row (SegmentKernels.nt1x4), so both forms run here on shapes with vector tails, short rows
     * and two k chunks of the f32 kernel.
     */
    @Test
    void mappedAndCopiedMatricesReadTheFileAsStoredEvenUnaligned(@TempDir Path dir) throws IOException {
        int[][] shapes = {{13, 37}, {9, 48}, {5, VectorGemm.NT_KC + 5}, {1 + r.nextInt(40), 1 + r.nextInt(300)}};
        for (int[] shape : shapes) {
            mappedAndCopiedMatricesReadTheFileAsStored(dir, shape[0], shape[1]);
        }
    }

    private void mappedAndCopiedMatricesReadTheFileAsStored(Path dir, int rows, int cols) throws IOException {
        int offset = 7; // an odd offset: unaligned loads
        float[] w = randn(r, rows * cols, 1f);
        short[] bf = new short[w.length];
        Bf16.fromFloats(w, 0, bf, 0, w.length);
        ByteBuffer b = ByteBuffer.allocate(offset + 4 * w.length + 2 * bf.length).order(ByteOrder.LITTLE_ENDIAN);
        b.position(offset);
        for (float v : w) {
            b.putFloat(v);
        }
        for (short v : bf) {
            b.putShort(v);
        }
        Path file = dir.resolve("weights.bin");
        Files.write(file, b.array());
        for (boolean map : new boolean[] {true, false}) {
            try (OffHeapMatrices store = OffHeapMatrices.open()) {
                PackedMatrix f32 = map ? store.map(file, offset, rows, cols, WeightType.F32)
                        : store.copy(file, offset, rows, cols, WeightType.F32);
                PackedMatrix b16 = map ? store.map(file, offset + 4L * w.length, rows, cols, WeightType.BF16)
                        : store.copy(file, offset + 4L * w.length, rows, cols, WeightType.BF16);
                assertEquals(map ? 4L * w.length + 2L * bf.length : 0, store.mappedBytes());
                assertEquals(map ? 0 : 4L * w.length + 2L * bf.length, store.allocatedBytes());
                for (WeightType type : new WeightType[] {WeightType.F32, WeightType.BF16}) {
                    PackedMatrix heap = PackedMatrix.pack(w, rows, cols, type);
                    PackedMatrix off = type == WeightType.F32 ? f32 : b16;
                    for (int M : new int[] {1, 2, 3, 40}) {
                        float[] in = randn(r, M * cols, 1f);
                        float[] want = new float[M * rows], got = new float[M * rows];
                        heap.multiply(in, 0, cols, want, 0, rows, null, 0, M, 0, rows, null);
                        off.multiply(in, 0, cols, got, 0, rows, null, 0, M, 0, rows, null);
                        assertArrayEquals(want, got, ctx((map ? "mapped " : "copied ") + type + " " + rows + "x" + cols + " M=" + M));
                    }
                }
                assertThrows(IllegalArgumentException.class, () -> store.map(file, 0, 1, 1, WeightType.INT8));
                assertThrows(IllegalArgumentException.class, () -> store.copy(file, 0, 1, 1, WeightType.INT8));
            }
        }
    }

    @Test
    void aClosedStoreFreesItsMatricesAndRefusesToBeUsed() {
        OffHeapMatrices store = OffHeapMatrices.open();
        float[] w = randn(r, 6 * 40, 1f);
        PackedMatrix m = store.pack(w, 6, 40, WeightType.INT8);
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, () -> m.update(w));
        assertTrue(u.getMessage().contains("read-only"), u.getMessage());
        assertTrue(store.isOpen());
        store.close();
        store.close(); // idempotent
        assertFalse(store.isOpen());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.multiply(new float[40], 0, 40, new float[6], 0, 6, null, 0, 1, 0, 6, null));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> m.row(0, new float[40], 0));
        assertThrows(IllegalStateException.class, () -> store.pack(w, 6, 40, WeightType.F32));
    }

    @Test
    void badArgumentsAreRejected() {
        try (OffHeapMatrices store = OffHeapMatrices.open()) {
            assertThrows(IllegalArgumentException.class, () -> store.pack(new float[10], 3, 4, WeightType.BF16));
            PackedMatrix p = store.pack(new float[12], 3, 4, WeightType.F32);
            assertThrows(IndexOutOfBoundsException.class,
                    () -> p.multiply(new float[4], 0, 4, new float[4], 0, 4, null, 0, 1, 0, 4, null));
            assertThrows(IndexOutOfBoundsException.class, () -> p.row(3, new float[4], 0));
        }
    }
}
