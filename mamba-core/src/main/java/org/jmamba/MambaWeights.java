package org.jmamba;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * All parameters of a Mamba language model in fp32, the master copy that inference kernels read and
 * the optimiser updates in place. The same type holds gradients (same names, same shapes).
 *
 * <p>{@link #named()} is the one canonical naming of parameters, the Hugging Face one
 * ({@code backbone.layers.3.mixer.A_log}); checkpoint readers translate other layouts into it.
 */
public final class MambaWeights {
    private final MambaConfig config;
    private final FloatTensor embedding;
    private final List<LayerWeights> layers;
    private final FloatTensor normF;
    private final FloatTensor lmHead;

    /**
     * @param embedding [vocabSize, dModel]
     * @param layers    nLayer blocks
     * @param normF     [dModel]
     * @param lmHead    [vocabSize, dModel], or null when the config ties it to the embedding
     */
    public MambaWeights(MambaConfig config, FloatTensor embedding, List<LayerWeights> layers,
                        FloatTensor normF, FloatTensor lmHead) {
        this.config = Objects.requireNonNull(config, "config");
        this.embedding = embedding;
        this.layers = List.copyOf(layers);
        this.normF = normF;
        this.lmHead = lmHead;
        validate();
    }

    /** Zero-filled weights (or a gradient accumulator) for {@code config}. */
    public static MambaWeights zeros(MambaConfig config) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.nLayer(); i++) {
            layers.add(LayerWeights.zeros(config));
        }
        return new MambaWeights(config,
                FloatTensor.zeros(config.vocabSize(), config.dModel()),
                layers,
                FloatTensor.zeros(config.dModel()),
                config.tieEmbeddings() ? null : FloatTensor.zeros(config.vocabSize(), config.dModel()));
    }

    public MambaConfig config() {
        return config;
    }

    public FloatTensor embedding() {
        return embedding;
    }

    public List<LayerWeights> layers() {
        return layers;
    }

    public LayerWeights layer(int i) {
        return layers.get(i);
    }

    public FloatTensor normF() {
        return normF;
    }

    /** The output head: the embedding itself when tied. */
    public FloatTensor head() {
        return lmHead != null ? lmHead : embedding;
    }

    /** The untied head, or null when tied. */
    public FloatTensor untiedHead() {
        return lmHead;
    }

    /**
     * Every parameter under its Hugging Face name, in a fixed order (embedding, each layer, final
     * norm, untied head). Tensors are shared, not copied.
     */
    public Map<String, FloatTensor> named() {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("backbone.embeddings.weight", embedding);
        for (int i = 0; i < layers.size(); i++) {
            LayerWeights l = layers.get(i);
            String p = "backbone.layers." + i + ".";
            m.put(p + "norm.weight", l.norm());
            m.put(p + "mixer.A_log", l.aLog());
            m.put(p + "mixer.D", l.d());
            m.put(p + "mixer.conv1d.weight", l.convWeight());
            putIfPresent(m, p + "mixer.conv1d.bias", l.convBias());
            m.put(p + "mixer.in_proj.weight", l.inProj());
            putIfPresent(m, p + "mixer.in_proj.bias", l.inProjBias());
            m.put(p + "mixer.x_proj.weight", l.xProj());
            m.put(p + "mixer.dt_proj.weight", l.dtProj());
            m.put(p + "mixer.dt_proj.bias", l.dtBias());
            m.put(p + "mixer.out_proj.weight", l.outProj());
            putIfPresent(m, p + "mixer.out_proj.bias", l.outProjBias());
        }
        m.put("backbone.norm_f.weight", normF);
        putIfPresent(m, "lm_head.weight", lmHead);
        return Collections.unmodifiableMap(m);
    }

    /** A deep copy. */
    public MambaWeights copy() {
        List<LayerWeights> ls = new ArrayList<>();
        for (LayerWeights l : layers) {
            ls.add(new LayerWeights(l.norm().copy(), l.inProj().copy(), copyOrNull(l.inProjBias()),
                    l.convWeight().copy(), copyOrNull(l.convBias()), l.xProj().copy(), l.dtProj().copy(),
                    l.dtBias().copy(), l.aLog().copy(), l.d().copy(), l.outProj().copy(),
                    copyOrNull(l.outProjBias())));
        }
        return new MambaWeights(config, embedding.copy(), ls, normF.copy(), copyOrNull(lmHead));
    }

    /** Sets every element of every tensor to zero (for reusing a gradient accumulator). */
    public void zero() {
        for (FloatTensor t : named().values()) {
            Arrays.fill(t.data(), 0f);
        }
    }

    private static FloatTensor copyOrNull(FloatTensor t) {
        return t == null ? null : t.copy();
    }

    private static void putIfPresent(Map<String, FloatTensor> m, String name, FloatTensor t) {
        if (t != null) {
            m.put(name, t);
        }
    }

    /** Checks every tensor's presence and shape against the config; names the offending tensor. */
    private void validate() {
        MambaConfig c = config;
        if (layers.size() != c.nLayer()) {
            throw new IllegalArgumentException("config has " + c.nLayer() + " layers but " + layers.size() + " were given");
        }
        if (c.tieEmbeddings() != (lmHead == null)) {
            throw new IllegalArgumentException(c.tieEmbeddings()
                    ? "lm_head.weight given but the config ties the head to the embedding"
                    : "lm_head.weight missing and the config does not tie embeddings");
        }
        Map<String, int[]> shapes = expectedShapes(c);
        Map<String, FloatTensor> actual = named();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            FloatTensor t = actual.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("missing tensor " + e.getKey());
            }
            if (!t.hasShape(e.getValue())) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : actual.keySet()) {
            if (!shapes.containsKey(name)) {
                throw new IllegalArgumentException("unexpected tensor " + name + " for this config");
            }
        }
    }

    /** The shape of every parameter the config calls for, under its Hugging Face name. */
    public static Map<String, int[]> expectedShapes(MambaConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("backbone.embeddings.weight", new int[] {c.vocabSize(), c.dModel()});
        for (int i = 0; i < c.nLayer(); i++) {
            String p = "backbone.layers." + i + ".";
            m.put(p + "norm.weight", new int[] {c.dModel()});
            m.put(p + "mixer.A_log", new int[] {c.dInner(), c.dState()});
            m.put(p + "mixer.D", new int[] {c.dInner()});
            m.put(p + "mixer.conv1d.weight", new int[] {c.dInner(), c.dConv()});
            if (c.convBias()) {
                m.put(p + "mixer.conv1d.bias", new int[] {c.dInner()});
            }
            m.put(p + "mixer.in_proj.weight", new int[] {2 * c.dInner(), c.dModel()});
            if (c.projBias()) {
                m.put(p + "mixer.in_proj.bias", new int[] {2 * c.dInner()});
            }
            m.put(p + "mixer.x_proj.weight", new int[] {c.xProjOut(), c.dInner()});
            m.put(p + "mixer.dt_proj.weight", new int[] {c.dInner(), c.dtRank()});
            m.put(p + "mixer.dt_proj.bias", new int[] {c.dInner()});
            m.put(p + "mixer.out_proj.weight", new int[] {c.dModel(), c.dInner()});
            if (c.projBias()) {
                m.put(p + "mixer.out_proj.bias", new int[] {c.dModel()});
            }
        }
        m.put("backbone.norm_f.weight", new int[] {c.dModel()});
        if (!c.tieEmbeddings()) {
            m.put("lm_head.weight", new int[] {c.vocabSize(), c.dModel()});
        }
        return m;
    }
}
