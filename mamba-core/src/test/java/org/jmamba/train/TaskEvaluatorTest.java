package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jmamba.MambaConfig;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.junit.jupiter.api.Test;

class TaskEvaluatorTest {
    private static final MambaConfig CFG = MambaConfig.of(16, 2, 16, 8, 4);

    private static void assertClose(float[][][] expected, float[][][] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i].length, actual[i].length);
            for (int k = 0; k < expected[i].length; k++) {
                double num = 0;
                double den = 0;
                for (int v = 0; v < expected[i][k].length; v++) {
                    num += Math.pow(expected[i][k][v] - actual[i][k][v], 2);
                    den += Math.pow(expected[i][k][v], 2);
                }
                assertTrue(Math.sqrt(num / den) < 1e-5, "example " + i + " answer " + k + ": " + Math.sqrt(num / den));
            }
        }
    }

    @Test
    void recurrentChunkedEvaluationGivesTheParallelLogits() {
        // Untrained weights; chunk 7 forces several prefills with the state carried between them.
        try (CpuMamba model = CpuMamba.create(ModelInit.initialize(CFG, 3), new CpuOptions(1))) {
            for (SyntheticTask task : new SyntheticTask[] {InductionHeads.paper(), SelectiveCopying.paper()}) {
                Rng rng = new Rng(4);
                Example[] batch = new Example[3];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = task.sample(61, rng);
                }
                float[][][] parallel = TaskEvaluator.logitsParallel(model, batch);
                assertClose(parallel, TaskEvaluator.logitsRecurrent(model, batch, 7));
                assertClose(parallel, TaskEvaluator.logitsRecurrent(model, batch, 1000));
            }
        }
    }

    @Test
    void accuracyCountsAndModesAgree() {
        try (CpuMamba model = CpuMamba.create(ModelInit.initialize(CFG, 5), new CpuOptions(1))) {
            SyntheticTask task = SelectiveCopying.paper();
            TaskEvaluator.Result p = TaskEvaluator.evaluate(model, task, 48, 5, 2, 9, TaskEvaluator.Mode.PARALLEL, 16);
            TaskEvaluator.Result r = TaskEvaluator.evaluate(model, task, 48, 5, 2, 9, TaskEvaluator.Mode.RECURRENT, 16);
            assertEquals(5, p.samples());
            assertEquals(80, p.total());
            assertEquals(p.correct(), r.correct());
            assertEquals((double) p.correct() / 80, p.accuracy());
            assertEquals(TaskEvaluator.Mode.PARALLEL,
                    TaskEvaluator.evaluate(model, task, 48, 1, 1, 9, TaskEvaluator.Mode.AUTO, 16).mode());
            assertThrows(IllegalArgumentException.class,
                    () -> TaskEvaluator.evaluate(model, task, 20, 1, 1, 9, TaskEvaluator.Mode.AUTO, 16));
        }
    }
}
