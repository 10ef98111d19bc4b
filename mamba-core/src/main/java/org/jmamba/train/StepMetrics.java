package org.jmamba.train;

/**
 * What one optimiser update measured.
 *
 * @param step            updates done, this one included (1 after the first)
 * @param loss            mean loss over every scored token of the update's micro-batches
 * @param lr              learning rate used
 * @param gradNorm        global gradient norm before clipping
 * @param tokens          input tokens processed by this update
 * @param tokensPerSecond input tokens per second of this update
 * @param elapsedSeconds  wall time of this process's run so far
 */
public record StepMetrics(long step, double loss, double lr, double gradNorm, long tokens,
                          double tokensPerSecond, double elapsedSeconds) {
}
