package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.jmamba.MambaWeights;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.jmamba.kernels.WeightType;
import org.jmamba.perf.WeightTypeAccuracy;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accuracy cost of bf16 and block-int8 weights on the golden tiny model (its golden inputs),
 * against f32. The bounds are loose ceilings; the measured figures are logged and recorded in
 * docs/benchmarks.md.
 */
class WeightTypeAccuracyTest {
    private static final Logger LOG = LoggerFactory.getLogger(WeightTypeAccuracyTest.class);

    @Test
    void bf16AndInt8StayCloseToF32OnTheGoldenTinyModel() throws IOException {
        MambaWeights w = Checkpoints.load(ScanGoldenTest.resource("tiny")).weights();
        int[][] ids;
        try (SafetensorsFile f = SafetensorsFile.open(ScanGoldenTest.resource("tiny/golden.safetensors"))) {
            long[] shape = f.info("input_ids").shape();
            int B = (int) shape[0], L = (int) shape[1];
            int[] flat = f.readInts("input_ids");
            ids = new int[B][];
            for (int b = 0; b < B; b++) {
                ids[b] = Arrays.copyOfRange(flat, b * L, (b + 1) * L);
            }
        }
        Map<WeightType, WeightTypeAccuracy.Result> r = WeightTypeAccuracy.measure(w, ids, 2);
        for (WeightTypeAccuracy.Result x : r.values()) {
            LOG.info("golden tiny, {}: logit rel err {}, max |diff| {}, loss {} ({} vs f32)", x.type().label(),
                    String.format("%.3e", x.logitRelErr()), String.format("%.3e", x.maxAbsErr()),
                    String.format("%.6f", x.loss()), String.format("%+.2e", x.lossDiff()));
        }
        assertEquals(0.0, r.get(WeightType.F32).logitRelErr());
        assertEquals(6.535303115844727, r.get(WeightType.F32).loss(), 1e-4); // the golden loss
        double bf16 = r.get(WeightType.BF16).logitRelErr();
        double int8 = r.get(WeightType.INT8).logitRelErr();
        assertTrue(bf16 > 0 && bf16 < 2e-2, "bf16 logit rel err " + bf16);
        assertTrue(int8 > 0 && int8 < 3e-2, "int8 logit rel err " + int8);
        assertTrue(Math.abs(r.get(WeightType.BF16).lossDiff()) < 1e-2);
        assertTrue(Math.abs(r.get(WeightType.INT8).lossDiff()) < 1e-2);
    }
}
