package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's machinery (accumulation, schedule, checkpoints, resume) on a quadratic loss. */
class TrainerQuadraticTest {
    private static final MambaConfig CFG = MambaConfig.of(8, 1, 16, 4, 4);
    private static final BatchSource DATA = SyntheticTask.byName("selective-copying").source(2, 40);

    private static TrainerConfig config(long steps, int accumulation, long checkpointEvery) {
        return new TrainerConfig(steps, accumulation, new CosineSchedule(0.05, 0.005, 5, 60),
                new AdamWConfig(0.9, 0.95, 1e-8, 0.01), 1.0, 0, checkpointEvery, 0, 99);
    }

    @Test
    void lossFallsAndEveryStepIsRecorded() {
        QuadraticModel m = new QuadraticModel(ModelInit.initialize(CFG, 1));
        List<StepMetrics> seen = new ArrayList<>();
        Trainer t = Trainer.builder(m, DATA, config(60, 1, 0)).listener(new TrainingListener() {
            @Override
            public void onStep(StepMetrics s) {
                seen.add(s);
            }
        }).build();
        t.run();
        assertEquals(60, seen.size());
        assertEquals(60, t.history().size());
        assertEquals(0.005, seen.get(59).lr(), 1e-3); // near the end of the cosine
        assertEquals(0.01, seen.get(0).lr(), 1e-12);  // first warm-up step: peak/5
        // the minimum is not 0: the optimum depends on the random targets (about 0.25 here)
        double first = seen.get(0).loss();
        double last = seen.get(59).loss();
        assertTrue(last < first * 0.7, "loss " + first + " -> " + last);
        assertEquals(60L * 2 * 40, seen.get(59).tokens() * 60);
    }

    @Test
    void accumulatingMicroBatchesEqualsOneLargeBatch() {
        // Two micro-batches of 2 sequences vs. one batch of the same 4 sequences: the same update.
        BatchSource two = SyntheticTask.byName("selective-copying").source(2, 40);
        BatchSource four = new BatchSource() {
            @Override
            public Batch next(Rng rng) {
                Batch a = two.next(rng);
                Batch b = two.next(rng);
                return new Batch(new int[][] {a.inputs()[0], a.inputs()[1], b.inputs()[0], b.inputs()[1]},
                        new int[][] {a.targets()[0], a.targets()[1], b.targets()[0], b.targets()[1]});
            }

            @Override
            public int vocabSize() {
                return 16;
            }

            @Override
            public int batchSize() {
                return 4;
            }

            @Override
            public int seqLen() {
                return 40;
            }
        };
        QuadraticModel ma = new QuadraticModel(ModelInit.initialize(CFG, 2));
        QuadraticModel mb = new QuadraticModel(ModelInit.initialize(CFG, 2));
        Trainer a = Trainer.builder(ma, two, config(5, 2, 0)).build();
        Trainer b = Trainer.builder(mb, four, config(5, 1, 0)).build();
        a.run();
        b.run();
        for (int i = 0; i < 5; i++) {
            assertEquals(b.history().get(i).loss(), a.history().get(i).loss(), 1e-6 * b.history().get(i).loss());
            assertEquals(b.history().get(i).gradNorm(), a.history().get(i).gradNorm(), 1e-5 * b.history().get(i).gradNorm());
        }
    }

    @Test
    void resumedRunContinuesBitForBit(@TempDir Path dir) {
        QuadraticModel full = new QuadraticModel(ModelInit.initialize(CFG, 3));
        Trainer uninterrupted = Trainer.builder(full, DATA, config(40, 2, 0)).build();
        uninterrupted.run();

        QuadraticModel first = new QuadraticModel(ModelInit.initialize(CFG, 3));
        Trainer part1 = Trainer.builder(first, DATA, config(15, 2, 10)).checkpoints(dir, 0).build();
        part1.run();
        assertTrue(Files.isDirectory(dir.resolve("step-00000010")));
        assertTrue(Files.isDirectory(dir.resolve("step-00000015")));

        // A fresh process: a differently initialised model, everything restored from disk.
        QuadraticModel second = new QuadraticModel(ModelInit.initialize(CFG, 999));
        Trainer part2 = Trainer.builder(second, DATA, config(40, 2, 0)).build();
        part2.resume(dir);
        assertEquals(15, part2.step());
        part2.run();

        assertEquals(uninterrupted.history(), part2.history());
        Map<String, FloatTensor> w1 = full.weights().named();
        second.weights().named().forEach((k, t) -> assertArrayEquals(w1.get(k).data(), t.data(), k));
        Map<String, FloatTensor> o1 = uninterrupted.optimizer().stateTensors();
        part2.optimizer().stateTensors().forEach((k, t) -> assertArrayEquals(o1.get(k).data(), t.data(), k));
    }

    @Test
    void resumeRejectsAnotherModelOrAFinishedRun(@TempDir Path dir) {
        QuadraticModel m = new QuadraticModel(ModelInit.initialize(CFG, 3));
        Trainer.builder(m, DATA, config(6, 1, 0)).checkpoints(dir, 1).build().run();
        QuadraticModel other = new QuadraticModel(ModelInit.initialize(MambaConfig.of(8, 2, 16, 4, 4), 3));
        assertThrows(IllegalArgumentException.class,
                () -> Trainer.builder(other, DATA, config(10, 1, 0)).build().resume(dir));
        QuadraticModel same = new QuadraticModel(ModelInit.initialize(CFG, 3));
        assertThrows(IllegalArgumentException.class,
                () -> Trainer.builder(same, DATA, config(5, 1, 0)).build().resume(dir));
    }

    @Test
    void divergenceStopsWithAClearError() {
        QuadraticModel m = new QuadraticModel(ModelInit.initialize(CFG, 4)) {
            @Override
            public double lossAndGradients(int[][] inputs, int[][] targets, MambaWeights gradients) {
                return Double.NaN;
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Trainer.builder(m, DATA, config(3, 1, 0)).build().run());
        assertTrue(e.getMessage().contains("diverged at update 1"), e.getMessage());
    }

    @Test
    void stopConditionEndsTheRunEarlyWithACheckpoint(@TempDir Path dir) {
        QuadraticModel m = new QuadraticModel(ModelInit.initialize(CFG, 5));
        TrainerConfig c = new TrainerConfig(50, 1, CosineSchedule.constant(0.01), AdamWConfig.paperDefaults(),
                0, 4, 0, 0, 1);
        int[] evals = {0};
        Trainer t = Trainer.builder(m, DATA, c).checkpoints(dir, 2)
                .evaluation(model -> Map.of("evals", (double) ++evals[0]))
                .stopWhen(metrics -> metrics.get("evals") >= 3)
                .build();
        t.run();
        assertEquals(8, t.step()); // evaluations at 0, 4, 8
        assertEquals(3, t.evaluations().size());
        assertTrue(Files.isRegularFile(dir.resolve("step-00000008").resolve(TrainingCheckpoint.STATE_FILE)));
    }
}
