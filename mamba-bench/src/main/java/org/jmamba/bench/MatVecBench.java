package org.jmamba.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jmamba.kernels.Bf16;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One matrix-vector product (a decode step's kind of product: one input row) on one thread, per
 * weight type, with the matrix either in cache or far larger than the caches. In cache the rate is
 * what the kernel can compute (widening and multiplying), from memory what it can stream; a
 * weight type whose in-cache rate is below the memory bandwidth cannot reach the bandwidth floor
 * whatever the memory does.
 *
 * <p>Weight bytes per product ({@link PackedMatrix#bytes()}): {@code cache} is 256 × 768
 * (f32 786,432; bf16 393,216; int8 221,184 with its scales), {@code memory} is 65,536 × 1,024
 * (f32 268,435,456; bf16 134,217,728; int8 75,497,472). GB/s = bytes / (score in µs) / 1000.
 * Compare with {@code BandwidthBench -p threads=1} run in the same command.
 *
 * <p>{@code memory} says where W lives: {@code heap} (Java arrays), {@code native} (copied into
 * native memory of an {@link OffHeapMatrices} store) or {@code mapped} (written to a temporary file
 * little-endian and mapped from it, as a loaded f32/bf16 checkpoint is; int8 has no mapped form and
 * is skipped there). The off-heap forms need Java 22+; elsewhere they are skipped.
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks.jar "MatVecBench|BandwidthBench" -p threads=1 -f 1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class MatVecBench {
    @Param({"f32", "bf16", "int8"})
    public String dtype;

    @Param({"cache", "memory"})
    public String footprint;

    @Param({"heap", "native", "mapped"})
    public String memory;

    private PackedMatrix w;
    private OffHeapMatrices store;
    private Path file;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        int rows = footprint.equals("cache") ? 256 : 65_536;
        int cols = footprint.equals("cache") ? 768 : 1_024;
        Random r = new Random(1);
        float[] master = new float[rows * cols];
        for (int i = 0; i < master.length; i++) {
            master[i] = (float) r.nextGaussian() * 0.02f;
        }
        WeightType type = WeightType.parse(dtype);
        switch (memory) {
            case "heap" -> w = PackedMatrix.pack(master, rows, cols, type);
            case "native" -> w = offHeapStore().pack(master, rows, cols, type);
            case "mapped" -> {
                if (type == WeightType.INT8) {
                    throw new IllegalStateException("skipped: int8 has no mapped form (no checkpoint stores it)");
                }
                file = Files.createTempFile("jmamba-matvec", ".bin");
                Files.write(file, littleEndian(master, type));
                w = offHeapStore().map(file, 0, rows, cols, type);
            }
            default -> throw new IllegalArgumentException("memory: " + memory);
        }
        x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) r.nextGaussian();
        }
        y = new float[rows];
    }

    private OffHeapMatrices offHeapStore() {
        if (!OffHeapMatrices.available()) {
            throw new IllegalStateException("skipped: " + OffHeapMatrices.unavailableReason());
        }
        store = OffHeapMatrices.open();
        return store;
    }

    /** The matrix as a checkpoint stores it: f32, or bf16 bit patterns rounded as PackedMatrix rounds them. */
    private static byte[] littleEndian(float[] w, WeightType type) {
        ByteBuffer b = ByteBuffer.allocate(w.length * (type == WeightType.F32 ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            if (type == WeightType.F32) {
                b.putFloat(v);
            } else {
                b.putShort(Bf16.fromFloat(v));
            }
        }
        return b.array();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (store != null) {
            store.close();
        }
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Benchmark
    public float product() {
        w.multiply(x, 0, x.length, y, 0, y.length, null, 0, 1, 0, w.rows(), null);
        return y[0];
    }
}
