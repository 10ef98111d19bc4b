package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CosineScheduleTest {

    @Test
    void warmupThenCosineToTheMinimum() {
        CosineSchedule s = new CosineSchedule(1e-3, 1e-5, 10, 110);
        assertEquals(1e-4, s.lr(0), 1e-15);           // (0+1)/10 of the peak
        assertEquals(5e-4, s.lr(4), 1e-15);
        assertEquals(1e-3, s.lr(9), 1e-15);           // end of warm-up: the peak
        assertEquals(1e-3, s.lr(10), 1e-15);          // cosine starts at the peak
        assertEquals((1e-3 + 1e-5) / 2, s.lr(60), 1e-15); // half way: the mean
        assertEquals(1e-5, s.lr(110), 1e-15);
        assertEquals(1e-5, s.lr(10_000), 1e-15);
        for (long t = 10; t < 110; t++) {
            assertTrue(s.lr(t + 1) <= s.lr(t), "not decreasing at " + t);
        }
        // the formula itself at one more point
        double p = (37 - 10) / 100.0;
        assertEquals(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos(Math.PI * p)), s.lr(37), 1e-15);
    }

    @Test
    void constantAndBadArguments() {
        CosineSchedule c = CosineSchedule.constant(3e-4);
        assertEquals(3e-4, c.lr(0));
        assertEquals(3e-4, c.lr(1_000_000));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 1e-2, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(Double.NaN, 0, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 0, -1, 10));
        assertThrows(IllegalArgumentException.class, () -> c.lr(-1));
    }
}
