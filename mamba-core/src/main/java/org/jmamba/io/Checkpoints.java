package org.jmamba.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.jmamba.io.safetensors.SafetensorsWriter;
import org.jmamba.io.safetensors.ShardedSafetensors;
import org.jmamba.io.torch.TorchCheckpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and saves whole model checkpoints: a directory with {@code config.json} and weights.
 *
 * <p>Loading reads the config (either layout, see {@link ConfigJson}), opens the weights
 * ({@code model.safetensors}, else {@code model.safetensors.index.json}, else
 * {@code pytorch_model.bin}), maps the names to the Hugging Face ones, checks that exactly the
 * expected tensors are there with the expected shapes, and only then reads and converts the data
 * to fp32. Any problem is a {@link CheckpointException}; nothing is returned half-loaded.
 *
 * <p>Saving writes the Hugging Face layout ({@code config.json} + {@code model.safetensors}), each
 * file atomically.
 */
public final class Checkpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);

    public static final String CONFIG_FILE = "config.json";
    public static final String SAFETENSORS_FILE = "model.safetensors";
    public static final String SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";
    public static final String PYTORCH_FILE = "pytorch_model.bin";

    public static final String FORMAT_SAFETENSORS = "safetensors";
    public static final String FORMAT_SHARDED_SAFETENSORS = "sharded-safetensors";
    public static final String FORMAT_PYTORCH = "pytorch";

    /** The mamba_ssm name of the embedding; every other parameter is named as in Hugging Face. */
    static final String SSM_EMBEDDING = "backbone.embedding.weight";
    static final String HF_EMBEDDING = "backbone.embeddings.weight";
    static final String LM_HEAD = "lm_head.weight";

    private Checkpoints() {
    }

    /**
     * Loads the checkpoint in {@code dir}: {@code config.json} plus the first of
     * {@code model.safetensors}, {@code model.safetensors.index.json}, {@code pytorch_model.bin}.
     */
    public static Checkpoint load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, "not a directory");
        }
        return load(dir.resolve(CONFIG_FILE), findWeights(dir));
    }

    /** The weights file {@link #load(Path)} would read in {@code dir}. */
    public static Path findWeights(Path dir) {
        for (String name : List.of(SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, PYTORCH_FILE)) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new CheckpointException(dir, "no weights found: expected " + SAFETENSORS_FILE + ", "
                + SAFETENSORS_INDEX_FILE + " or " + PYTORCH_FILE);
    }

    /**
     * Loads a checkpoint from an explicit config and weights file; the weights format is chosen by
     * the file name ({@code *.safetensors}, {@code *.index.json}, else a {@code torch.save} zip).
     */
    public static Checkpoint load(Path configFile, Path weightsFile) {
        LoadedConfig cfg = ConfigJson.read(configFile);
        try (TensorSource src = openWeights(weightsFile)) {
            MambaWeights w = readWeights(src, cfg.config());
            String format = src instanceof ShardedSafetensors ? FORMAT_SHARDED_SAFETENSORS
                    : src instanceof SafetensorsFile ? FORMAT_SAFETENSORS : FORMAT_PYTORCH;
            String dtype = storedDtype(src);
            LOG.debug("loaded {} ({} layout, {} {}): {} parameters", weightsFile, cfg.layout(), format, dtype,
                    cfg.config().parameterCount());
            return new Checkpoint(cfg.config(), w, cfg.ids(), weightsFile, cfg.layout(), format, dtype);
        }
    }

    /** Opens a weights file by its name: safetensors, a shard index, or a torch.save zip. */
    public static TensorSource openWeights(Path weightsFile) {
        String n = weightsFile.getFileName().toString();
        if (n.endsWith(".safetensors")) {
            return SafetensorsFile.open(weightsFile);
        }
        if (n.endsWith(".index.json")) {
            return ShardedSafetensors.open(weightsFile);
        }
        return TorchCheckpoint.open(weightsFile);
    }

    /**
     * Reads every parameter of {@code config} from {@code src}, converting to fp32. All names and
     * shapes are validated before any data is read.
     */
    public static MambaWeights readWeights(TensorSource src, MambaConfig config) {
        return readWeights(src, config, 1);
    }

    /**
     * {@link #readWeights(TensorSource, MambaConfig)} with the tensors read by {@code threads}
     * threads of the load's own ({@link ParallelLoads}): the same arrays, bit for bit; the first
     * failure in the checkpoint's order is the one thrown.
     */
    public static MambaWeights readWeights(TensorSource src, MambaConfig config, int threads) {
        Map<String, FloatTensor> t = new HashMap<>();
        try (ParallelLoads<FloatTensor> loads = new ParallelLoads<>(threads)) {
            loads.visit(() -> visitEach(src, config,
                    (name, stored, shape, data) -> loads.submit(data, x -> t.put(name, x))));
        }
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.nLayer(); i++) {
            String p = "backbone.layers." + i + ".";
            layers.add(new LayerWeights(
                    t.get(p + "norm.weight"),
                    t.get(p + "mixer.in_proj.weight"),
                    t.get(p + "mixer.in_proj.bias"),
                    t.get(p + "mixer.conv1d.weight"),
                    t.get(p + "mixer.conv1d.bias"),
                    t.get(p + "mixer.x_proj.weight"),
                    t.get(p + "mixer.dt_proj.weight"),
                    t.get(p + "mixer.dt_proj.bias"),
                    t.get(p + "mixer.A_log"),
                    t.get(p + "mixer.D"),
                    t.get(p + "mixer.out_proj.weight"),
                    t.get(p + "mixer.out_proj.bias")));
        }
        return new MambaWeights(config, t.get(HF_EMBEDDING), layers, t.get("backbone.norm_f.weight"),
                t.get(LM_HEAD));
    }

    /**
     * Reads every parameter of {@code config} from {@code src} as fp32 and hands each to
     * {@code sink} under its Hugging Face name, in the order of {@link MambaWeights#expectedShapes}.
     * All names and shapes are validated before any data is read. Nothing is kept once handed over,
     * so a sink that converts each tensor (to bf16, say) never holds the whole fp32 model.
     */
    public static void readEach(TensorSource src, MambaConfig config, BiConsumer<String, FloatTensor> sink) {
        Objects.requireNonNull(sink, "sink");
        visitEach(src, config, (name, stored, shape, data) -> sink.accept(name, data.get()));
    }

    /** What {@link #visitEach} hands over for one tensor. */
    @FunctionalInterface
    public interface TensorVisitor {
        /**
         * @param name   the Hugging Face name
         * @param stored the name in the source (for {@link TensorSource#info} or {@link TensorSource#fileRegion})
         * @param shape  the validated shape the model uses ({@code [dInner, K]} for a conv weight
         *               stored as {@code [dInner, 1, K]})
         * @param data   reads the tensor as fp32 when called; not calling it reads nothing
         */
        void visit(String name, String stored, int[] shape, Supplier<FloatTensor> data);
    }

    /**
     * {@link #readEach} that leaves reading to the visitor: each tensor is handed over unread, with
     * a supplier that reads it. A loader that can use a tensor's stored bytes directly (mapping them,
     * {@link TensorSource#fileRegion}) skips the read. Validation is the same, all done before the
     * first tensor is handed over; a tied head stored beside the embedding is still compared with it
     * (both are read for that, the embedding then handed over already read).
     */
    public static void visitEach(TensorSource src, MambaConfig config, TensorVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        // Every layer has at least 9 tensors. A config claiming more layers than the file can hold
        // is rejected before the expected-shape table (which grows with nLayer) is built.
        long minimum = 2 + 9L * config.nLayer();
        if (src.names().size() < minimum) {
            throw new CheckpointException(src.path(), "the config declares " + config.nLayer()
                    + " layers, which need at least " + minimum + " tensors, but the checkpoint holds "
                    + src.names().size());
        }
        Map<String, int[]> expected = MambaWeights.expectedShapes(config);
        // canonical (HF) name -> stored name
        Map<String, String> stored = new LinkedHashMap<>();
        String lmHeadTied = null;
        for (String name : src.names()) {
            String canonical = name.equals(SSM_EMBEDDING) ? HF_EMBEDDING : name;
            if (canonical.equals(LM_HEAD) && config.tieEmbeddings()) {
                // mamba_ssm (and some HF exports) save the tied head as well: accepted only if it
                // really is the embedding, checked after reading.
                lmHeadTied = name;
                continue;
            }
            if (!expected.containsKey(canonical)) {
                throw CheckpointException.tensor(src.fileOf(name), name, "unexpected tensor for this config"
                        + (canonical.equals(LM_HEAD) ? " (the config ties the head to the embedding)" : ""));
            }
            String previous = stored.putIfAbsent(canonical, name);
            if (previous != null) {
                throw CheckpointException.tensor(src.fileOf(name), name, "duplicates '" + previous
                        + "' (both name " + canonical + ")");
            }
        }
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            String name = stored.get(e.getKey());
            if (name == null) {
                throw CheckpointException.tensor(src.path(), e.getKey(), "missing from the checkpoint");
            }
            checkShape(src, name, e.getKey(), e.getValue(), config);
        }
        if (lmHeadTied != null) {
            checkShape(src, lmHeadTied, LM_HEAD, new int[] {config.vocabSize(), config.dModel()}, config);
        }

        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            String name = stored.get(e.getKey());
            int[] shape = e.getValue();
            Supplier<FloatTensor> data = () -> new FloatTensor(src.readFloats(name), shape);
            if (lmHeadTied != null && e.getKey().equals(HF_EMBEDDING)) {
                FloatTensor t = data.get();
                float[] head = src.readFloats(lmHeadTied);
                if (!Arrays.equals(head, t.data())) {
                    throw CheckpointException.tensor(src.fileOf(lmHeadTied), lmHeadTied,
                            "differs from the embedding but the config ties them (tie_word_embeddings / tie_embeddings)");
                }
                data = () -> t;
            }
            visitor.visit(e.getKey(), name, shape, data);
        }
    }

    private static void checkShape(TensorSource src, String name, String canonical, int[] want, MambaConfig c) {
        TensorInfo info = src.info(name);
        if (!info.dtype().isFloatingPoint()) {
            throw CheckpointException.tensor(src.fileOf(name), name, "has integer dtype " + info.dtype()
                    + ", expected a floating-point one");
        }
        boolean ok = info.hasShape(want);
        // conv1d.weight is stored as PyTorch's Conv1d keeps it, [dInner, 1, K] (one input channel
        // per group); the model uses it as [dInner, K], the same bytes.
        if (!ok && canonical.endsWith(".mixer.conv1d.weight")) {
            ok = info.hasShape(c.dInner(), 1, c.dConv());
        }
        if (!ok) {
            throw CheckpointException.tensor(src.fileOf(name), name, "has shape " + Arrays.toString(info.shape())
                    + ", expected " + Arrays.toString(want)
                    + (canonical.endsWith(".mixer.conv1d.weight") ? " or [" + c.dInner() + ", 1, " + c.dConv() + "]" : ""));
        }
    }

    private static String storedDtype(TensorSource src) {
        Set<DType> types = EnumSet.noneOf(DType.class);
        for (String n : src.names()) {
            types.add(src.info(n).dtype());
        }
        if (types.size() == 1) {
            return types.iterator().next().safetensorsName();
        }
        return types.stream().map(DType::safetensorsName).collect(Collectors.joining(",", "mixed(", ")"));
    }

    /**
     * Saves {@code weights} in the Hugging Face layout: {@code dir/config.json} and
     * {@code dir/model.safetensors} (F32), each written atomically. Creates {@code dir} if needed.
     */
    public static void save(Path dir, MambaWeights weights, TokenIds ids) {
        save(dir, weights, ids, DType.F32);
    }

    /**
     * Like {@link #save(Path, MambaWeights, TokenIds)} with the weights stored as {@code dtype}
     * (F32, BF16 or F16 rounded to nearest even, or F64).
     */
    public static void save(Path dir, MambaWeights weights, TokenIds ids, DType dtype) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(ids, "ids (use TokenIds.NONE for a model without special tokens)");
        Objects.requireNonNull(dtype, "dtype");
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("weights must be stored as a floating-point dtype, not " + dtype);
        }
        MambaConfig c = weights.config();
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, FloatTensor> e : weights.named().entrySet()) {
            FloatTensor t = e.getValue();
            int[] shape = e.getKey().endsWith(".mixer.conv1d.weight")
                    ? new int[] {c.dInner(), 1, c.dConv()} // as Hugging Face stores it
                    : t.shape();
            w.addFloats(e.getKey(), dtype, t.data(), shape);
        }
        // Weights first, config second: a config always describes weights that are complete.
        w.write(dir.resolve(SAFETENSORS_FILE));
        ConfigJson.writeHf(dir.resolve(CONFIG_FILE), c, ids);
    }
}
