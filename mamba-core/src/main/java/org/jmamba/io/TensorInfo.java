package org.jmamba.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a checkpoint says about one stored tensor: its name, element type and shape (row-major).
 *
 * @param name  the name as stored in the file
 * @param dtype the stored element type
 * @param shape every dimension, non-negative
 */
public record TensorInfo(String name, DType dtype, long[] shape) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Element count; the readers have already checked that it does not overflow. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes the tensor takes in its stored dtype. */
    public long byteLength() {
        return Math.multiplyExact(numel(), (long) dtype.byteSize());
    }

    /** Whether the shape equals {@code expected} element by element. */
    public boolean hasShape(int... expected) {
        if (expected.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The shape as ints, for a Java array; fails (naming {@code file} and the tensor) when the tensor
     * is too large for one array.
     */
    public int[] intShape(Path file) {
        if (numel() > Integer.MAX_VALUE - 8) {
            throw CheckpointException.tensor(file, name, "shape " + Arrays.toString(shape)
                    + " has too many elements for one Java array");
        }
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.toIntExact(shape[i]);
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
