package org.jmamba;

/**
 * The parameters of one Mamba block, fp32, in the reference's shapes (HF names in brackets).
 * Optional biases are {@code null} when the config has none.
 *
 * @param norm        [dModel]                       ({@code norm.weight})
 * @param inProj      [2*dInner, dModel]             ({@code mixer.in_proj.weight}); rows 0..dInner-1 give x, the rest z
 * @param inProjBias  [2*dInner] or null             ({@code mixer.in_proj.bias})
 * @param convWeight  [dInner, dConv]                ({@code mixer.conv1d.weight}, stored [dInner,1,dConv])
 * @param convBias    [dInner] or null               ({@code mixer.conv1d.bias})
 * @param xProj       [dtRank+2*dState, dInner]      ({@code mixer.x_proj.weight}); rows: Δ low rank, B, C
 * @param dtProj      [dInner, dtRank]               ({@code mixer.dt_proj.weight})
 * @param dtBias      [dInner]                       ({@code mixer.dt_proj.bias})
 * @param aLog        [dInner, dState]               ({@code mixer.A_log}); A = -exp(A_log)
 * @param d           [dInner]                       ({@code mixer.D})
 * @param outProj     [dModel, dInner]               ({@code mixer.out_proj.weight})
 * @param outProjBias [dModel] or null               ({@code mixer.out_proj.bias})
 */
public record LayerWeights(
        FloatTensor norm,
        FloatTensor inProj,
        FloatTensor inProjBias,
        FloatTensor convWeight,
        FloatTensor convBias,
        FloatTensor xProj,
        FloatTensor dtProj,
        FloatTensor dtBias,
        FloatTensor aLog,
        FloatTensor d,
        FloatTensor outProj,
        FloatTensor outProjBias) {

    /** Zero-filled parameters (or gradients) of the right shapes for {@code c}. */
    public static LayerWeights zeros(MambaConfig c) {
        return new LayerWeights(
                FloatTensor.zeros(c.dModel()),
                FloatTensor.zeros(2 * c.dInner(), c.dModel()),
                c.projBias() ? FloatTensor.zeros(2 * c.dInner()) : null,
                FloatTensor.zeros(c.dInner(), c.dConv()),
                c.convBias() ? FloatTensor.zeros(c.dInner()) : null,
                FloatTensor.zeros(c.xProjOut(), c.dInner()),
                FloatTensor.zeros(c.dInner(), c.dtRank()),
                FloatTensor.zeros(c.dInner()),
                FloatTensor.zeros(c.dInner(), c.dState()),
                FloatTensor.zeros(c.dInner()),
                FloatTensor.zeros(c.dModel(), c.dInner()),
                c.projBias() ? FloatTensor.zeros(c.dModel()) : null);
    }
}
