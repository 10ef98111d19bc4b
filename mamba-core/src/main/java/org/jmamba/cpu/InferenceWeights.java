package org.jmamba.cpu;

import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;

/**
 * The large matrices of a model — every block's in_proj, x_proj, dt_proj and out_proj, and the head
 * — in the storage type chosen at load time, for the inference paths (forward, prefill, step).
 * Everything else (norms, conv taps, A, D, biases) is small and read from the f32 master weights.
 *
 * <p>With {@link WeightType#F32} the packed matrices wrap the master arrays (no copy, always in
 * sync); with the others they hold a rounded copy that {@link #update} refreshes from the master.
 * Training always uses the master.
 */
public final class InferenceWeights {
    private final WeightType type;
    private final MambaConfig config;
    private final LayerMatrices[] layers;
    final PackedMatrix head;

    public InferenceWeights(MambaWeights w, WeightType type) {
        this.type = type;
        this.config = w.config();
        MambaConfig c = config;
        layers = new LayerMatrices[c.nLayer()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = LayerMatrices.of(c, w.layer(l), type);
        }
        head = PackedMatrix.pack(w.head().data(), c.vocabSize(), c.dModel(), type);
    }

    public WeightType type() {
        return type;
    }

    /** Block {@code l}'s projections. */
    public LayerMatrices layer(int l) {
        return layers[l];
    }

    /** The output head [vocabSize, dModel]. */
    public PackedMatrix head() {
        return head;
    }

    /** Re-reads the master weights after they changed in place (no-op for f32, which wraps them). */
    public void update(MambaWeights w) {
        if (type == WeightType.F32) {
            return;
        }
        for (int l = 0; l < layers.length; l++) {
            layers[l].update(w.layer(l));
        }
        head.update(w.head().data());
    }

    /** Bytes the packed matrices occupy in addition to the master weights (0 for f32). */
    public long extraBytes() {
        return type == WeightType.F32 ? 0 : matrixBytes();
    }

    /** Bytes of the packed matrices (all layers and the head). */
    public long matrixBytes() {
        long b = head.bytes();
        for (LayerMatrices m : layers) {
            b += m.bytes();
        }
        return b;
    }

    /**
     * Bytes of weights one decode step reads for one sequence: every packed matrix once, every
     * small f32 tensor of every block (norm, conv taps and bias, dt bias, A, D, biases), norm_f
     * and one embedding row. This is the traffic the memory-bandwidth floor is computed from.
     */
    public long decodeBytesPerToken() {
        MambaConfig c = config;
        long small = c.dModel()                                   // norm
                + (long) c.dInner() * c.dConv() + (c.convBias() ? c.dInner() : 0)
                + c.dInner()                                         // dt bias
                + (long) c.dInner() * c.dState()                     // A
                + c.dInner()                                         // D
                + (c.projBias() ? 2L * c.dInner() + c.dModel() : 0);
        return matrixBytes() + 4L * (small * c.nLayer() + c.dModel() + c.dModel());
    }
}
