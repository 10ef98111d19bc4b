package org.jmamba.cpu;

import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;

/**
 * The four projections of one block in their inference storage type: in_proj [2·dInner, dModel],
 * x_proj [dtRank + 2·dState, dInner], dt_proj [dInner, dtRank], out_proj [dModel, dInner].
 */
public record LayerMatrices(PackedMatrix inProj, PackedMatrix xProj, PackedMatrix dtProj, PackedMatrix outProj) {

    /** The block's projections in {@code type} (f32 wraps the master arrays). */
    public static LayerMatrices of(MambaConfig c, LayerWeights w, WeightType type) {
        return new LayerMatrices(
                PackedMatrix.pack(w.inProj().data(), 2 * c.dInner(), c.dModel(), type),
                PackedMatrix.pack(w.xProj().data(), c.xProjOut(), c.dInner(), type),
                PackedMatrix.pack(w.dtProj().data(), c.dInner(), c.dtRank(), type),
                PackedMatrix.pack(w.outProj().data(), c.dModel(), c.dInner(), type));
    }

    /** Re-reads the block's master weights (after an optimiser step). */
    void update(LayerWeights w) {
        inProj.update(w.inProj().data());
        xProj.update(w.xProj().data());
        dtProj.update(w.dtProj().data());
        outProj.update(w.outProj().data());
    }

    long bytes() {
        return inProj.bytes() + xProj.bytes() + dtProj.bytes() + outProj.bytes();
    }
}
