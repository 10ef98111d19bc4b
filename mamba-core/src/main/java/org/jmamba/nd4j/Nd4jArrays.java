package org.jmamba.nd4j;

import java.util.Arrays;
import org.jmamba.FloatTensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Conversions between JMamba's arrays ({@link FloatTensor}, {@code float[][]}, token ids) and ND4J's
 * {@link INDArray}.
 *
 * <p>Each conversion is one copy: ND4J keeps its data off the Java heap and JMamba on it, so neither
 * can wrap the other's memory. An INDArray that is a view, is not in row-major ('c') order, or is
 * not float32 costs one more copy (ND4J's {@code dup}/{@code castTo}) on the way in.
 *
 * <p>Loaded only when called: needs {@code org.nd4j:nd4j-native} on the class path
 * ({@link Nd4jSupport}).
 */
public final class Nd4jArrays {
    private Nd4jArrays() {
    }

    /** A float32, row-major INDArray of the tensor's shape holding a copy of its data. */
    public static INDArray toINDArray(FloatTensor t) {
        if (t == null) {
            throw new IllegalArgumentException("tensor is null");
        }
        long[] shape = longs(t.shape());
        if (t.size() == 0) {
            return Nd4j.create(DataType.FLOAT, shape);
        }
        if (shape.length == 0) {
            return Nd4j.scalar(t.data()[0]);
        }
        return Nd4j.create(t.data(), shape, 'c');
    }

    /**
     * {@code rows[r]}, all of one length, as a float32 INDArray [rows, length] (e.g. the
     * {@code [batch][vocab]} logits of {@code prefill} or {@code step}).
     *
     * @throws IllegalArgumentException on ragged or null rows
     */
    public static INDArray toINDArray(float[][] rows) {
        if (rows == null) {
            throw new IllegalArgumentException("rows is null");
        }
        int n = rows.length == 0 ? 0 : lengthOf(rows[0], 0);
        long total = (long) rows.length * n;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("[" + rows.length + ", " + n + "] is too large for one array");
        }
        float[] flat = new float[(int) total];
        for (int r = 0; r < rows.length; r++) {
            if (lengthOf(rows[r], r) != n) {
                throw new IllegalArgumentException("rows must have one length: row " + r + " has " + rows[r].length
                        + ", row 0 has " + n);
            }
            System.arraycopy(rows[r], 0, flat, r * n, n);
        }
        return toINDArray(new FloatTensor(flat, rows.length, n));
    }

    /**
     * The array's values as a FloatTensor of its shape, row-major. Any numeric type is converted to
     * float32; views and 'f'-order arrays are laid out row-major first.
     *
     * @throws IllegalArgumentException when the array is null, has more elements than one Java array
     *                                  holds, or is not numeric
     */
    public static FloatTensor toFloatTensor(INDArray a) {
        if (a == null) {
            throw new IllegalArgumentException("INDArray is null");
        }
        int[] shape = ints(a.shape(), "INDArray");
        if (a.length() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("INDArray " + Arrays.toString(a.shape()) + " has " + a.length()
                    + " elements, more than one Java array holds");
        }
        if (a.isEmpty() || a.length() == 0) {
            return FloatTensor.zeros(shape);
        }
        INDArray f = float32(a);
        if (f.isView() || f.ordering() != 'c' || f.data().length() != f.length()) {
            f = f.dup('c');
        }
        float[] data = f.data().asFloat();
        return new FloatTensor(data.length == f.length() ? data : Arrays.copyOf(data, (int) f.length()), shape);
    }

    /**
     * Token ids as {@code int[batch][len]}: a rank-2 array [batch, len], or a rank-1 array [len] as a
     * batch of one. Integer types are read as they are; floating-point arrays must hold whole
     * numbers.
     *
     * @param vocabSize ids must lie in {@code [0, vocabSize)}
     * @throws IllegalArgumentException on another rank, a fraction, or an id out of range (naming
     *                                  the position)
     */
    public static int[][] toTokens(INDArray tokens, int vocabSize) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens INDArray is null");
        }
        if (tokens.rank() != 1 && tokens.rank() != 2) {
            throw new IllegalArgumentException("tokens must be [batch, len] or [len], got shape "
                    + Arrays.toString(tokens.shape()));
        }
        int[] shape = ints(tokens.shape(), "tokens");
        int B = tokens.rank() == 2 ? shape[0] : 1;
        int L = tokens.rank() == 2 ? shape[1] : shape[0];
        if ((long) B * L > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tokens " + Arrays.toString(tokens.shape()) + " are too many");
        }
        int[][] out = new int[B][L];
        if ((long) B * L == 0 || tokens.isEmpty()) {
            return out;
        }
        // Doubles hold every int exactly, and let a fraction or an out-of-range value be named.
        INDArray d = tokens.dataType() == DataType.DOUBLE ? tokens : tokens.castTo(DataType.DOUBLE);
        if (d.isView() || d.ordering() != 'c' || d.data().length() != d.length()) {
            d = d.dup('c');
        }
        double[] v = d.data().asDouble();
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                double x = v[b * L + t];
                if (x != Math.rint(x) || x < 0 || x >= vocabSize) {
                    throw new IllegalArgumentException("tokens[" + b + "][" + t + "] = " + x
                            + " is not a token id in [0, " + vocabSize + ")");
                }
                out[b][t] = (int) x;
            }
        }
        return out;
    }

    /** {@code tokens[batch][len]} (rows of one length) as an INT32 INDArray [batch, len]. */
    public static INDArray fromTokens(int[][] tokens) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens is null");
        }
        int L = tokens.length == 0 ? 0 : tokens[0] == null ? 0 : tokens[0].length;
        int[] flat = new int[Math.multiplyExact(tokens.length, L)];
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b] == null || tokens[b].length != L) {
                throw new IllegalArgumentException("token rows must have one length: row " + b + " differs from row 0 ("
                        + L + ")");
            }
            System.arraycopy(tokens[b], 0, flat, b * L, L);
        }
        if (flat.length == 0) {
            return Nd4j.create(DataType.INT, tokens.length, L);
        }
        return Nd4j.createFromArray(flat).reshape('c', tokens.length, L);
    }

    private static INDArray float32(INDArray a) {
        if (a.dataType() == DataType.FLOAT) {
            return a;
        }
        if (!a.dataType().isNumerical()) {
            throw new IllegalArgumentException("INDArray of type " + a.dataType() + " is not numeric");
        }
        return a.castTo(DataType.FLOAT);
    }

    private static int lengthOf(float[] row, int r) {
        if (row == null) {
            throw new IllegalArgumentException("row " + r + " is null");
        }
        return row.length;
    }

    private static long[] longs(int[] shape) {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape[i];
        }
        return s;
    }

    private static int[] ints(long[] shape, String what) {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(what + " shape " + Arrays.toString(shape) + " has a dimension outside int");
            }
            s[i] = (int) shape[i];
        }
        return s;
    }
}
