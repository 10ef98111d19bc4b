package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decoder's speed-proportional cuts: where they fall, what moves them, what does not. */
class SpeedSplitTest {
    private final long seed = System.nanoTime();
    private final Random r = new Random(seed);

    /** One job of {@code parts} chunks on their own threads, chunk i at {@code speed[i]} units per ns. */
    private static void job(SpeedSplit s, double... speed) {
        for (int i = 0; i < speed.length; i++) {
            int units = 1000;
            s.record(i, i, Math.round(units / speed[i]), units);
        }
        s.update();
    }

    @Test
    void cutsCoverTheRangeInOrderAtTheAlignment() {
        for (int trial = 0; trial < 50; trial++) {
            int parts = 1 + r.nextInt(4), align = 1 << r.nextInt(5), n = r.nextInt(5000);
            SpeedSplit s = new SpeedSplit(parts);
            double[] speed = new double[parts];
            for (int i = 0; i < parts; i++) {
                speed[i] = 0.1 + r.nextDouble();
            }
            for (int j = 0; j < r.nextInt(30); j++) {
                job(s, speed);
            }
            assertEquals(0, s.bound(n, 0, align));
            assertEquals(n, s.bound(n, parts, align));
            for (int i = 1; i < parts; i++) {
                int b = s.bound(n, i, align);
                assertTrue(b >= s.bound(n, i - 1, align) && b <= n, "cut " + i + " (seed " + seed + ")");
                assertTrue(b % align == 0 || b == n, "cut " + i + " = " + b + " at alignment " + align);
            }
        }
    }

    @Test
    void equalUntilEveryChunkHasBeenTimed() {
        SpeedSplit s = new SpeedSplit(2);
        assertEquals(0.5, s.share(0), 1e-12);
        s.record(0, 0, 1_000, 100);
        s.update();
        assertEquals(0.5, s.share(0), 1e-12, "only chunk 0 timed");
    }

    @Test
    void sharesFollowTheThreadsSpeeds() {
        SpeedSplit s = new SpeedSplit(2);
        for (int j = 0; j < 100; j++) {
            job(s, 2.0, 1.0); // the caller twice as fast as the worker
        }
        assertEquals(2.0 / 3, s.share(0), 0.01);
        for (int j = 0; j < 100; j++) {
            job(s, 1.0, 3.0); // and then the worker three times as fast
        }
        assertEquals(0.25, s.share(0), 0.01);
        SpeedSplit three = new SpeedSplit(3);
        for (int j = 0; j < 100; j++) {
            job(three, 1.0, 1.0, 2.0);
        }
        assertEquals(0.25, three.share(0), 0.01);
        assertEquals(0.5, three.share(2), 0.01);
    }

    @Test
    void aChunkRunByAnotherThreadSaysNothing() {
        SpeedSplit s = new SpeedSplit(2);
        for (int j = 0; j < 50; j++) {
            job(s, 1.0, 1.0);
        }
        for (int j = 0; j < 50; j++) { // the worker was late: the caller ran chunk 1 too, slowly
            s.record(0, 0, 1_000, 1_000);
            s.record(1, 0, 100_000, 1_000);
            s.update();
        }
        assertEquals(0.5, s.share(0), 1e-9);
    }

    @Test
    void oneInterruptedChunkMovesTheCutALittle() {
        SpeedSplit s = new SpeedSplit(2);
        for (int j = 0; j < 50; j++) {
            job(s, 1.0, 1.0);
        }
        job(s, 1.0, 0.001); // chunk 1's thread lost its core for most of the chunk
        // its speed may fall by at most WEIGHT of a halving: 1 - 1/16
        double slow = 1 - SpeedSplit.WEIGHT / 2;
        assertEquals(1 / (1 + slow), s.share(0), 1e-9);
    }

    @Test
    void everyChunkKeepsSomeWork() {
        SpeedSplit s = new SpeedSplit(2);
        for (int j = 0; j < 500; j++) {
            job(s, 1.0, 0.001);
        }
        double floor = SpeedSplit.MIN_SHARE / 2;
        assertTrue(s.share(1) >= floor / (1 + floor) - 1e-12 && s.share(1) < floor + 1e-12, "share " + s.share(1));
    }

    @Test
    void needsAPart() {
        assertThrows(IllegalArgumentException.class, () -> new SpeedSplit(0));
    }
}
