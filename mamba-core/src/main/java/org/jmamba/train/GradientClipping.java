package org.jmamba.train;

import org.jmamba.FloatTensor;
import org.jmamba.MambaWeights;

/**
 * Global-norm gradient clipping (Pascanu et al. 2013), as {@code torch.nn.utils.clip_grad_norm_}:
 * the L2 norm over all gradients together; if it exceeds {@code maxNorm}, every gradient is scaled
 * by {@code maxNorm / (norm + 1e-6)}.
 */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** The L2 norm of all gradient elements together, accumulated in double. */
    public static double globalNorm(MambaWeights grads) {
        double sum = 0;
        for (FloatTensor t : grads.named().values()) {
            for (float g : t.data()) {
                sum += (double) g * g;
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Clips in place and returns the norm before clipping. A non-positive {@code maxNorm} disables
     * clipping (the norm is still returned for logging). A non-finite norm is returned untouched;
     * the caller decides what to do (the trainer stops with an error).
     */
    public static double clip(MambaWeights grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (maxNorm > 0 && Double.isFinite(norm) && norm > maxNorm) {
            scale(grads, maxNorm / (norm + 1e-6));
        }
        return norm;
    }

    /** Multiplies every gradient element by {@code factor}. */
    public static void scale(MambaWeights grads, double factor) {
        float f = (float) factor;
        for (FloatTensor t : grads.named().values()) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] *= f;
            }
        }
    }
}
