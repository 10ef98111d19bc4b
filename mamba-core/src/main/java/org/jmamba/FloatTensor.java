package org.jmamba;

import java.util.Arrays;

/**
 * A dense row-major fp32 tensor: a shape and a flat {@code float[]}.
 *
 * <p>The array is shared, not copied: parameters are updated in place by the optimiser and read in
 * place by the kernels. The shape is fixed.
 */
public final class FloatTensor {
    private final int[] shape;
    private final float[] data;

    public FloatTensor(float[] data, int... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but the data has " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    /** A zero tensor of the given shape. */
    public static FloatTensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one tensor");
        }
        return new FloatTensor(new float[(int) n], shape);
    }

    /** Number of elements of a shape; every dimension must be non-negative. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                n = Long.MAX_VALUE / 2; // saturate: callers reject it
            }
        }
        return n;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    public int size() {
        return data.length;
    }

    /** The backing array (shared). */
    public float[] data() {
        return data;
    }

    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** A deep copy. */
    public FloatTensor copy() {
        return new FloatTensor(data.clone(), shape);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
