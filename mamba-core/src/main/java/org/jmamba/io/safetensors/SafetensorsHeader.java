package org.jmamba.io.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.DType;
import org.jmamba.io.TensorInfo;

/**
 * The parsed and validated JSON header of a safetensors file.
 *
 * <p>File layout: 8 bytes little-endian {@code u64} header length {@code n}; {@code n} bytes of
 * UTF-8 JSON (possibly padded with spaces); the data section. The JSON maps each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} with offsets relative to the data
 * section, plus an optional {@code "__metadata__"} object of string values.
 *
 * <p>Every rule is checked here, before any tensor is read: known dtype, non-negative dims,
 * {@code numel * dtypeSize == end - begin} without overflow, offsets inside the data section,
 * no two tensors overlapping, no duplicate names, no unknown keys.
 */
final class SafetensorsHeader {
    /** Largest header accepted; the reference implementation uses the same bound (100 MB). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** One tensor's header entry; offsets are relative to the start of the data section. */
    record Entry(TensorInfo info, long begin, long end) {
    }

    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;

    private SafetensorsHeader(Map<String, String> metadata, Map<String, Entry> entries) {
        this.metadata = Collections.unmodifiableMap(metadata);
        this.entries = Collections.unmodifiableMap(entries);
    }

    Map<String, String> metadata() {
        return metadata;
    }

    Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Checks the 8-byte length prefix against the file size before anything is allocated.
     *
     * @return the header length as an int
     */
    static int checkHeaderLength(Path file, long headerLength, long fileSize) {
        if (fileSize < 8) {
            throw new CheckpointException(file, "not a safetensors file: " + fileSize
                    + " bytes, shorter than the 8-byte header length");
        }
        // The u64 was read as a signed long: a negative value is a length above 2^63.
        if (headerLength < 0 || headerLength > fileSize - 8) {
            throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the file size " + fileSize + " minus the 8-byte prefix (truncated or corrupt file)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength < 2) {
            throw new CheckpointException(file, "header length " + headerLength + " is too small for a JSON object");
        }
        return (int) headerLength;
    }

    /**
     * Parses and validates the JSON header.
     *
     * @param dataLength bytes in the data section (file size - 8 - header length)
     */
    static SafetensorsHeader parse(Path file, byte[] json, long dataLength) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new CheckpointException(file, "header could not be parsed: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            String name = f.getKey();
            if (name.equals(METADATA_KEY)) {
                parseMetadata(file, f.getValue(), metadata);
            } else {
                entries.put(name, parseEntry(file, name, f.getValue(), dataLength));
            }
        }
        checkNoOverlap(file, entries);
        return new SafetensorsHeader(metadata, entries);
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new CheckpointException(file, METADATA_KEY + " is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(file, METADATA_KEY + " entry '" + m.getKey()
                        + "' is not a string (found " + m.getValue().getNodeType() + ")");
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataLength) {
        if (!node.isObject()) {
            throw CheckpointException.tensor(file, name, "header entry is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> p : node.properties()) {
            String k = p.getKey();
            if (!ENTRY_KEYS.contains(k)) {
                throw CheckpointException.tensor(file, name, "unknown header field '" + k + "'");
            }
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw CheckpointException.tensor(file, name, "missing or non-string 'dtype'");
        }
        DType dtype = DType.fromSafetensorsName(dt.textValue()).orElseThrow(() -> CheckpointException.tensor(file, name,
                "unsupported dtype '" + dt.textValue() + "' (supported: F64, F32, F16, BF16, I64, I32)"));

        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw CheckpointException.tensor(file, name, "missing or non-array 'shape'");
        }
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw CheckpointException.tensor(file, name, "shape dimension " + i + " is not a non-negative integer: " + d);
            }
            shape[i] = d.longValue();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw CheckpointException.tensor(file, name, "shape " + sh + " overflows");
            }
        }

        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw CheckpointException.tensor(file, name, "missing 'data_offsets' or not a pair [begin, end]");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw CheckpointException.tensor(file, name, "data_offsets " + off + " are not non-negative integers");
            }
            be[i] = o.longValue();
        }
        long begin = be[0];
        long end = be[1];
        if (begin > end) {
            throw CheckpointException.tensor(file, name, "data_offsets " + off + " end before they begin");
        }
        if (end > dataLength) {
            throw CheckpointException.tensor(file, name, "data_offsets " + off + " out of range: the data section has "
                    + dataLength + " bytes");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(file, name, "shape " + sh + " overflows");
        }
        if (bytes != end - begin) {
            throw CheckpointException.tensor(file, name, "shape " + sh + " of " + dtype + " needs " + bytes
                    + " bytes but data_offsets " + off + " span " + (end - begin));
        }
        return new Entry(new TensorInfo(name, dtype, shape), begin, end);
    }

    private static void checkNoOverlap(Path file, Map<String, Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() == e.end()) {
                continue; // an empty tensor occupies no bytes
            }
            if (prev != null && e.begin() < prev.end()) {
                throw CheckpointException.tensor(file, e.info().name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlap those of '" + prev.info().name() + "' [" + prev.begin() + ", " + prev.end() + "]");
            }
            prev = e;
        }
    }
}
