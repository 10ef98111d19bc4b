package org.jmamba.io.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.FileRegion;
import org.jmamba.io.TensorInfo;
import org.jmamba.io.TensorSource;

/**
 * A checkpoint split over several safetensors files, described by an index
 * ({@code model.safetensors.index.json}): {@code {"metadata": {...}, "weight_map": {tensor: shard}}}.
 *
 * <p>On open every rule is checked: shard names are plain relative paths that stay inside the
 * index's directory and exist; every shard is a valid safetensors file; each tensor of the weight
 * map is in the shard it names; no tensor appears in two shards; no shard holds a tensor the index
 * does not list.
 */
public final class ShardedSafetensors implements TensorSource {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Largest index file accepted (real ones are tens of kilobytes). */
    static final long MAX_INDEX_BYTES = 64L << 20;

    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<String> names;

    private ShardedSafetensors(Path index, List<SafetensorsFile> shards, Map<String, SafetensorsFile> byTensor) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.byTensor = Collections.unmodifiableMap(byTensor);
        this.names = List.copyOf(byTensor.keySet());
    }

    /** Opens the index and all its shards; on failure nothing stays open. */
    public static ShardedSafetensors open(Path indexFile) {
        JsonNode root = readIndex(indexFile);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(indexFile, "missing 'weight_map' object");
        }
        Path dir = indexFile.toAbsolutePath().getParent().normalize();
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(indexFile, "weight_map entry for tensor '" + e.getKey() + "' is not a string");
            }
            weightMap.put(e.getKey(), e.getValue().textValue());
        }
        if (weightMap.isEmpty()) {
            throw new CheckpointException(indexFile, "weight_map is empty");
        }

        Map<String, SafetensorsFile> shardByName = new LinkedHashMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        boolean ok = false;
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                if (!shardByName.containsKey(shardName)) {
                    Path shardPath = resolveShard(indexFile, dir, e.getKey(), shardName);
                    SafetensorsFile f = SafetensorsFile.open(shardPath);
                    opened.add(f);
                    shardByName.put(shardName, f);
                }
            }
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile f = shardByName.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new CheckpointException(indexFile, "tensor '" + e.getKey() + "' is mapped to shard "
                            + e.getValue() + " which does not contain it");
                }
                byTensor.put(e.getKey(), f);
            }
            for (Map.Entry<String, SafetensorsFile> s : shardByName.entrySet()) {
                for (String t : s.getValue().names()) {
                    SafetensorsFile owner = byTensor.get(t);
                    if (owner == null) {
                        throw new CheckpointException(indexFile, "tensor '" + t + "' in shard " + s.getKey()
                                + " is not listed in the weight_map");
                    }
                    if (owner != s.getValue()) {
                        throw new CheckpointException(indexFile, "tensor '" + t + "' appears in two shards: "
                                + s.getKey() + " and " + owner.path().getFileName());
                    }
                }
            }
            ok = true;
            return new ShardedSafetensors(indexFile, opened, byTensor);
        } finally {
            if (!ok) {
                opened.forEach(SafetensorsFile::close);
            }
        }
    }

    private static JsonNode readIndex(Path indexFile) {
        try {
            if (!Files.isRegularFile(indexFile)) {
                throw new CheckpointException(indexFile, "no such file");
            }
            long size = Files.size(indexFile);
            if (size > MAX_INDEX_BYTES) {
                throw new CheckpointException(indexFile, "index of " + size + " bytes exceeds the limit of "
                        + MAX_INDEX_BYTES);
            }
            JsonNode root = JSON.readTree(Files.readAllBytes(indexFile));
            if (root == null || !root.isObject()) {
                throw new CheckpointException(indexFile, "index is not a JSON object");
            }
            return root;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(indexFile, "index is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(indexFile, "cannot read: " + e, e);
        }
    }

    /**
     * A shard name must be a plain file name or relative path that stays inside the index's
     * directory (checked on the names, not on real paths: the Hugging Face cache links every file of
     * a snapshot to a blob elsewhere, and that is legitimate).
     */
    private static Path resolveShard(Path indexFile, Path dir, String tensor, String shardName) {
        if (shardName.isEmpty() || shardName.indexOf('\0') >= 0 || shardName.contains("\\")) {
            throw new CheckpointException(indexFile, "tensor '" + tensor + "': invalid shard file name '" + shardName + "'");
        }
        Path rel;
        try {
            rel = Path.of(shardName);
        } catch (java.nio.file.InvalidPathException e) {
            throw new CheckpointException(indexFile, "tensor '" + tensor + "': invalid shard file name '" + shardName + "'", e);
        }
        Path p = dir.resolve(rel).normalize();
        if (rel.isAbsolute() || !p.startsWith(dir) || p.equals(dir)) {
            throw new CheckpointException(indexFile, "tensor '" + tensor + "': shard file '" + shardName
                    + "' is outside the checkpoint directory");
        }
        if (!Files.isRegularFile(p)) {
            throw new CheckpointException(indexFile, "tensor '" + tensor + "': shard file '" + shardName + "' does not exist");
        }
        return p;
    }

    @Override
    public Path path() {
        return index;
    }

    /** The opened shards, in index order. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw CheckpointException.tensor(index, name, "no such tensor in this checkpoint");
        }
        return f;
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public InputStream openRaw(String name) {
        return shard(name).openRaw(name);
    }

    /** The region in the tensor's shard (see {@link SafetensorsFile#fileRegion}). */
    @Override
    public Optional<FileRegion> fileRegion(String name) {
        return shard(name).fileRegion(name);
    }

    @Override
    public Path fileOf(String name) {
        return shard(name).path();
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
