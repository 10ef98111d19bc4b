package org.jmamba.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.jmamba.MambaConfig;

/**
 * Reads a model's {@code config.json} in either layout and writes the Hugging Face one.
 *
 * <p><b>Hugging Face</b> ({@code MambaConfig} of transformers; detected by {@code hidden_size}):
 * {@code hidden_size}, {@code num_hidden_layers}, {@code vocab_size} are required; the rest take
 * transformers' defaults when absent, so a config loads here as it would there: {@code state_size}
 * 16, {@code expand} 2, {@code conv_kernel} 4, {@code time_step_rank} "auto" (ceil(hidden/16)),
 * {@code use_bias} false, {@code use_conv_bias} true, {@code layer_norm_epsilon} 1e-5,
 * {@code residual_in_fp32} true, {@code tie_word_embeddings} true; {@code intermediate_size}
 * defaults to expand x hidden_size and must agree with it when both are given.
 *
 * <p><b>mamba_ssm</b> (detected by {@code d_model}): {@code d_model}, {@code n_layer},
 * {@code vocab_size} required; {@code ssm_cfg} {d_state 16, d_conv 4, expand 2, dt_rank "auto",
 * bias false, conv_bias true}, {@code rms_norm} true, {@code residual_in_fp32} true,
 * {@code pad_vocab_size_multiple} 8, {@code tie_embeddings} true. The norm epsilon is always
 * 1e-5 (the layout has no field for it) and the vocabulary is padded up to a multiple of
 * {@code pad_vocab_size_multiple}, as {@code MambaLMHeadModel} does.
 *
 * <p>Fields this library does not implement (another {@code model_type}, an activation other than
 * SiLU, LayerNorm instead of RMSNorm, Mamba-2 layers, attention layers, an MLP) are rejected, never
 * ignored. Unrelated fields (initialisation, caching) are ignored.
 */
public final class ConfigJson {
    public static final String LAYOUT_HF = "hf";
    public static final String LAYOUT_MAMBA_SSM = "mamba_ssm";

    /** Real configs are a few hundred bytes; anything near this is not a config. */
    static final long MAX_CONFIG_BYTES = 16L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private ConfigJson() {
    }

