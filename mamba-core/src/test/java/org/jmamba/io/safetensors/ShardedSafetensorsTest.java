package org.jmamba.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jmamba.FloatTensor;
import org.jmamba.MambaWeights;
import org.jmamba.io.Checkpoint;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.DType;
import org.jmamba.io.GoldenFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {
    @TempDir
    Path dir;

    /** Splits the golden model into two shards and writes an index mapping each tensor. */
    private Map<String, String> shardGolden() throws IOException {
        Map<String, String> weightMap = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(GoldenFiles.golden("tiny/model.safetensors"))) {
            List<String> names = f.names();
            SafetensorsWriter a = new SafetensorsWriter().metadata("format", "pt");
            SafetensorsWriter b = new SafetensorsWriter().metadata("format", "pt");
            for (int i = 0; i < names.size(); i++) {
                String n = names.get(i);
                int[] shape = f.info(n).intShape(f.path());
                boolean first = i < names.size() / 2;
                (first ? a : b).addFloats(n, DType.F32, f.readFloats(n), shape);
                weightMap.put(n, first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            }
            a.write(dir.resolve("model-00001-of-00002.safetensors"));
            b.write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        Files.copy(GoldenFiles.golden("tiny/config.json"), dir.resolve("config.json"));
        writeIndex(weightMap);
        return weightMap;
    }

    private void writeIndex(Map<String, String> weightMap) throws IOException {
        StringBuilder sb = new StringBuilder("{\"metadata\": {\"total_size\": 392960}, \"weight_map\": {");
        List<String> parts = new ArrayList<>();
        weightMap.forEach((k, v) -> parts.add("\"" + k + "\": \"" + v.replace("\\", "\\\\") + "\""));
        sb.append(String.join(", ", parts)).append("}}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), sb);
    }

    private Path index() {
        return dir.resolve("model.safetensors.index.json");
    }

    private void assertFails(String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index()).close());
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void shardedCheckpointLoadsLikeTheSingleFile() throws IOException {
        shardGolden();
        Checkpoint sharded = Checkpoints.load(dir);
        assertEquals(Checkpoints.FORMAT_SHARDED_SAFETENSORS, sharded.format());
        Checkpoint single = Checkpoints.load(GoldenFiles.tiny());
        MambaWeights a = sharded.weights();
        MambaWeights b = single.weights();
        for (Map.Entry<String, FloatTensor> e : b.named().entrySet()) {
            assertArrayEquals(e.getValue().data(), a.named().get(e.getKey()).data(), e.getKey());
        }
        try (ShardedSafetensors s = ShardedSafetensors.open(index())) {
            assertEquals(2, s.shards().size());
            assertEquals("model-00002-of-00002.safetensors", s.fileOf("backbone.norm_f.weight").getFileName().toString());
        }
    }

    @Test
    void shardOutsideTheDirectoryIsRejected() throws IOException {
        Map<String, String> m = shardGolden();
        m.put("backbone.norm_f.weight", "../model-00002-of-00002.safetensors");
        writeIndex(m);
        assertFails("backbone.norm_f.weight", "outside the checkpoint directory");
        m.put("backbone.norm_f.weight", dir.resolve("model-00002-of-00002.safetensors").toAbsolutePath().toString());
        writeIndex(m);
        assertFails("outside the checkpoint directory");
    }

    @Test
    void missingShardIsRejected() throws IOException {
        Map<String, String> m = shardGolden();
        m.put("backbone.norm_f.weight", "model-00003-of-00002.safetensors");
        writeIndex(m);
        assertFails("backbone.norm_f.weight", "does not exist");
    }

    @Test
    void tensorInTwoShardsIsRejected() throws IOException {
        Map<String, String> m = shardGolden();
        // a third shard repeating a tensor of the first one
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model-00001-of-00002.safetensors"))) {
            String n = "backbone.embeddings.weight";
            new SafetensorsWriter().addFloats(n, DType.F32, f.readFloats(n), 512, 64)
                    .addFloats("extra", DType.F32, new float[] {1f}, 1)
                    .write(dir.resolve("model-extra.safetensors"));
        }
        m.put("extra", "model-extra.safetensors");
        writeIndex(m);
        assertFails("backbone.embeddings.weight", "two shards");
    }

    @Test
    void tensorMappedToTheWrongShardIsRejected() throws IOException {
        Map<String, String> m = shardGolden();
        m.put("backbone.norm_f.weight", "model-00001-of-00002.safetensors");
        writeIndex(m);
        assertFails("backbone.norm_f.weight", "does not contain it");
    }

    @Test
    void tensorMissingFromTheIndexIsRejected() throws IOException {
        Map<String, String> m = shardGolden();
        m.remove("backbone.norm_f.weight");
        writeIndex(m);
        assertFails("backbone.norm_f.weight", "not listed in the weight_map");
    }

    @Test
    void malformedIndexIsRejected() throws IOException {
        shardGolden();
        Files.writeString(index(), "{\"weight_map\": [1]}");
        assertFails("weight_map");
        Files.writeString(index(), "{\"weight_map\": {\"a\": 3}}");
        assertFails("tensor 'a'", "not a string");
        Files.writeString(index(), "{\"weight_map\": ");
        assertFails("not valid JSON");
    }
}
