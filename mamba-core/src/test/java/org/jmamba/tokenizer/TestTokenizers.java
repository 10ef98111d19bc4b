package org.jmamba.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Test resources: the golden tokenizers, read from the classpath. */
final class TestTokenizers {
    private TestTokenizers() {
    }

    static final String GOLDEN = "/golden/tokenizer/tokenizer.json";
    static final String LEGACY = "/golden/tokenizer/legacy/tokenizer.json";
    static final ObjectMapper JSON = new ObjectMapper();

    static Path resourcePath(String name) {
        try {
            return Path.of(TestTokenizers.class.getResource(name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }

    static JsonNode readJson(String name) {
        try (InputStream in = TestTokenizers.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden tokenizer (modern merges). */
    static BpeTokenizer golden() {
        try {
            return BpeTokenizer.load(resourcePath(GOLDEN));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A mutable copy of the golden tokenizer.json, for building variants. */
    static ObjectNode goldenJson() {
        return (ObjectNode) readJson(GOLDEN).deepCopy();
    }

    static BpeTokenizer load(JsonNode json, String name) throws IOException {
        return BpeTokenizer.load(new ByteArrayInputStream(JSON.writeValueAsBytes(json)), name);
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).intValue();
        }
        return out;
    }
}
