package org.jmamba.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jmamba.FloatTensor;
import org.jmamba.io.Bf16Twin;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.DType;
import org.jmamba.io.HalfFloats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private final SplittableRandom rnd = new SplittableRandom(42);

    private float[] randomFloats(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextDouble(-8, 8)));
        }
        return a;
    }

    @Test
    void everyDtypeRoundTrips() {
        float[] f32 = randomFloats(3 * 5 * 7);
        float[] f16src = randomFloats(40);
        float[] bf16src = randomFloats(41);
        double[] f64 = new double[33];
        long[] i64 = new long[17];
        int[] i32 = new int[19];
        for (int i = 0; i < f64.length; i++) {
            f64[i] = rnd.nextGaussian() * 1e5;
        }
        for (int i = 0; i < i64.length; i++) {
            i64[i] = rnd.nextLong();
        }
        for (int i = 0; i < i32.length; i++) {
            i32[i] = rnd.nextInt();
        }
        Path p = dir.resolve("all.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt").metadata(Map.of("note", "üñí"))
                .addFloats("f32", DType.F32, f32, 3, 5, 7)
                .addFloats("f16", DType.F16, f16src, 40)
                .addFloats("bf16", DType.BF16, bf16src, 41)
                .addDoubles("f64", DType.F64, f64, 3, 11)
                .addLongs("i64", i64, 17)
                .addInts("i32", i32, 19, 1)
                .addFloats("scalar", DType.F32, new float[] {2.5f})
                .addFloats("empty", DType.F32, new float[0], 0, 4)
                .write(p);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("f32", "f16", "bf16", "f64", "i64", "i32", "scalar", "empty"), f.names());
            assertEquals("pt", f.metadata().get("format"));
            assertEquals("üñí", f.metadata().get("note"));
            assertEquals(DType.BF16, f.info("bf16").dtype());
            assertArrayEquals(new long[] {3, 5, 7}, f.info("f32").shape());
            assertArrayEquals(new long[] {}, f.info("scalar").shape());

            assertArrayEquals(f32, f.readFloats("f32"));
            FloatTensor t = f.readFloatTensor("f32");
            assertTrue(t.hasShape(3, 5, 7));
            double[] asDoubles = f.readDoubles("f32");
            for (int i = 0; i < f32.length; i++) {
                assertEquals(f32[i], asDoubles[i], 0.0);
            }
            float[] h = f.readFloats("f16");
            for (int i = 0; i < h.length; i++) {
                assertEquals(Bf16Twin.f16Value(Bf16Twin.roundToF16(f16src[i])), h[i], 0.0, "f16 " + i);
            }
            float[] b = f.readFloats("bf16");
            for (int i = 0; i < b.length; i++) {
                assertEquals(Bf16Twin.bf16Value(Bf16Twin.roundToBf16(bf16src[i])), b[i], 0.0, "bf16 " + i);
            }
            assertArrayEquals(f64, f.readDoubles("f64"));
            float[] f64AsFloat = f.readFloats("f64");
            for (int i = 0; i < f64.length; i++) {
                assertEquals((float) f64[i], f64AsFloat[i]);
            }
            assertArrayEquals(i64, f.readLongs("i64"));
            assertArrayEquals(i32, f.readInts("i32"));
            long[] i32AsLong = f.readLongs("i32");
            for (int i = 0; i < i32.length; i++) {
                assertEquals(i32[i], i32AsLong[i]);
            }
            assertArrayEquals(new float[] {2.5f}, f.readFloats("scalar"));
            assertEquals(0, f.readFloats("empty").length);

            CheckpointException e = assertThrows(CheckpointException.class, () -> f.readFloats("i64"));
            assertTrue(e.getMessage().contains("'i64'") && e.getMessage().contains("all.safetensors"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> f.readInts("i64"));
            assertTrue(e.getMessage().contains("does not fit an int"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> f.info("nope"));
            assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    @Test
    void fileLayoutFollowsTheSpec() throws IOException {
        Path p = dir.resolve("layout.safetensors");
        new SafetensorsWriter().addFloats("a", DType.F32, new float[] {1f, -2f}, 2).write(p);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        assertEquals(8 + n + 8, bytes.length);
        String json = new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8).strip();
        assertEquals("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", json);
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), 8).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.getFloat());
        assertEquals(-2f, data.getFloat());
    }

    @Test
    void doublesNarrowWithOneCorrectRounding() {
        // Rounding fp64 -> fp32 -> bf16 could round twice; the writer must round once, exactly.
        int n = 20_000;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            double base = HalfFloats.bf16ToFloat((short) rnd.nextInt(0x7f00));
            // near a bf16 tie: half an ulp of bf16 up plus a tiny fp64-only perturbation
            double ulp = Math.ulp((float) base) * 65536.0;
            d[i] = i % 2 == 0 ? base + ulp / 2 + (rnd.nextBoolean() ? 1 : -1) * ulp * 1e-12
                    : rnd.nextGaussian() * Math.exp(rnd.nextDouble(-20, 20));
        }
        Path p = dir.resolve("d.safetensors");
        new SafetensorsWriter().addDoubles("b", DType.BF16, d, n).addDoubles("h", DType.F16, d, n)
                .addDoubles("f", DType.F32, d, n).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] b = f.readFloats("b");
            float[] h = f.readFloats("h");
            float[] s = f.readFloats("f");
            for (int i = 0; i < n; i++) {
                assertEquals(Bf16Twin.bf16Value(Bf16Twin.roundToBf16(d[i])), b[i], 0.0, "bf16 of " + new BigDecimal(d[i]));
                assertEquals(Bf16Twin.f16Value(Bf16Twin.roundToF16(d[i])), h[i], 0.0, "f16 of " + d[i]);
                assertEquals((float) d[i], s[i]);
            }
        }
    }

    @Test
    void readsAcrossMappingChunkBoundaries() {
        float[] a = randomFloats(1000);
        double[] b = new double[333];
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextDouble();
        }
        Path p = dir.resolve("chunks.safetensors");
        new SafetensorsWriter().addFloats("a", DType.F32, a, 1000).addFloats("odd", DType.BF16, randomFloats(3), 3)
                .addDoubles("b", DType.F64, b, 333).write(p);
        for (long chunk : new long[] {7, 64, 4093}) { // 7: elements straddle every boundary
            try (SafetensorsFile f = SafetensorsFile.open(p, chunk)) {
                assertArrayEquals(a, f.readFloats("a"), "chunk " + chunk);
                assertArrayEquals(b, f.readDoubles("b"), "chunk " + chunk);
            }
        }
    }

    @Test
    void writerRejectsBadArguments() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("a", DType.F32, new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("a", DType.F32, new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("b", DType.F32, new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("c", DType.I32, new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("__metadata__", DType.F32, new float[1], 1));
    }
}
