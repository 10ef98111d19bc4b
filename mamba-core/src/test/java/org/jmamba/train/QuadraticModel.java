package org.jmamba.train;

import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;

/**
 * A stand-in model for testing the training machinery without the Mamba backward: its loss is a
 * quadratic in the parameters whose minimum depends on the data,
 * {@code loss = mean over scored positions p of 0.5/P * Σ_j (θ_j - c_j(target_p))^2},
 * {@code c_j(y) = sin(0.37 j + y)}, with the exact gradient. Only the training methods work.
 */
class QuadraticModel implements SequenceModel {
    private final MambaWeights weights;

    QuadraticModel(MambaWeights weights) {
        this.weights = weights;
    }

    @Override
    public MambaConfig config() {
        return weights.config();
    }

    @Override
    public double lossAndGradients(int[][] inputs, int[][] targets, MambaWeights gradients) {
        long params = config().parameterCount();
        double loss = 0;
        int count = 0;
        for (int[] row : targets) {
            for (int y : row) {
                if (y >= 0) {
                    count++;
                }
            }
        }
        for (int[] row : targets) {
            for (int y : row) {
                if (y < 0) {
                    continue;
                }
                int j = 0;
                for (var e : weights.named().entrySet()) {
                    float[] w = e.getValue().data();
                    float[] g = gradients.named().get(e.getKey()).data();
                    for (int i = 0; i < w.length; i++, j++) {
                        double diff = w[i] - Math.sin(0.37 * j + y);
                        loss += 0.5 * diff * diff / params / count;
                        g[i] += (float) (diff / params / count);
                    }
                }
            }
        }
        return loss;
    }

    @Override
    public MambaWeights weights() {
        return weights;
    }

    @Override
    public void weightsUpdated() {
    }

    @Override
    public ForwardResult forward(int[][] tokens, boolean withHiddenStates) {
        throw new UnsupportedOperationException("test model: training methods only");
    }

    @Override
    public MambaState newState(int batch) {
        throw new UnsupportedOperationException("test model: training methods only");
    }

    @Override
    public float[][] prefill(MambaState state, int[][] tokens) {
        throw new UnsupportedOperationException("test model: training methods only");
    }

    @Override
    public float[][] step(MambaState state, int[] tokens) {
        throw new UnsupportedOperationException("test model: training methods only");
    }

    @Override
    public void close() {
    }
}
