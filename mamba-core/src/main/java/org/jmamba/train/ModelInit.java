package org.jmamba.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/**
 * Initial weights for a model trained from scratch, following the reference implementation
 * ({@code mamba_ssm}: {@code Mamba.__init__} then {@code MambaLMHeadModel._init_weights}):
 * <ul>
 *   <li>embedding ~ N(0, initializerRange^2); norms (every block's and norm_f) = 1;</li>
 *   <li>in_proj, x_proj (and an untied lm_head): PyTorch's {@code nn.Linear} default,
 *       {@code kaiming_uniform_(a=sqrt 5)} = U(-1/sqrt(fan_in), 1/sqrt(fan_in)); their biases
 *       (when the config has them) are zeroed as {@code _init_weights} does;</li>
 *   <li>conv1d: PyTorch's {@code nn.Conv1d} default: weight and bias U(±1/sqrt(dConv)) (depthwise,
 *       fan_in = kernel width); this bias is not zeroed (it is not an {@code nn.Linear});</li>
 *   <li>dt_proj weight U(±dtScale/sqrt(dtRank)); dt_proj bias = softplus^-1(Δ) with Δ log-uniform in
 *       [dtMin, dtMax], floored at dtInitFloor, so that softplus(bias) starts at Δ;</li>
 *   <li>A_log[d, n] = log(n + 1) (S4D-real: A = -(1..N) for every channel); D = 1;</li>
 *   <li>out_proj: kaiming-uniform as above, then divided by {@code sqrt(nLayer)}
 *       ({@code rescale_prenorm_residual} with one residual per Mamba block); its bias is zeroed.</li>
 * </ul>
 * Deterministic: the same config, options and seed give bit-identical weights. Tensors are filled
 * in a fixed order from one seeded {@link Rng}.
 */
public final class ModelInit {
    private ModelInit() {
    }

    /** Reference initialisation with the default options. */
    public static MambaWeights initialize(MambaConfig config, long seed) {
        return initialize(config, InitOptions.reference(), seed);
    }

    public static MambaWeights initialize(MambaConfig c, InitOptions o, long seed) {
        Rng rng = new Rng(seed);
        FloatTensor embedding = FloatTensor.zeros(c.vocabSize(), c.dModel());
        fillNormal(embedding, o.initializerRange(), rng);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayer(); i++) {
            layers.add(initLayer(c, o, rng));
        }
        FloatTensor normF = ones(c.dModel());
        FloatTensor head = null;
        if (!c.tieEmbeddings()) {
            head = FloatTensor.zeros(c.vocabSize(), c.dModel());
            fillUniform(head, 1.0 / Math.sqrt(c.dModel()), rng);
        }
        return new MambaWeights(c, embedding, layers, normF, head);
    }

    private static LayerWeights initLayer(MambaConfig c, InitOptions o, Rng rng) {
        int dInner = c.dInner();
        FloatTensor norm = ones(c.dModel());

        FloatTensor inProj = FloatTensor.zeros(2 * dInner, c.dModel());
        fillUniform(inProj, 1.0 / Math.sqrt(c.dModel()), rng);
        FloatTensor inProjBias = c.projBias() ? FloatTensor.zeros(2 * dInner) : null;

        double convBound = 1.0 / Math.sqrt(c.dConv());
        FloatTensor convWeight = FloatTensor.zeros(dInner, c.dConv());
        fillUniform(convWeight, convBound, rng);
        FloatTensor convBias = null;
        if (c.convBias()) {
            convBias = FloatTensor.zeros(dInner);
            fillUniform(convBias, convBound, rng);
        }

        FloatTensor xProj = FloatTensor.zeros(c.xProjOut(), dInner);
        fillUniform(xProj, 1.0 / Math.sqrt(dInner), rng);

        FloatTensor dtProj = FloatTensor.zeros(dInner, c.dtRank());
        fillUniform(dtProj, o.dtScale() / Math.sqrt(c.dtRank()), rng);
        FloatTensor dtBias = FloatTensor.zeros(dInner);
        double logMin = Math.log(o.dtMin());
        double logMax = Math.log(o.dtMax());
        for (int d = 0; d < dInner; d++) {
            double dt = Math.exp(logMin + rng.nextDouble() * (logMax - logMin));
            dt = Math.max(dt, o.dtInitFloor());
            dtBias.data()[d] = (float) inverseSoftplus(dt);
        }

        // S4D-real: A = -(n+1) for state n, the same for every channel.
        FloatTensor aLog = FloatTensor.zeros(dInner, c.dState());
        for (int d = 0; d < dInner; d++) {
            for (int n = 0; n < c.dState(); n++) {
                aLog.data()[d * c.dState() + n] = (float) Math.log(n + 1);
            }
        }
        FloatTensor dSkip = ones(dInner);

        FloatTensor outProj = FloatTensor.zeros(c.dModel(), dInner);
        fillUniform(outProj, 1.0 / Math.sqrt(dInner), rng);
        if (o.rescalePrenormResidual()) {
            float s = (float) (1.0 / Math.sqrt(c.nLayer()));
            float[] w = outProj.data();
            for (int i = 0; i < w.length; i++) {
                w[i] *= s;
            }
        }
        FloatTensor outProjBias = c.projBias() ? FloatTensor.zeros(c.dModel()) : null;
        return new LayerWeights(norm, inProj, inProjBias, convWeight, convBias, xProj, dtProj, dtBias,
                aLog, dSkip, outProj, outProjBias);
    }

    /**
     * softplus^-1(y) = y + log(1 - e^-y) = log(e^y - 1), written with expm1 so that it stays exact
     * for the small Δ (1e-4) where e^y - 1 would cancel.
     */
    static double inverseSoftplus(double y) {
        return y + Math.log(-Math.expm1(-y));
    }

    private static FloatTensor ones(int n) {
        FloatTensor t = FloatTensor.zeros(n);
        Arrays.fill(t.data(), 1f);
        return t;
    }

    private static void fillUniform(FloatTensor t, double bound, Rng rng) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) rng.uniform(-bound, bound);
        }
    }

    private static void fillNormal(FloatTensor t, double std, Rng rng) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (std * rng.nextGaussian());
        }
    }
}
