package org.jmamba.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.jmamba.io.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    @TempDir
    Path dir;

    private static final Path TINY = GoldenFiles.tiny();
    private static final Path SSM = TINY.resolve("ssm-format");

    private static void assertSameWeights(MambaWeights expected, MambaWeights actual) {
        Map<String, FloatTensor> a = actual.named();
        assertEquals(expected.named().keySet(), a.keySet());
        for (Map.Entry<String, FloatTensor> e : expected.named().entrySet()) {
            assertArrayEquals(e.getValue().shape(), a.get(e.getKey()).shape(), e.getKey());
            assertArrayEquals(e.getValue().data(), a.get(e.getKey()).data(), e.getKey());
        }
    }

    @Test
    void goldenLoadsIdenticallyInEveryLayout() {
        Checkpoint hf = Checkpoints.load(TINY);
        Checkpoint ssmSafetensors = Checkpoints.load(SSM);
        Checkpoint ssmTorch = Checkpoints.load(SSM.resolve("config.json"), SSM.resolve("pytorch_model.bin"));

        assertEquals(ConfigJson.LAYOUT_HF, hf.layout());
        assertEquals(ConfigJson.LAYOUT_MAMBA_SSM, ssmSafetensors.layout());
        assertEquals(Checkpoints.FORMAT_SAFETENSORS, ssmSafetensors.format());
        assertEquals(Checkpoints.FORMAT_PYTORCH, ssmTorch.format());
        assertEquals("F32", hf.storedDtype());
        assertEquals(TINY.resolve("model.safetensors"), hf.source());

        MambaConfig c = hf.config();
        assertEquals(new MambaConfig(64, 2, 512, 16, 4, 128, 4, false, true, 1e-5, true, true), c);
        assertEquals(c, ssmSafetensors.config());
        assertEquals(c, ssmTorch.config());
        assertEquals(new TokenIds(OptionalInt.of(0), OptionalInt.of(0), OptionalInt.of(0)), hf.ids());
        assertEquals(TokenIds.NONE, ssmTorch.ids());

        assertSameWeights(hf.weights(), ssmSafetensors.weights());
        assertSameWeights(hf.weights(), ssmTorch.weights());
        assertTrue(hf.weights().layer(0).convWeight().hasShape(128, 4));
        assertNull(hf.weights().untiedHead());
    }

    /** Tensors read on several threads of the load's own are the same arrays, for every kind of source. */
    @Test
    void readingOnSeveralThreadsGivesTheSameWeights() {
        MambaConfig c = Checkpoints.load(TINY).config();
        for (Path weights : List.of(TINY.resolve("model.safetensors"), TINY.resolve("model-bf16.safetensors"),
                SSM.resolve("model.safetensors"), SSM.resolve("pytorch_model.bin"))) {
            try (TensorSource src = Checkpoints.openWeights(weights)) {
                MambaConfig config = weights.startsWith(SSM) ? ConfigJson.read(SSM.resolve("config.json")).config() : c;
                MambaWeights one = Checkpoints.readWeights(src, config, 1);
                for (int threads : new int[] {2, 5}) {
                    assertSameWeights(one, Checkpoints.readWeights(src, config, threads));
                }
            }
        }
    }

    @Test
    void loadedValuesAreTheStoredFloats() {
        Checkpoint hf = Checkpoints.load(TINY);
        try (SafetensorsFile f = SafetensorsFile.open(TINY.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                assertArrayEquals(f.readFloats(n), hf.weights().named().get(n).data(), n);
            }
            assertEquals(f.names().size(), hf.weights().named().size());
        }
    }

    @Test
    void bf16CheckpointIsTheF32OneRoundedToNearestEven() {
        Checkpoint f32 = Checkpoints.load(TINY);
        Checkpoint bf16 = Checkpoints.load(TINY.resolve("config.json"), TINY.resolve("model-bf16.safetensors"));
        assertEquals("BF16", bf16.storedDtype());
        Map<String, FloatTensor> b = bf16.weights().named();
        int count = 0;
        for (Map.Entry<String, FloatTensor> e : f32.weights().named().entrySet()) {
            float[] full = e.getValue().data();
            float[] rounded = b.get(e.getKey()).data();
            for (int i = 0; i < full.length; i++) {
                double twin = Bf16Twin.bf16Value(Bf16Twin.roundToBf16(full[i]));
                assertEquals(twin, rounded[i], 0.0, e.getKey() + "[" + i + "]");
                count++;
            }
        }
        assertEquals(f32.config().parameterCount(), count);
    }

    @Test
    void saveThenLoadRoundTrips() throws IOException {
        MambaWeights w = randomWeights(new MambaConfig(16, 3, 37, 4, 3, 40, 2, true, false, 1e-6, true, false));
        TokenIds ids = TokenIds.of(2, 1, -1);
        Checkpoints.save(dir, w, ids);
        Checkpoint back = Checkpoints.load(dir);
        assertEquals(w.config(), back.config());
        assertEquals(ids, back.ids());
        assertSameWeights(w, back.weights());
        assertNotNull(back.weights().untiedHead());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {40, 1, 3}, f.info("backbone.layers.0.mixer.conv1d.weight").shape(),
                    "conv1d stored as Hugging Face stores it");
            assertEquals("pt", f.metadata().get("format"));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of("config.json", "model.safetensors"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void saveRejectsMissingTokenIdsBeforeWritingAnything() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        NullPointerException e = assertThrows(NullPointerException.class, () -> Checkpoints.save(dir, w, null));
        assertTrue(e.getMessage().contains("TokenIds.NONE"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("model.safetensors")), "nothing may be written");
    }

    @Test
    void saveAsBf16RoundsToNearestEven() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE, DType.BF16);
        Checkpoint back = Checkpoints.load(dir);
        assertEquals("BF16", back.storedDtype());
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            float[] got = back.weights().named().get(e.getKey()).data();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Bf16Twin.bf16Value(Bf16Twin.roundToBf16(e.getValue().data()[i])), got[i], 0.0);
            }
        }
    }

    @Test
    void f16F64AndMixedCheckpointsConvertToFp32() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE, DType.F64);
        Checkpoint f64 = Checkpoints.load(dir);
        assertEquals("F64", f64.storedDtype());
        assertSameWeights(w, f64.weights()); // fp32 -> fp64 -> fp32 is exact

        Checkpoints.save(dir, w, TokenIds.NONE, DType.F16);
        Checkpoint f16 = Checkpoints.load(dir);
        assertEquals("F16", f16.storedDtype());
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            float[] got = f16.weights().named().get(e.getKey()).data();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Bf16Twin.f16Value(Bf16Twin.roundToF16(e.getValue().data()[i])), got[i], 0.0);
            }
        }

        SafetensorsWriter sw = new SafetensorsWriter();
        w.named().forEach((n, t) -> sw.add(n, t, n.contains("layers") ? DType.BF16 : DType.F32));
        sw.write(dir.resolve("model.safetensors"));
        Checkpoint mixed = Checkpoints.load(dir);
        assertEquals("mixed(F32,BF16)", mixed.storedDtype());
        assertArrayEquals(w.embedding().data(), mixed.weights().embedding().data());
    }

    @Test
    void tiedHeadSavedAlongsideIsAcceptedOnlyWhenEqual() throws IOException {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        // as mamba_ssm saves it: the head repeated under lm_head.weight
        rewrite(w, Map.of("lm_head.weight", w.embedding().copy()), null);
        assertSameWeights(w, Checkpoints.load(dir).weights());
        FloatTensor other = w.embedding().copy();
        other.data()[5] += 1f;
        rewrite(w, Map.of("lm_head.weight", other), null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("differs"), e.getMessage());
    }

    @Test
    void missingTensorIsRejected() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 2, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        rewrite(w, Map.of(), "backbone.layers.1.mixer.D");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("'backbone.layers.1.mixer.D'") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void misshapenTensorIsRejected() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 2, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        rewrite(w, Map.of("backbone.layers.0.mixer.A_log", FloatTensor.zeros(4, 16)), null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("'backbone.layers.0.mixer.A_log'") && e.getMessage().contains("[16, 4]"),
                e.getMessage());
    }

    @Test
    void unexpectedTensorIsRejected() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        rewrite(w, Map.of("backbone.layers.0.mixer.in_proj.bias", FloatTensor.zeros(32)), null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("'backbone.layers.0.mixer.in_proj.bias'")
                && e.getMessage().contains("unexpected"), e.getMessage());
    }

    @Test
    void bothEmbeddingNamesAtOnceAreRejected() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        rewrite(w, Map.of("backbone.embedding.weight", w.embedding()), null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("backbone.embedding") && e.getMessage().contains("duplicates"), e.getMessage());
    }

    @Test
    void integerTensorIsRejected() {
        MambaWeights w = randomWeights(MambaConfig.of(8, 1, 11, 4, 4));
        Checkpoints.save(dir, w, TokenIds.NONE);
        SafetensorsWriter sw = new SafetensorsWriter();
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            if (e.getKey().equals("backbone.norm_f.weight")) {
                sw.addInts(e.getKey(), new int[8], 8);
            } else {
                sw.add(e.getKey(), e.getValue());
            }
        }
        sw.write(dir.resolve("model.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("'backbone.norm_f.weight'") && e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void directoryWithoutWeightsIsRejected() throws IOException {
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("no weights found"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir.resolve("nothing-here")));
        assertTrue(e.getMessage().contains("nothing-here"), e.getMessage());
    }

    @Test
    void configThatDisagreesWithTheWeightsIsRejected() throws IOException {
        Files.copy(TINY.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"),
                Files.readString(TINY.resolve("config.json")).replace("\"state_size\": 16", "\"state_size\": 8"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("A_log"), e.getMessage());
    }

    @Test
    void absurdLayerCountFailsFastWithoutBuildingTables() throws IOException {
        Files.copy(TINY.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(TINY.resolve("config.json"))
                .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2000000000"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir));
        assertTrue(e.getMessage().contains("2000000000 layers") && e.getMessage().contains("holds 22"), e.getMessage());
    }

    /** Rewrites dir/model.safetensors from {@code w} plus extra tensors, minus {@code drop}. */
    private void rewrite(MambaWeights w, Map<String, FloatTensor> extra, String drop) {
        SafetensorsWriter sw = new SafetensorsWriter();
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            if (!e.getKey().equals(drop) && !extra.containsKey(e.getKey())) {
                sw.add(e.getKey(), e.getValue());
            }
        }
        extra.forEach(sw::add);
        sw.write(dir.resolve("model.safetensors"));
    }

    static MambaWeights randomWeights(MambaConfig c) {
        MambaWeights w = MambaWeights.zeros(c);
        SplittableRandom rnd = new SplittableRandom(c.hashCode());
        for (FloatTensor t : w.named().values()) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) rnd.nextGaussian();
            }
        }
        assertFalse(w.named().isEmpty());
        return w;
    }
}
