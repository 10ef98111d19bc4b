package org.jmamba.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.jmamba.MambaConfig;
import org.junit.jupiter.api.Test;

class ConfigJsonTest {
    private static final Path NAME = Path.of("some/dir/config.json");

    private static LoadedConfig parse(String json) {
        return ConfigJson.parse(NAME, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertFails(String json, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse(json));
        assertTrue(e.getMessage().contains("config.json"), "names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void goldenConfigsInBothLayouts() {
        LoadedConfig hf = ConfigJson.read(GoldenFiles.golden("tiny/config.json"));
        LoadedConfig ssm = ConfigJson.read(GoldenFiles.golden("tiny/ssm-format/config.json"));
        MambaConfig expected = new MambaConfig(64, 2, 512, 16, 4, 128, 4, false, true, 1e-5, true, true);
        assertEquals(expected, hf.config());
        assertEquals(expected, ssm.config());
        assertEquals("hf", hf.layout());
        assertEquals("mamba_ssm", ssm.layout());
        assertEquals(TokenIds.of(0, 0, 0), hf.ids());
        assertEquals(TokenIds.NONE, ssm.ids());
    }

    @Test
    void hfDefaultsAndAutoRank() {
        LoadedConfig c = parse("""
                {"hidden_size": 768, "num_hidden_layers": 24, "vocab_size": 50280, "time_step_rank": "auto",
                 "eos_token_id": 0, "pad_token_id": null, "model_type": "mamba", "hidden_act": "silu"}""");
        assertEquals(new MambaConfig(768, 24, 50280, 16, 4, 1536, 48, false, true, 1e-5, true, true), c.config());
        assertEquals(new TokenIds(OptionalInt.of(0), OptionalInt.empty(), OptionalInt.empty()), c.ids());
        assertEquals(7, parse("{\"hidden_size\": 100, \"num_hidden_layers\": 1, \"vocab_size\": 5}").config().dtRank(),
                "ceil(100/16)");
        assertEquals(96, parse("""
                {"hidden_size": 32, "num_hidden_layers": 1, "vocab_size": 5, "intermediate_size": 96}""").config().dInner());
    }

    @Test
    void mambaSsmPadsTheVocabularyAndUsesItsDefaults() {
        // state-spaces/mamba-130m's config, verbatim
        LoadedConfig c = parse("""
                {"d_model": 768, "n_layer": 24, "vocab_size": 50277, "ssm_cfg": {}, "rms_norm": true,
                 "residual_in_fp32": true, "fused_add_norm": true, "pad_vocab_size_multiple": 8}""");
        assertEquals(new MambaConfig(768, 24, 50280, 16, 4, 1536, 48, false, true, 1e-5, true, true), c.config());
        assertEquals(50277, parse("""
                {"d_model": 8, "n_layer": 1, "vocab_size": 50277, "pad_vocab_size_multiple": 1}""").config().vocabSize());
        assertEquals(50280, parse("""
                {"d_model": 8, "n_layer": 1, "vocab_size": 50280}""").config().vocabSize(), "already a multiple of 8");
        MambaConfig s = parse("""
                {"d_model": 32, "n_layer": 2, "vocab_size": 10, "tie_embeddings": false,
                 "ssm_cfg": {"d_state": 8, "d_conv": 3, "expand": 3, "dt_rank": 5, "bias": true, "conv_bias": false,
                             "dt_min": 0.001, "use_fast_path": true}}""").config();
        assertEquals(new MambaConfig(32, 2, 16, 8, 3, 96, 5, true, false, 1e-5, true, false), s);
    }

    @Test
    void unsupportedVariantsAreRejected() {
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"rms_norm\": false}", "rms_norm", "LayerNorm");
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"ssm_cfg\": {\"layer\": \"Mamba2\"}}",
                "ssm_cfg.layer", "Mamba2");
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"attn_layer_idx\": [1]}", "attn_layer_idx");
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"d_intermediate\": 64}", "d_intermediate");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"model_type\": \"falcon_mamba\"}",
                "model_type", "falcon_mamba");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"hidden_act\": \"gelu\"}",
                "hidden_act");
    }

    @Test
    void missingWrongAndNegativeFields() {
        assertFails("{\"hidden_size\": 8, \"vocab_size\": 5}", "field 'num_hidden_layers'", "missing");
        assertFails("{\"d_model\": 8, \"n_layer\": 1}", "field 'vocab_size'", "missing");
        assertFails("{\"hidden_size\": \"8\", \"num_hidden_layers\": 1, \"vocab_size\": 5}", "field 'hidden_size'", "integer");
        assertFails("{\"hidden_size\": 8.5, \"num_hidden_layers\": 1, \"vocab_size\": 5}", "field 'hidden_size'", "integer");
        assertFails("{\"hidden_size\": -8, \"num_hidden_layers\": 1, \"vocab_size\": 5}", "field 'hidden_size'", "positive");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"state_size\": 0}", "field 'state_size'");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"use_bias\": \"no\"}",
                "field 'use_bias'", "true or false");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"time_step_rank\": \"big\"}",
                "field 'time_step_rank'");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"layer_norm_epsilon\": -1}",
                "field 'layer_norm_epsilon'");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"eos_token_id\": [0, 1]}",
                "field 'eos_token_id'");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 5, \"expand\": 2, \"intermediate_size\": 20}",
                "field 'intermediate_size'");
        assertFails("{\"hidden_size\": 8, \"num_hidden_layers\": 99999999999, \"vocab_size\": 5}", "num_hidden_layers", "range");
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"ssm_cfg\": {\"d_state\": -4}}", "field 'ssm_cfg.d_state'");
        assertFails("{\"d_model\": 8, \"n_layer\": 1, \"vocab_size\": 5, \"ssm_cfg\": [1]}", "field 'ssm_cfg'");
        assertFails("{\"hidden_size\": 65536, \"num_hidden_layers\": 1, \"vocab_size\": 65536}", "invalid config", "too large");
    }

    @Test
    void layoutDetectionAndBadJson() {
        assertFails("{\"n_embd\": 8}", "neither");
        assertFails("{\"hidden_size\": 8, \"d_model\": 8}", "both");
        assertFails("{\"hidden_size\": 8,", "not valid JSON");
        assertFails("[]", "not a JSON object");
        assertFails("{\"hidden_size\": 8, \"hidden_size\": 9}", "not valid JSON");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigJson.read(Path.of("no/such/config.json")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void hfJsonRoundTrips() {
        for (MambaConfig c : new MambaConfig[] {
                new MambaConfig(64, 2, 512, 16, 4, 128, 4, false, true, 1e-5, true, true),
                new MambaConfig(24, 3, 1000, 8, 3, 50, 7, true, false, 3.5e-6, false, false)}) {
            TokenIds ids = TokenIds.of(3, -1, 1);
            LoadedConfig back = ConfigJson.parse(NAME, ConfigJson.toHfJson(c, ids));
            assertEquals(c, back.config());
            assertEquals(ids, back.ids());
        }
    }
}
