package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RngTest {

    @Test
    void sameSeedSameSequenceAndStateRoundTrips() {
        Rng a = new Rng(42);
        Rng b = new Rng(42);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
        Rng c = Rng.fromState(a.state());
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextDouble(), c.nextDouble());
            assertEquals(a.nextInt(17), c.nextInt(17));
            assertEquals(a.nextGaussian(), c.nextGaussian());
        }
        assertNotEquals(new Rng(1).nextLong(), new Rng(2).nextLong());
    }

    @Test
    void forkDoesNotAdvanceAndGivesDistinctStreams() {
        Rng a = new Rng(7);
        long before = a.state();
        Rng f1 = a.fork(1);
        Rng f2 = a.fork(2);
        assertEquals(before, a.state());
        assertNotEquals(f1.nextLong(), f2.nextLong());
        assertEquals(new Rng(7).fork(1).nextLong(), new Rng(7).fork(1).nextLong());
    }

    @Test
    void nextIntIsInRangeAndRoughlyUniform() {
        Rng r = new Rng(3);
        int[] counts = new int[7];
        int n = 70_000;
        for (int i = 0; i < n; i++) {
            int v = r.nextInt(7);
            assertTrue(v >= 0 && v < 7);
            counts[v]++;
        }
        for (int c : counts) {
            // expected 10000, sd ~93: 6 sd
            assertTrue(Math.abs(c - 10_000) < 560, "count " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(5, 5));
    }

    @Test
    void doublesAndGaussiansHaveTheRightMoments() {
        Rng r = new Rng(11);
        int n = 200_000;
        double sum = 0;
        double sumG = 0;
        double sumG2 = 0;
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            assertTrue(u >= 0 && u < 1);
            sum += u;
            double g = r.nextGaussian();
            sumG += g;
            sumG2 += g * g;
        }
        assertEquals(0.5, sum / n, 0.005);
        assertEquals(0.0, sumG / n, 0.01);
        assertEquals(1.0, sumG2 / n, 0.02);
    }
}
