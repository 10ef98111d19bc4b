package org.jmamba.train;

import java.nio.file.Path;
import java.util.Map;

/** Callbacks of a {@link Trainer} run (progress bars, metric files, plots). All optional. */
public interface TrainingListener {

    /** After every optimiser update. */
    default void onStep(StepMetrics metrics) {
    }

    /** After every evaluation. */
    default void onEval(long step, Map<String, Double> metrics) {
    }

    /** After a checkpoint has been committed to {@code dir}; {@code state} is what it holds. */
    default void onCheckpoint(long step, Path dir, TrainingState state) {
    }
}
