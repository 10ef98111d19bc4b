package org.jmamba.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DecodeBandwidthFitTest {
    private static final double W = 147.8e6; // int8 130m: bytes of weights a step reads

    /** Steps per second of a step that takes {@code fixed} seconds plus W / (e · bw). */
    private static double speed(double fixed, double e, double bw) {
        return 1 / (fixed + W / (e * bw));
    }

    @Test
    void recoversTheFixedPartAndTheEfficiencyOfExactData() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            double fixed = rnd.nextDouble(0, 2e-3);
            double e = rnd.nextDouble(0.5, 1.2);
            int n = 3 + rnd.nextInt(20);
            double[] bw = new double[n];
            double[] sps = new double[n];
            for (int i = 0; i < n; i++) {
                bw[i] = rnd.nextDouble(20e9, 80e9);
                sps[i] = speed(fixed, e, bw[i]);
            }
            DecodeBandwidthFit f = DecodeBandwidthFit.fit(W, bw, sps);
            assertEquals(fixed, f.fixedSeconds(), 1e-9);
            assertEquals(e, f.efficiency(), 1e-9 * e);
            assertEquals(1, f.r2(), 1e-9);
            assertEquals(n, f.points());
            double b = rnd.nextDouble(20e9, 80e9);
            assertEquals(speed(fixed, e, b) / (b / W), f.fraction(b), 1e-9);
        }
    }

    @Test
    void theThresholdBandwidthIsWhereThePredictedFractionMeetsTheTarget() {
        DecodeBandwidthFit f = DecodeBandwidthFit.fit(W, new double[] {30e9, 45e9, 60e9},
                new double[] {speed(0.6e-3, 0.95, 30e9), speed(0.6e-3, 0.95, 45e9), speed(0.6e-3, 0.95, 60e9)});
        double at = f.bandwidthAtFraction(0.85);
        assertEquals(0.85, f.fraction(at), 1e-9);
        assertTrue(f.fraction(at * 0.9) > 0.85);
        assertTrue(f.fraction(at * 1.1) < 0.85);
        // 0.95 at best: a target above it is never reached; no fixed part: never left
        assertTrue(Double.isNaN(f.bandwidthAtFraction(0.96)));
        DecodeBandwidthFit noFixed = new DecodeBandwidthFit(0, 0.9, 1, 3, W);
        assertEquals(Double.POSITIVE_INFINITY, noFixed.bandwidthAtFraction(0.85));
    }

    @Test
    void noisyDataGivesAnR2BelowOne() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 40;
        double[] bw = new double[n];
        double[] sps = new double[n];
        for (int i = 0; i < n; i++) {
            bw[i] = rnd.nextDouble(30e9, 70e9);
            sps[i] = speed(0.5e-3, 0.9, bw[i]) * (1 + rnd.nextDouble(-0.05, 0.05));
        }
        DecodeBandwidthFit f = DecodeBandwidthFit.fit(W, bw, sps);
        assertTrue(f.r2() < 1 && f.r2() > 0.5, "r2 " + f.r2());
        assertEquals(0.5e-3, f.fixedSeconds(), 0.25e-3);
        assertEquals(0.9, f.efficiency(), 0.1);
    }

    @Test
    void badInputIsNamed() {
        double[] three = {30e9, 40e9, 50e9};
        assertThrows(IllegalArgumentException.class, () -> DecodeBandwidthFit.fit(W, new double[] {1, 2}, new double[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> DecodeBandwidthFit.fit(W, three, new double[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> DecodeBandwidthFit.fit(0, three, three));
        assertThrows(IllegalArgumentException.class,
                () -> DecodeBandwidthFit.fit(W, new double[] {40e9, 40e9, 40e9}, new double[] {100, 110, 120}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeBandwidthFit.fit(W, three, new double[] {100, -1, 120}));
        assertTrue(e.getMessage().contains("repetition 1"), e.getMessage());
    }
}
