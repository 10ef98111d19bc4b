package org.jmamba.train;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jmamba.FloatTensor;
import org.jmamba.MambaWeights;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization"), the optimiser of the
 * Mamba paper, with PyTorch's update order:
 * <pre>
 *   p -= lr * wd * p                       (decoupled decay, before the Adam step; only where decays(name))
 *   m  = b1 * m + (1 - b1) * g
 *   v  = b2 * v + (1 - b2) * g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * The state (m and v per parameter, and the step count t) is fp32 like the parameters and can be
 * exported and restored exactly for checkpoints. Parameters are updated in place.
 */
public final class AdamW {
    private final AdamWConfig config;
    private final Map<String, FloatTensor> m = new LinkedHashMap<>();
    private final Map<String, FloatTensor> v = new LinkedHashMap<>();
    private long t;

    /** A fresh optimiser with zero moments for every parameter of {@code params}. */
    public AdamW(AdamWConfig config, MambaWeights params) {
        this.config = Objects.requireNonNull(config, "config");
        for (Map.Entry<String, FloatTensor> e : params.named().entrySet()) {
            m.put(e.getKey(), FloatTensor.zeros(e.getValue().shape()));
            v.put(e.getKey(), FloatTensor.zeros(e.getValue().shape()));
        }
    }

    public AdamWConfig config() {
        return config;
    }

    /** Number of updates applied so far (the t of the bias corrections). */
    public long stepCount() {
        return t;
    }

    /**
     * Whether decoupled weight decay applies to a parameter. As in the reference: none on
     * {@code A_log} and {@code D} (mamba_ssm marks them {@code _no_weight_decay}), none on norms and
     * biases (the GPT-3 recipe the paper follows), and none on any other 1-D tensor; matrices
     * (projections, conv kernels, embedding, untied head) decay.
     */
    public static boolean decays(String name, FloatTensor param) {
        if (name.endsWith(".A_log") || name.endsWith(".D") || name.endsWith(".bias")
                || name.endsWith("norm.weight") || name.endsWith("norm_f.weight")) {
            return false;
        }
        return param.rank() >= 2;
    }

    /**
     * One update of every parameter of {@code params} from {@code grads} (same layout) at learning
     * rate {@code lr}.
     *
     * @throws IllegalArgumentException if the parameters do not match the ones this optimiser was
     *                                  made for, or {@code lr} is negative or not finite
     */
    public void step(MambaWeights params, MambaWeights grads, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be non-negative and finite, got " + lr);
        }
        Map<String, FloatTensor> p = params.named();
        Map<String, FloatTensor> g = grads.named();
        checkLayout(p, "parameters");
        checkLayout(g, "gradients");
        t++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double stepSize = lr / (1.0 - Math.pow(b1, t));
        double sqrtBias2 = Math.sqrt(1.0 - Math.pow(b2, t));
        for (Map.Entry<String, FloatTensor> e : p.entrySet()) {
            String name = e.getKey();
            float[] w = e.getValue().data();
            float[] gr = g.get(name).data();
            float[] mm = m.get(name).data();
            float[] vv = v.get(name).data();
            float decay = decays(name, e.getValue()) ? (float) (1.0 - lr * config.weightDecay()) : 1f;
            float fb1 = (float) b1;
            float fb2 = (float) b2;
            float one1 = (float) (1.0 - b1);
            float one2 = (float) (1.0 - b2);
            float fStep = (float) stepSize;
            float fBias2 = (float) sqrtBias2;
            float eps = (float) config.eps();
            for (int i = 0; i < w.length; i++) {
                float gi = gr[i];
                mm[i] = fb1 * mm[i] + one1 * gi;
                vv[i] = fb2 * vv[i] + one2 * gi * gi;
                float denom = (float) Math.sqrt(vv[i]) / fBias2 + eps;
                w[i] = w[i] * decay - fStep * mm[i] / denom;
            }
        }
    }

    /** The state as named tensors ({@code m.<param>}, {@code v.<param>}); shared, not copied. */
    public Map<String, FloatTensor> stateTensors() {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        m.forEach((k, x) -> out.put("m." + k, x));
        v.forEach((k, x) -> out.put("v." + k, x));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Restores a state saved with {@link #stateTensors()} and {@link #stepCount()}; every tensor
     * must be present with the right shape (checked before anything is changed).
     */
    public void restore(Map<String, FloatTensor> tensors, long stepCount) {
        if (stepCount < 0) {
            throw new IllegalArgumentException("optimiser step count must be non-negative, got " + stepCount);
        }
        for (Map<String, FloatTensor> which : List.of(m, v)) {
            String prefix = which == m ? "m." : "v.";
            for (Map.Entry<String, FloatTensor> e : which.entrySet()) {
                FloatTensor src = tensors.get(prefix + e.getKey());
                if (src == null) {
                    throw new IllegalArgumentException("optimiser state lacks tensor " + prefix + e.getKey());
                }
                if (!src.hasShape(e.getValue().shape())) {
                    throw new IllegalArgumentException("optimiser tensor " + prefix + e.getKey() + " has shape "
                            + Arrays.toString(src.shape()) + ", expected "
                            + Arrays.toString(e.getValue().shape()));
                }
            }
        }
        if (tensors.size() != m.size() + v.size()) {
            throw new IllegalArgumentException("optimiser state has " + tensors.size() + " tensors, expected "
                    + (m.size() + v.size()));
        }
        m.forEach((k, x) -> System.arraycopy(tensors.get("m." + k).data(), 0, x.data(), 0, x.size()));
        v.forEach((k, x) -> System.arraycopy(tensors.get("v." + k).data(), 0, x.data(), 0, x.size()));
        t = stepCount;
    }

    private void checkLayout(Map<String, FloatTensor> given, String what) {
        if (!given.keySet().equals(m.keySet())) {
            throw new IllegalArgumentException(what + " do not match the optimiser's parameters: got "
                    + given.keySet() + ", expected " + m.keySet());
        }
        for (Map.Entry<String, FloatTensor> e : given.entrySet()) {
            if (e.getValue().size() != m.get(e.getKey()).size()) {
                throw new IllegalArgumentException(what + " tensor " + e.getKey() + " has " + e.getValue().size()
                        + " elements, expected " + m.get(e.getKey()).size());
            }
        }
    }
}
