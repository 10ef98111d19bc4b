package org.jmamba.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    @Test
    void widenMatchesFormulaForEveryEncoding() {
        for (int b = 0; b < 0x10000; b++) {
            double bf = Bf16Twin.bf16Value(b);
            double h = Bf16Twin.f16Value(b);
            float gotBf = HalfFloats.bf16ToFloat((short) b);
            float gotH = HalfFloats.f16ToFloat((short) b);
            if (Double.isNaN(bf)) {
                assertTrue(Float.isNaN(gotBf), "bf16 " + b);
            } else {
                assertEquals(bf, gotBf, 0.0, "bf16 bits " + Integer.toHexString(b));
            }
            if (Double.isNaN(h)) {
                assertTrue(Float.isNaN(gotH), "f16 " + b);
            } else {
                assertEquals(h, gotH, 0.0, "f16 bits " + Integer.toHexString(b));
            }
        }
    }

    @Test
    void narrowingIsRoundToNearestEvenOnRandomFloats() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 60_000; i++) {
            // random bit patterns cover every binade, subnormals and overflow; plus ordinary values
            float f = i % 2 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextGaussian();
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(Bf16Twin.roundToBf16(f), HalfFloats.floatToBf16(f) & 0xffff, "bf16 of " + f);
            assertEquals(Bf16Twin.roundToF16(f), HalfFloats.floatToF16(f) & 0xffff, "f16 of " + f);
        }
    }

    @Test
    void narrowingTiesGoToEven() {
        // exactly half-way between two bf16 values: 1 + 2^-8 lies between 1 and 1 + 2^-7
        float tieDown = Float.intBitsToFloat(0x3f808000); // 1.00390625: mantissas 0 (even) and 1
        float tieUp = Float.intBitsToFloat(0x3f818000);   // between 1+2^-7 (odd) and 1+2^-6 (even)
        assertEquals(0x3f80, HalfFloats.floatToBf16(tieDown) & 0xffff);
        assertEquals(0x3f82, HalfFloats.floatToBf16(tieUp) & 0xffff);
        assertEquals(Bf16Twin.roundToBf16(tieDown), HalfFloats.floatToBf16(tieDown) & 0xffff);
        assertEquals(Bf16Twin.roundToBf16(tieUp), HalfFloats.floatToBf16(tieUp) & 0xffff);
        assertEquals(0x7f80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xffff, "rounds past the largest bf16 to infinity");
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
        assertEquals(0x8000, HalfFloats.floatToBf16(-0.0f) & 0xffff);
    }
}
