package org.jmamba.train;

/**
 * Hyper-parameters of {@link AdamW} (the learning rate comes from the schedule, step by step).
 *
 * @param beta1       decay of the first-moment average (0.9 in the reference recipes)
 * @param beta2       decay of the second-moment average (0.95 for the paper's language models)
 * @param eps         added to the root of the second moment (1e-8)
 * @param weightDecay decoupled weight decay, applied only to parameters that {@link AdamW#decays} accepts
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay) {

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be positive and finite, got " + eps);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be non-negative and finite, got " + weightDecay);
        }
    }

    /** The paper's language-model recipe (GPT-3 style): betas (0.9, 0.95), eps 1e-8, decay 0.1. */
    public static AdamWConfig paperDefaults() {
        return new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
    }
}
