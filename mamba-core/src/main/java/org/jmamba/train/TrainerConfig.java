package org.jmamba.train;

import java.util.Objects;

/**
 * What a {@link Trainer} does: how many updates, how each is made, and how often it evaluates,
 * logs and checkpoints.
 *
 * @param steps           optimiser updates in the whole run (a resumed run continues to this count)
 * @param accumulation    micro-batches whose gradients are averaged into one update (>= 1)
 * @param schedule        learning rate per update
 * @param optimizer       AdamW hyper-parameters
 * @param clipNorm        global gradient-norm limit; {@code <= 0} disables clipping
 * @param evalEvery       updates between evaluations (0: only at the end, if an evaluation is set)
 * @param checkpointEvery updates between checkpoints (0: only at the end, if a directory is set)
 * @param logEvery        updates between SLF4J log lines (0: none)
 * @param seed            seeds the data generator; with a seeded model, the whole run is deterministic
 */
public record TrainerConfig(long steps, int accumulation, CosineSchedule schedule, AdamWConfig optimizer,
                            double clipNorm, long evalEvery, long checkpointEvery, long logEvery, long seed) {

    public TrainerConfig {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be non-negative, got " + steps);
        }
        if (accumulation < 1) {
            throw new IllegalArgumentException("gradient accumulation must be at least 1 micro-batch, got " + accumulation);
        }
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(optimizer, "optimizer");
        if (Double.isNaN(clipNorm)) {
            throw new IllegalArgumentException("clipNorm must be a number");
        }
        if (evalEvery < 0 || checkpointEvery < 0 || logEvery < 0) {
            throw new IllegalArgumentException("evalEvery, checkpointEvery and logEvery must be non-negative");
        }
    }
}