    /** Reads and validates {@code file}. */
    public static LoadedConfig read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_CONFIG_BYTES) {
                throw new CheckpointException(file, "config of " + size + " bytes is too large");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e, e);
        }
        return parse(file, bytes);
    }

    /** Parses config JSON; {@code file} names the source in messages. */
    public static LoadedConfig parse(Path file, byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot parse: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "config is not a JSON object");
        }
        boolean hf = root.has("hidden_size");
        boolean ssm = root.has("d_model");
        if (hf && ssm) {
            throw new CheckpointException(file, "config has both 'hidden_size' (Hugging Face) and 'd_model' "
                    + "(mamba_ssm); cannot tell the layout");
        }
        if (!hf && !ssm) {
            throw new CheckpointException(file, "config has neither 'hidden_size' (Hugging Face layout) nor "
                    + "'d_model' (mamba_ssm layout): not a Mamba config");
        }
        Fields f = new Fields(file, root, "");
        return hf ? parseHf(file, f) : parseSsm(file, f);
    }

    private static LoadedConfig parseHf(Path file, Fields f) {
        f.requireTextIfPresent("model_type", "mamba");
        f.requireTextIfPresent("hidden_act", "silu");
        int dModel = f.requiredPositiveInt("hidden_size");
        int nLayer = f.requiredPositiveInt("num_hidden_layers");
        int vocab = f.requiredPositiveInt("vocab_size");
        int dState = f.positiveInt("state_size", 16);
        int expand = f.positiveInt("expand", 2);
        int dConv = f.positiveInt("conv_kernel", 4);
        long fromExpand = (long) expand * dModel;
        int dInner;
        if (f.has("intermediate_size")) {
            dInner = f.requiredPositiveInt("intermediate_size");
            if (f.has("expand") && dInner != fromExpand) {
                throw f.error("intermediate_size", "is " + dInner + " but expand x hidden_size = " + fromExpand);
            }
        } else {
            if (fromExpand > Integer.MAX_VALUE) {
                throw f.error("expand", "expand x hidden_size = " + fromExpand + " is too large");
            }
            dInner = (int) fromExpand;
        }
        int dtRank = f.rank("time_step_rank", dModel);
        boolean projBias = f.bool("use_bias", false);
        boolean convBias = f.bool("use_conv_bias", true);
        double eps = f.positiveDouble("layer_norm_epsilon", 1e-5);
        boolean resFp32 = f.bool("residual_in_fp32", true);
        boolean tie = f.bool("tie_word_embeddings", true);
        TokenIds ids = new TokenIds(f.tokenId("eos_token_id"), f.tokenId("bos_token_id"), f.tokenId("pad_token_id"));
        MambaConfig c = build(file, dModel, nLayer, vocab, dState, dConv, dInner, dtRank, projBias, convBias, eps,
                resFp32, tie);
        return new LoadedConfig(c, ids, LAYOUT_HF, file);
    }

    private static LoadedConfig parseSsm(Path file, Fields f) {
        int dModel = f.requiredPositiveInt("d_model");
        int nLayer = f.requiredPositiveInt("n_layer");
        int vocab = f.requiredPositiveInt("vocab_size");
        if (f.has("d_intermediate") && f.nonNegativeInt("d_intermediate", 0) != 0) {
            throw f.error("d_intermediate", "is non-zero: Mamba blocks with an MLP are not supported");
        }
        if (f.has("attn_layer_idx")) {
            JsonNode a = f.node("attn_layer_idx");
            if (!a.isArray()) {
                throw f.error("attn_layer_idx", "is not a list");
            }
            if (!a.isEmpty()) {
                throw f.error("attn_layer_idx", "names attention layers: hybrid models are not supported");
            }
        }
        if (!f.bool("rms_norm", true)) {
            throw f.error("rms_norm", "is false: the LayerNorm variant of Mamba is not supported, only RMSNorm");
        }
        boolean resFp32 = f.bool("residual_in_fp32", true);
        f.bool("fused_add_norm", true); // a kernel choice in mamba_ssm, same numbers either way; type-checked
        int padMultiple = f.positiveInt("pad_vocab_size_multiple", 8);
        boolean tie = f.bool("tie_embeddings", true);

        Fields s;
        if (f.has("ssm_cfg") && !f.node("ssm_cfg").isNull()) {
            JsonNode cfg = f.node("ssm_cfg");
            if (!cfg.isObject()) {
                throw f.error("ssm_cfg", "is not a JSON object");
            }
            s = new Fields(file, cfg, "ssm_cfg.");
        } else {
            s = new Fields(file, JSON.createObjectNode(), "ssm_cfg.");
        }
        if (s.has("layer")) {
            s.requireTextIfPresent("layer", "Mamba1");
        }
        int dState = s.positiveInt("d_state", 16);
        int dConv = s.positiveInt("d_conv", 4);
        int expand = s.positiveInt("expand", 2);
        int dtRank = s.rank("dt_rank", dModel);
        boolean projBias = s.bool("bias", false);
        boolean convBias = s.bool("conv_bias", true);
        long dInner = (long) expand * dModel;
        if (dInner > Integer.MAX_VALUE) {
            throw s.error("expand", "expand x d_model = " + dInner + " is too large");
        }
        // MambaLMHeadModel: vocab_size += pad_vocab_size_multiple - vocab_size % pad_vocab_size_multiple
        long padded = vocab;
        if (padded % padMultiple != 0) {
            padded += padMultiple - padded % padMultiple;
        }
        if (padded > Integer.MAX_VALUE) {
            throw f.error("vocab_size", "padded vocabulary " + padded + " is too large");
        }
        MambaConfig c = build(file, dModel, nLayer, (int) padded, dState, dConv, (int) dInner, dtRank, projBias, convBias,
                1e-5, resFp32, tie);
        return new LoadedConfig(c, TokenIds.NONE, LAYOUT_MAMBA_SSM, file);
    }

    private static MambaConfig build(Path file, int dModel, int nLayer, int vocab, int dState, int dConv, int dInner,
                                     int dtRank, boolean projBias, boolean convBias, double eps, boolean resFp32,
                                     boolean tie) {
        try {
            return new MambaConfig(dModel, nLayer, vocab, dState, dConv, dInner, dtRank, projBias, convBias, eps,
                    resFp32, tie);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid config: " + e.getMessage(), e);
        }
    }

    /** The Hugging Face {@code config.json} for {@code c}, as UTF-8 bytes. */
    public static byte[] toHfJson(MambaConfig c, TokenIds ids) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("MambaForCausalLM");
        o.put("model_type", "mamba");
        o.put("hidden_size", c.dModel());
        o.put("num_hidden_layers", c.nLayer());
        o.put("vocab_size", c.vocabSize());
        o.put("state_size", c.dState());
        if (c.dInner() % c.dModel() == 0) {
            o.put("expand", c.dInner() / c.dModel());
        }
        o.put("intermediate_size", c.dInner());
        o.put("conv_kernel", c.dConv());
        o.put("time_step_rank", c.dtRank());
        o.put("use_bias", c.projBias());
        o.put("use_conv_bias", c.convBias());
        o.put("layer_norm_epsilon", c.normEps());
        o.put("residual_in_fp32", c.residualInFp32());
        o.put("tie_word_embeddings", c.tieEmbeddings());
        o.put("hidden_act", "silu");
        ids.bos().ifPresent(v -> o.put("bos_token_id", v));
        ids.eos().ifPresent(v -> o.put("eos_token_id", v));
        ids.pad().ifPresent(v -> o.put("pad_token_id", v));
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a config", e);
        }
    }

    /** Writes the Hugging Face {@code config.json} for {@code c} atomically. */
    public static void writeHf(Path file, MambaConfig c, TokenIds ids) {
        AtomicFiles.write(file, toHfJson(c, ids));
    }

    /** Typed access to one JSON object's fields, with messages naming the file and the field. */
    private static final class Fields {
        private final Path file;
        private final JsonNode obj;
        private final String prefix;

        Fields(Path file, JsonNode obj, String prefix) {
            this.file = file;
            this.obj = obj;
            this.prefix = prefix;
        }

        boolean has(String key) {
            return obj.has(key);
        }

        JsonNode node(String key) {
            return obj.get(key);
        }

        CheckpointException error(String key, String problem) {
            return new CheckpointException(file, "field '" + prefix + key + "' " + problem);
        }

        int requiredPositiveInt(String key) {
            if (!obj.has(key) || obj.get(key).isNull()) {
                throw error(key, "is missing (required)");
            }
            return positiveInt(key, 0);
        }

        int positiveInt(String key, int def) {
            int v = intValue(key, def);
            if (v <= 0) {
                throw error(key, "must be positive, got " + v);
            }
            return v;
        }

        int nonNegativeInt(String key, int def) {
            int v = intValue(key, def);
            if (v < 0) {
                throw error(key, "must not be negative, got " + v);
            }
            return v;
        }

        private int intValue(String key, int def) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            if (!n.isIntegralNumber()) {
                throw error(key, "must be an integer, got " + describe(n));
            }
            if (!n.canConvertToInt()) {
                throw error(key, "is out of range: " + n);
            }
            return n.intValue();
        }

        /** {@code "auto"} (ceil(dModel/16), as the reference) or a positive integer. */
        int rank(String key, int dModel) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull() || (n.isTextual() && n.textValue().equals("auto"))) {
                return MambaConfig.autoDtRank(dModel);
            }
            if (n.isTextual()) {
                throw error(key, "must be \"auto\" or a positive integer, got \"" + n.textValue() + "\"");
            }
            return positiveInt(key, 0);
        }

        boolean bool(String key, boolean def) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            if (!n.isBoolean()) {
                throw error(key, "must be true or false, got " + describe(n));
            }
            return n.booleanValue();
        }

        double positiveDouble(String key, double def) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            if (!n.isNumber()) {
                throw error(key, "must be a number, got " + describe(n));
            }
            double v = n.doubleValue();
            if (!(v > 0) || Double.isInfinite(v)) {
                throw error(key, "must be a positive finite number, got " + n);
            }
            return v;
        }

        OptionalInt tokenId(String key) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) {
                return OptionalInt.empty();
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                throw error(key, "must be a non-negative integer or null, got " + describe(n));
            }
            return OptionalInt.of(n.intValue());
        }

        void requireTextIfPresent(String key, String expected) {
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) {
                return;
            }
            if (!n.isTextual() || !n.textValue().equals(expected)) {
                throw error(key, "is " + describe(n) + "; only \"" + expected + "\" is supported");
            }
        }

        private static String describe(JsonNode n) {
            String s = n.toString();
            return s.length() > 60 ? s.substring(0, 60) + "..." : s;
        }
    }
}
