package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.train.TrainingState.HistoryPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real CPU model trained, checkpointed and resumed: the continuation is bit for bit the same. */
class TrainerResumeTest {
    private static final MambaConfig CFG = MambaConfig.of(16, 2, 16, 8, 4);
    private static final BatchSource DATA = InductionHeads.paper().source(1, 32);
    private static final int FIRST = 10;
    private static final int MORE = 100;

    private static TrainerConfig config(long steps) {
        // warm-up and cosine spanning the resume point, clipping active, two micro-batches per update
        return new TrainerConfig(steps, 2, new CosineSchedule(3e-3, 3e-4, 20, FIRST + MORE),
                AdamWConfig.paperDefaults(), 0.5, 0, 0, 0, 42);
    }

    @Test
    void resumedTrainingReproducesTheUninterruptedRun(@TempDir Path dir) {
        List<HistoryPoint> uninterrupted;
        Map<String, FloatTensor> finalWeights;
        try (CpuMamba model = CpuMamba.create(ModelInit.initialize(CFG, 7), new CpuOptions(2))) {
            Trainer t = Trainer.builder(model, DATA, config(FIRST + MORE)).build();
            t.run();
            uninterrupted = t.history();
            finalWeights = model.weights().copy().named();
        }

        try (CpuMamba model = CpuMamba.create(ModelInit.initialize(CFG, 7), new CpuOptions(2))) {
            Trainer.builder(model, DATA, config(FIRST)).checkpoints(dir, 1).build().run();
        }
        // A new model object with other weights: everything must come from the checkpoint.
        try (CpuMamba model = CpuMamba.create(ModelInit.initialize(CFG, 8), new CpuOptions(1))) {
            Trainer t = Trainer.builder(model, DATA, config(FIRST + MORE)).build();
            t.resume(dir);
            t.run();
            assertEquals(FIRST + MORE, t.history().size());
            for (int i = 0; i < FIRST + MORE; i++) {
                HistoryPoint a = uninterrupted.get(i);
                HistoryPoint b = t.history().get(i);
                assertEquals(Double.doubleToLongBits(a.loss()), Double.doubleToLongBits(b.loss()), "loss at update " + (i + 1));
                assertEquals(Double.doubleToLongBits(a.gradNorm()), Double.doubleToLongBits(b.gradNorm()), "norm at update " + (i + 1));
                assertEquals(a.lr(), b.lr(), "lr at update " + (i + 1));
            }
            model.weights().named().forEach((k, w) -> assertArrayEquals(finalWeights.get(k).data(), w.data(), k));
            assertTrue(Double.isFinite(t.history().get(FIRST + MORE - 1).loss()));
        }
    }
}
