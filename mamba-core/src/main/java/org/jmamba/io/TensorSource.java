package org.jmamba.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jmamba.FloatTensor;

/**
 * A read-only set of named tensors in a file (a safetensors file, a sharded safetensors index, a
 * {@code pytorch_model.bin}). All structure is validated when the source is opened; tensor data
 * is read on demand and converted to Java arrays.
 *
 * <p>Implementations are safe for concurrent reads. Every failure is a {@link CheckpointException}
 * naming the file and the tensor.
 */
public interface TensorSource extends AutoCloseable {

    /** The file this source was opened from (the index file for a sharded checkpoint). */
    Path path();

    /** Names of all tensors, in file order. */
    List<String> names();

    boolean contains(String name);

    /** Dtype and shape of {@code name}; throws if there is no such tensor. */
    TensorInfo info(String name);

    /**
     * The tensor's raw bytes, little-endian, exactly {@code info(name).byteLength()} of them.
     * The caller closes the stream.
     */
    InputStream openRaw(String name);

    /** The file holding {@code name} (a shard for sharded checkpoints), for messages. */
    default Path fileOf(String name) {
        return path();
    }

    /**
     * Where {@code name}'s raw bytes ({@link #openRaw}) lie in a file, when the source stores them
     * there contiguously and uncompressed, so that a loader may map them instead of reading them
     * (safetensors files and their shards); empty otherwise (the default, e.g. a torch zip). The
     * region was checked against the file when the source was opened.
     */
    default Optional<FileRegion> fileRegion(String name) {
        info(name); // throws for an unknown tensor, as every other method does
        return Optional.empty();
    }

    /** A floating-point tensor (F32, F16, BF16 exactly; F64 rounded to nearest) as fp32. */
    default float[] readFloats(String name) {
        TensorInfo info = info(name);
        Path file = fileOf(name);
        int n = Math.toIntExact(elementCount(file, info));
        float[] out = new float[n];
        try (InputStream in = openRaw(name)) {
            TensorCodec.decodeFloats(in, info.dtype(), out, file, name);
        } catch (IOException e) {
            throw CheckpointException.tensor(file, name, "read failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** A floating-point tensor as fp64 (exact for every float dtype). */
    default double[] readDoubles(String name) {
        TensorInfo info = info(name);
        Path file = fileOf(name);
        int n = Math.toIntExact(elementCount(file, info));
        double[] out = new double[n];
        try (InputStream in = openRaw(name)) {
            TensorCodec.decodeDoubles(in, info.dtype(), out, file, name);
        } catch (IOException e) {
            throw CheckpointException.tensor(file, name, "read failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** An integer tensor (I64, or I32 widened). */
    default long[] readLongs(String name) {
        TensorInfo info = info(name);
        Path file = fileOf(name);
        int n = Math.toIntExact(elementCount(file, info));
        long[] out = new long[n];
        try (InputStream in = openRaw(name)) {
            TensorCodec.decodeLongs(in, info.dtype(), out, file, name);
        } catch (IOException e) {
            throw CheckpointException.tensor(file, name, "read failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** An integer tensor (I32, or I64 whose every value fits an int). */
    default int[] readInts(String name) {
        TensorInfo info = info(name);
        Path file = fileOf(name);
        int n = Math.toIntExact(elementCount(file, info));
        int[] out = new int[n];
        try (InputStream in = openRaw(name)) {
            TensorCodec.decodeInts(in, info.dtype(), out, file, name);
        } catch (IOException e) {
            throw CheckpointException.tensor(file, name, "read failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** A floating-point tensor as an fp32 {@link FloatTensor} of the stored shape. */
    default FloatTensor readFloatTensor(String name) {
        TensorInfo info = info(name);
        int[] shape = info.intShape(fileOf(name));
        return new FloatTensor(readFloats(name), shape);
    }

    /** Releases file handles and mappings; never throws. */
    @Override
    void close();

    private static long elementCount(Path file, TensorInfo info) {
        long n = info.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw CheckpointException.tensor(file, info.name(), "has " + n + " elements, too many for one Java array");
        }
        return n;
    }
}
