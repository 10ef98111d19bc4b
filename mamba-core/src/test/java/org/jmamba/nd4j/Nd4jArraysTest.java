package org.jmamba.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jmamba.FloatTensor;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Round trips between FloatTensor / token ids and INDArray: exact values, every layout ND4J has. */
class Nd4jArraysTest {

    @Test
    void floatTensorRoundTripsExactlyForRanksOneToFour() {
        Random r = new Random(System.nanoTime());
        for (int rank = 1; rank <= 4; rank++) {
            int[] shape = new int[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = 1 + r.nextInt(7);
            }
            FloatTensor t = random(r, shape);
            INDArray a = Nd4jArrays.toINDArray(t);
            assertEquals(DataType.FLOAT, a.dataType());
            assertEquals(rank, a.rank());
            for (int i = 0; i < rank; i++) {
                assertEquals(shape[i], a.size(i));
            }
            // Element (last index) at the row-major position: the layout is 'c'.
            long[] idx = new long[rank];
            for (int i = 0; i < rank; i++) {
                idx[i] = shape[i] - 1;
            }
            assertEquals(t.data()[t.size() - 1], a.getFloat(idx));
            FloatTensor back = Nd4jArrays.toFloatTensor(a);
            assertArrayEquals(t.shape(), back.shape());
            assertArrayEquals(t.data(), back.data());
            // A copy, not a view: changing the INDArray leaves the tensor alone.
            a.muli(2);
            assertArrayEquals(back.data(), t.data());
        }
    }

    @Test
    void viewsFortranOrderAndOtherTypesAreReadRowMajor() {
        float[][] m = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
        INDArray c = Nd4j.create(m);
        // A strided view: rows 1..2, columns 1 and 3.
        INDArray view = c.get(NDArrayIndex.interval(1, 3), NDArrayIndex.indices(1, 3));
        assertArrayEquals(new float[] {6, 8, 10, 12}, Nd4jArrays.toFloatTensor(view).data());
        // A transposed view and an 'f'-order copy.
        FloatTensor t = Nd4jArrays.toFloatTensor(c.transpose());
        assertArrayEquals(new int[] {4, 3}, t.shape());
        assertArrayEquals(new float[] {1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12}, t.data());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                Nd4jArrays.toFloatTensor(c.dup('f')).data());
        // A view of one row of a larger buffer (offset, whole buffer longer than the view).
        assertArrayEquals(new float[] {5, 6, 7, 8}, Nd4jArrays.toFloatTensor(c.getRow(1)).data());
        // Doubles and ints are converted.
        assertArrayEquals(new float[] {1.5f, -2f}, Nd4jArrays.toFloatTensor(Nd4j.createFromArray(1.5, -2.0)).data());
        assertArrayEquals(new float[] {7, 9}, Nd4jArrays.toFloatTensor(Nd4j.createFromArray(7L, 9L)).data());
    }

    @Test
    void emptyAndScalarArrays() {
        FloatTensor empty = Nd4jArrays.toFloatTensor(Nd4j.create(DataType.FLOAT, 0, 5));
        assertArrayEquals(new int[] {0, 5}, empty.shape());
        INDArray e = Nd4jArrays.toINDArray(FloatTensor.zeros(2, 0));
        assertEquals(0, e.length());
        assertArrayEquals(new long[] {2, 0}, e.shape());
        INDArray s = Nd4jArrays.toINDArray(new FloatTensor(new float[] {3.5f}));
        assertEquals(0, s.rank());
        assertEquals(3.5f, s.getFloat(0));
        assertEquals(3.5f, Nd4jArrays.toFloatTensor(s).data()[0]);
    }

    @Test
    void rowsBecomeAMatrixAndRaggedRowsAreRejected() {
        INDArray a = Nd4jArrays.toINDArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals(6f, a.getFloat(1, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> Nd4jArrays.toINDArray(new float[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
    }

    @Test
    void tokensFromEveryIntegerTypeAndWholeFloats() {
        int[][] ids = {{0, 5, 9}, {3, 3, 1}};
        INDArray i32 = Nd4jArrays.fromTokens(ids);
        assertEquals(DataType.INT, i32.dataType());
        assertArrayEquals(new long[] {2, 3}, i32.shape());
        assertArrayEquals(ids, Nd4jArrays.toTokens(i32, 10));
        assertArrayEquals(ids, Nd4jArrays.toTokens(i32.castTo(DataType.LONG), 10));
        assertArrayEquals(ids, Nd4jArrays.toTokens(i32.castTo(DataType.FLOAT), 10));
        assertArrayEquals(ids, Nd4jArrays.toTokens(i32.castTo(DataType.DOUBLE).dup('f'), 10));
        assertArrayEquals(new int[][] {{4, 2}}, Nd4jArrays.toTokens(Nd4j.createFromArray(4, 2), 10));
        // Columns 1.. of a wider array (a view).
        assertArrayEquals(new int[][] {{5, 9}, {3, 1}},
                Nd4jArrays.toTokens(i32.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3)), 10));
        assertArrayEquals(new int[0][0], Nd4jArrays.toTokens(Nd4j.create(DataType.INT, 0, 0), 10));
    }

    @Test
    void badTokensAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Nd4jArrays.toTokens(Nd4j.createFromArray(new int[][] {{1, 2}, {3, 10}}), 10));
        assertTrue(e.getMessage().contains("tokens[1][1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Nd4jArrays.toTokens(Nd4j.createFromArray(1.0f, 2.5f), 10));
        assertTrue(e.getMessage().contains("tokens[0][1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Nd4jArrays.toTokens(Nd4j.createFromArray(-1, 2), 10));
        assertTrue(e.getMessage().contains("tokens[0][0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Nd4jArrays.toTokens(Nd4j.create(DataType.INT, 1, 2, 3), 10));
        assertTrue(e.getMessage().contains("[batch, len]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Nd4jArrays.toTokens(null, 10));
        assertThrows(IllegalArgumentException.class, () -> Nd4jArrays.fromTokens(new int[][] {{1}, {1, 2}}));
        assertThrows(IllegalArgumentException.class, () -> Nd4jArrays.toFloatTensor(null));
    }

    private static FloatTensor random(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }
}
