package org.jmamba.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Map;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.kernels.Int8Blocks;
import org.jmamba.kernels.WeightType;
import org.jmamba.train.ModelInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder's flight-recorder events as the phase profile reads them: every phase of every
 * recorded step, with the weights each reads, and nothing from the warm-up steps; and no event at
 * all in a recording that does not ask for them.
 */
class DecodePhaseProfileTest {

    @Test
    @SuppressWarnings("unchecked")
    void everyPhaseOfEveryRecordedStepIsCountedWithItsWeights() {
        MambaConfig c = BenchShapes.byName("tiny");
        try (CpuMamba m = CpuMamba.create(ModelInit.initialize(c, 1), new CpuOptions(2, WeightType.INT8));
             MambaState s = m.newState(1)) {
            float[][] logits = new float[1][c.vocabSize()];
            int[] token = {1};
            Map<String, Object> r = DecodePhaseProfile.record(() -> {
                for (int i = 0; i < 3; i++) {
                    m.step(s, token, logits);
                }
            }, () -> {
                for (int i = 0; i < 5; i++) {
                    m.step(s, token, logits);
                }
            });
            assertEquals(5L, r.get("steps"), "the warm-up steps are left out: " + r);
            long bytes = 0;
            double share = 0;
            double phaseMicros = 0;
            for (String p : DecodePhaseProfile.PHASES) {
                Map<String, Object> phase = (Map<String, Object>) r.get(p);
                assertTrue((double) phase.get("us_per_step") > 0, p + ": " + r);
                bytes += (long) phase.get("weight_bytes_per_step");
                share += (double) phase.get("share");
                phaseMicros += (double) phase.get("us_per_step");
            }
            // Every matrix once (the embedding is the head's, tied); the step's small tensors are
            // read outside the products.
            assertEquals(m.inferenceWeights().matrixBytes(), bytes, "the phases read every matrix once: " + r);
            long head = (long) c.vocabSize() * c.dModel() + 4L * c.vocabSize() * Int8Blocks.blocksPerRow(c.dModel());
            assertEquals(head, ((Map<String, Object>) r.get("head")).get("weight_bytes_per_step"), "int8 head and its scales");
            Map<String, Object> other = (Map<String, Object>) r.get("other");
            assertEquals(1.0, share + (double) other.get("share"), 0.01, "phases and other make the step: " + r);
            assertEquals((double) r.get("step_us"), phaseMicros + (double) other.get("us_per_step"), 0.01 * (double) r.get("step_us"));
        }
    }

    /**
     * A recording that does not name the decoder's events records none of them: neither one with
     * the JDK's "default" settings (what {@code -XX:StartFlightRecording} uses) nor one with no
     * settings at all. Both enable every event type their settings do not mention unless it is
     * marked {@code @Enabled(false)}; before the decoder's events were so marked, both recorded
     * about a hundred per step of the 130m shape, and the step allocated them.
     */
    @Test
    void aRecordingThatDoesNotNameTheDecoderEventsRecordsNone(@TempDir Path dir) throws IOException, ParseException {
        MambaConfig c = BenchShapes.byName("tiny");
        try (CpuMamba m = CpuMamba.create(ModelInit.initialize(c, 1), new CpuOptions(2));
             MambaState s = m.newState(1)) {
            float[][] logits = new float[1][c.vocabSize()];
            int[] token = {1};
            for (String settings : new String[] {"default", "none"}) {
                try (Recording r = settings.equals("none") ? new Recording()
                        : new Recording(Configuration.getConfiguration(settings))) {
                    r.start();
                    for (int i = 0; i < 5; i++) {
                        m.step(s, token, logits);
                    }
                    r.stop();
                    Path file = dir.resolve(settings + ".jfr");
                    r.dump(file);
                    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                        String name = e.getEventType().getName();
                        assertTrue(!name.equals(DecodePhaseProfile.PHASE_EVENT) && !name.equals(DecodePhaseProfile.STEP_EVENT),
                                "a recording with settings '" + settings + "' holds a decoder event: " + e);
                    }
                }
            }
        }
    }
}
