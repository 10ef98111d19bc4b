package org.jmamba.io.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jmamba.FloatTensor;
import org.jmamba.io.AtomicFiles;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.DType;
import org.jmamba.io.HalfFloats;
import org.jmamba.io.TensorCodec;

/**
 * Collects named tensors and writes them as one safetensors file, atomically.
 *
 * <p>Arrays are referenced, not copied, until {@link #write}: do not modify them in between.
 * Tensors are written in the order added, densely packed; the header is padded with spaces to a
 * multiple of 8 bytes so that 8-byte elements stay aligned. Narrowing to F16/BF16 rounds to nearest
 * even; F64 from floats is exact.
 *
 * <pre>{@code
 * new SafetensorsWriter().metadata("format", "pt")
 *         .add("w", tensor)                       // F32
 *         .addFloats("w16", DType.BF16, data, 3, 4)
 *         .write(path);
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Pending(String name, DType dtype, int[] shape, int numel, Object data) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter metadata(Map<String, String> entries) {
        metadata.putAll(entries);
        return this;
    }

    /** Adds {@code t} as F32. */
    public SafetensorsWriter add(String name, FloatTensor t) {
        return addFloats(name, DType.F32, t.data(), t.shape());
    }

    /** Adds {@code t} stored as {@code dtype} (F32, F16, BF16 or F64). */
    public SafetensorsWriter add(String name, FloatTensor t, DType dtype) {
        return addFloats(name, dtype, t.data(), t.shape());
    }

    /** Adds floats stored as {@code dtype}: F32, F64 (exact), F16 or BF16 (round to nearest even). */
    public SafetensorsWriter addFloats(String name, DType dtype, float[] data, int... shape) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot store floats as " + dtype);
        }
        return put(name, dtype, shape, data.length, data);
    }

    /** Adds doubles stored as {@code dtype}: F64 (exact), or F32/F16/BF16 (rounded to nearest even). */
    public SafetensorsWriter addDoubles(String name, DType dtype, double[] data, int... shape) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot store doubles as " + dtype);
        }
        return put(name, dtype, shape, data.length, data);
    }

    /** Adds longs as I64. */
    public SafetensorsWriter addLongs(String name, long[] data, int... shape) {
        return put(name, DType.I64, shape, data.length, data);
    }

    /** Adds ints as I32. */
    public SafetensorsWriter addInts(String name, int[] data, int... shape) {
        return put(name, DType.I32, shape, data.length, data);
    }

    private SafetensorsWriter put(String name, DType dtype, int[] shape, int length, Object data) {
        if (name == null || name.isEmpty() || name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name '" + name + "'");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        long n = FloatTensor.numel(shape);
        if (n != length) {
            names.remove(name);
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but the data has " + length);
        }
        tensors.add(new Pending(name, dtype, shape.clone(), length, data));
        return this;
    }

    /** Writes the file atomically (temp file in the same directory, fsync, rename). */
    public void write(Path target) {
        byte[] header = headerBytes(target);
        AtomicFiles.write(target, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            out.write(len.array());
            out.write(header);
            for (Pending p : tensors) {
                writeData(out, p);
            }
        });
    }

    private byte[] headerBytes(Path target) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Pending p : tensors) {
            ObjectNode e = root.putObject(p.name());
            e.put("dtype", p.dtype().safetensorsName());
            ArrayNode s = e.putArray("shape");
            for (int d : p.shape()) {
                s.add(d);
            }
            long bytes = (long) p.numel() * p.dtype().byteSize();
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(target, "cannot encode the header: " + e.getOriginalMessage(), e);
        }
        int padded = (json.length + 7) & ~7;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new CheckpointException(target, "header of " + padded + " bytes exceeds the format's limit");
        }
        byte[] h = Arrays.copyOf(json, padded);
        Arrays.fill(h, json.length, padded, (byte) ' ');
        return h;
    }

    private static void writeData(OutputStream out, Pending p) throws IOException {
        int n = p.numel();
        DType t = p.dtype();
        int size = t.byteSize();
        if (p.data() instanceof float[] f) {
            switch (t) {
                case F32 -> TensorCodec.encode(out, n, size, (bb, from, c) -> bb.asFloatBuffer().put(f, from, c));
                case F64 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putDouble(8 * i, f[from + i]);
                    }
                });
                case F16 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putShort(2 * i, HalfFloats.floatToF16(f[from + i]));
                    }
                });
                case BF16 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putShort(2 * i, HalfFloats.floatToBf16(f[from + i]));
                    }
                });
                default -> throw new IllegalStateException(t.toString());
            }
        } else if (p.data() instanceof double[] d) {
            switch (t) {
                case F64 -> TensorCodec.encode(out, n, size, (bb, from, c) -> bb.asDoubleBuffer().put(d, from, c));
                case F32 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putFloat(4 * i, (float) d[from + i]);
                    }
                });
                // Through fp32 first would round twice; the exact fp64 -> narrow rounding is done
                // by picking the nearest of the two fp32-rounded neighbours' encodings.
                case F16 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putShort(2 * i, Float.floatToFloat16(roundToOddFloat(d[from + i])));
                    }
                });
                case BF16 -> TensorCodec.encode(out, n, size, (bb, from, c) -> {
                    for (int i = 0; i < c; i++) {
                        bb.putShort(2 * i, HalfFloats.floatToBf16(roundToOddFloat(d[from + i])));
                    }
                });
                default -> throw new IllegalStateException(t.toString());
            }
        } else if (p.data() instanceof long[] l) {
            TensorCodec.encode(out, n, size, (bb, from, c) -> bb.asLongBuffer().put(l, from, c));
        } else if (p.data() instanceof int[] a) {
            TensorCodec.encode(out, n, size, (bb, from, c) -> bb.asIntBuffer().put(a, from, c));
        } else {
            throw new IllegalStateException("unexpected data " + p.data().getClass());
        }
    }

    /**
     * fp64 -> fp32 with round-to-odd: truncate, and set the last bit if anything was dropped.
     * A further round-to-nearest-even to a format at least 2 bits narrower (bf16, f16) then gives
     * exactly the correctly rounded result of the fp64 value, avoiding double-rounding errors.
     */
    static float roundToOddFloat(double d) {
        float f = (float) d;
        if (Double.isNaN(d) || Float.isInfinite(f) || (double) f == d) {
            return f;
        }
        // (float) d rounded to nearest; step toward zero if it went away from zero, then mark inexact.
        if (Math.abs((double) f) > Math.abs(d)) {
            f = Math.nextAfter(f, 0.0);
        }
        int bits = Float.floatToRawIntBits(f) | 1;
        return Float.intBitsToFloat(bits);
    }
}
