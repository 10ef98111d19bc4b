package org.jmamba.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Decodes and encodes little-endian tensor bytes. Streams through a bounded buffer so a tensor of
 * any size never needs a second full-size copy in the heap.
 */
public final class TensorCodec {
    /** Bytes converted per step; a multiple of every element size. */
    static final int BLOCK = 1 << 20;

    private TensorCodec() {
    }

    private interface BlockDecoder {
        /** Decodes {@code count} elements from {@code bb} (positioned at 0) into the output at {@code dstOff}. */
        void decode(ByteBuffer bb, int dstOff, int count);
    }

    private static void stream(InputStream in, DType dtype, int n, Path file, String name, BlockDecoder d)
            throws IOException {
        int size = dtype.byteSize();
        byte[] buf = new byte[(int) Math.min(BLOCK, Math.max(size, (long) n * size))];
        int perBlock = buf.length / size;
        int done = 0;
        while (done < n) {
            int count = Math.min(perBlock, n - done);
            int bytes = count * size;
            int got = in.readNBytes(buf, 0, bytes);
            if (got != bytes) {
                throw CheckpointException.tensor(file, name, "data ends early: expected "
                        + ((long) n * size) + " bytes, got " + ((long) done * size + got));
            }
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
            d.decode(bb, done, count);
            done += count;
        }
    }

    static void decodeFloats(InputStream in, DType dtype, float[] out, Path file, String name) throws IOException {
        BlockDecoder d = switch (dtype) {
            case F32 -> (bb, off, c) -> bb.asFloatBuffer().get(out, off, c);
            case F64 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = (float) bb.getDouble(8 * i);
                }
            };
            case F16 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = HalfFloats.f16ToFloat(bb.getShort(2 * i));
                }
            };
            case BF16 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = HalfFloats.bf16ToFloat(bb.getShort(2 * i));
                }
            };
            default -> throw CheckpointException.tensor(file, name, "dtype " + dtype + " is not a floating-point type");
        };
        stream(in, dtype, out.length, file, name, d);
    }

    static void decodeDoubles(InputStream in, DType dtype, double[] out, Path file, String name) throws IOException {
        BlockDecoder d = switch (dtype) {
            case F64 -> (bb, off, c) -> bb.asDoubleBuffer().get(out, off, c);
            case F32 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = bb.getFloat(4 * i);
                }
            };
            case F16 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = HalfFloats.f16ToFloat(bb.getShort(2 * i));
                }
            };
            case BF16 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = HalfFloats.bf16ToFloat(bb.getShort(2 * i));
                }
            };
            default -> throw CheckpointException.tensor(file, name, "dtype " + dtype + " is not a floating-point type");
        };
        stream(in, dtype, out.length, file, name, d);
    }

    static void decodeLongs(InputStream in, DType dtype, long[] out, Path file, String name) throws IOException {
        BlockDecoder d = switch (dtype) {
            case I64 -> (bb, off, c) -> bb.asLongBuffer().get(out, off, c);
            case I32 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    out[off + i] = bb.getInt(4 * i);
                }
            };
            default -> throw CheckpointException.tensor(file, name, "dtype " + dtype + " is not an integer type");
        };
        stream(in, dtype, out.length, file, name, d);
    }

    static void decodeInts(InputStream in, DType dtype, int[] out, Path file, String name) throws IOException {
        BlockDecoder d = switch (dtype) {
            case I32 -> (bb, off, c) -> bb.asIntBuffer().get(out, off, c);
            case I64 -> (bb, off, c) -> {
                for (int i = 0; i < c; i++) {
                    long v = bb.getLong(8 * i);
                    if (v != (int) v) {
                        throw CheckpointException.tensor(file, name, "I64 value " + v + " at index " + (off + i)
                                + " does not fit an int");
                    }
                    out[off + i] = (int) v;
                }
            };
            default -> throw CheckpointException.tensor(file, name, "dtype " + dtype + " is not an integer type");
        };
        stream(in, dtype, out.length, file, name, d);
    }

    /**
     * Encodes {@code n} elements produced by {@code src} as {@code dtype} little-endian bytes into
     * {@code out}, a block at a time.
     */
    public interface ElementSource {
        /** Writes elements {@code [from, from+count)} into {@code bb} (little-endian, positioned at 0). */
        void put(ByteBuffer bb, int from, int count);
    }

    /** Streams {@code n} elements of {@code size} bytes each through a bounded buffer to {@code out}. */
    public static void encode(java.io.OutputStream out, int n, int size, ElementSource src) throws IOException {
        byte[] buf = new byte[(int) Math.min(BLOCK, Math.max(size, (long) n * size))];
        int perBlock = buf.length / size;
        ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < n; ) {
            int count = Math.min(perBlock, n - done);
            bb.clear();
            src.put(bb, done, count);
            out.write(buf, 0, count * size);
            done += count;
        }
    }
}
