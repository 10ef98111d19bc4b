package org.jmamba.train;

/**
 * Learning rate: linear warm-up from 0 to {@code peakLr} over {@code warmupSteps} updates, then a
 * half cosine from {@code peakLr} down to {@code minLr} at {@code totalSteps}, constant after.
 * This is the schedule of the paper's language-model training (Appendix E.2: warm-up, cosine decay
 * to 1e-5). With {@code minLr == peakLr} and no warm-up it is a constant rate (the synthetic tasks).
 *
 * @param peakLr      rate reached at the end of the warm-up
 * @param minLr       rate at and after {@code totalSteps}
 * @param warmupSteps updates of linear warm-up (0 for none)
 * @param totalSteps  update at which the cosine reaches {@code minLr}
 */
public record CosineSchedule(double peakLr, double minLr, long warmupSteps, long totalSteps) {

    public CosineSchedule {
        if (!(peakLr >= 0) || Double.isInfinite(peakLr)) {
            throw new IllegalArgumentException("peak learning rate must be non-negative and finite, got " + peakLr);
        }
        if (!(minLr >= 0) || minLr > peakLr) {
            throw new IllegalArgumentException("min learning rate must be in [0, peak=" + peakLr + "], got " + minLr);
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warm-up and total steps must be non-negative, got "
                    + warmupSteps + " and " + totalSteps);
        }
    }

    /** A constant rate. */
    public static CosineSchedule constant(double lr) {
        return new CosineSchedule(lr, lr, 0, 0);
    }

    /**
     * The rate for update number {@code step} (0-based: the first update is step 0). During warm-up
     * it is {@code peak * (step + 1) / warmupSteps}, so the first update is not wasted at rate 0.
     */
    public double lr(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        if (step < warmupSteps) {
            return peakLr * (step + 1) / warmupSteps;
        }
        long decaySteps = totalSteps - warmupSteps;
        if (decaySteps <= 0 || step >= totalSteps) {
            return decaySteps <= 0 ? peakLr : minLr;
        }
        double progress = (double) (step - warmupSteps) / decaySteps;
        return minLr + 0.5 * (peakLr - minLr) * (1.0 + Math.cos(Math.PI * progress));
    }
}
