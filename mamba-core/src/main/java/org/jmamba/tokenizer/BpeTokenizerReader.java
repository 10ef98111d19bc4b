package org.jmamba.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face {@code tokenizer.json} describing a byte-level BPE tokenizer, trusting
 * nothing in it: every field that matters is type-checked, every id range-checked, every merge
 * resolved, and anything this implementation would not reproduce exactly is refused with a message
 * that names the file and the field. Nothing is built until all checks pass.
 */
final class BpeTokenizerReader {
    private BpeTokenizerReader() {
    }

    /** Larger files are refused before reading (the GPT-NeoX tokenizer.json is about 2 MB). */
    static final long MAX_FILE_BYTES = 1L << 30;

    /** Everything a {@link BpeTokenizer} is built from, already validated. */
    record Parts(String source,
                 String[] tokenTexts,
                 Map<String, Integer> vocab,
                 List<AddedToken> addedTokens,
                 int[] mergeLeft, int[] mergeRight, int[] mergeResult,
                 Normalization normalization,
                 boolean addPrefixSpace, boolean useRegex, boolean ignoreMerges,
                 int[] prefixIds, int[] suffixIds) {
    }

    static Parts read(Path path) throws IOException {
        String source = path.toString();
        long size = Files.size(path);
        if (size > MAX_FILE_BYTES) {
            throw new TokenizerFormatException(source, "file is " + size + " bytes; a tokenizer file may have at most "
                    + MAX_FILE_BYTES + " bytes");
        }
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, source);
        }
    }

    static Parts read(InputStream in, String source) throws IOException {
        JsonMapper mapper = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        JsonNode root;
        try {
            root = mapper.readTree(in);
        } catch (JsonProcessingException e) {
            throw new TokenizerFormatException(source, "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")" : ""), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerFormatException(source, "expected a JSON object at the top level");
        }
        return new Parser(source, root).parse();
    }

    private static final class Parser {
        private final String source;
        private final JsonNode root;

        Parser(String source, JsonNode root) {
            this.source = source;
            this.root = root;
        }

        private TokenizerFormatException fail(String problem) {
            return new TokenizerFormatException(source, problem);
        }

        Parts parse() throws TokenizerFormatException {
            JsonNode model = root.get("model");
            if (model == null || !model.isObject()) {
                throw fail("missing \"model\" object");
            }
            JsonNode type = model.get("type");
            if (type != null && !(type.isTextual() && type.asText().equals("BPE"))) {
                throw fail("model.type is " + type + "; only \"BPE\" (byte-level BPE) is supported");
            }
            checkModelOptions(model);
            Map<String, Integer> vocab = readVocab(model);
            List<AddedToken> added = readAddedTokens(vocab);
            String[] texts = assignIds(vocab, added);
            requireByteSymbols(vocab);
            Normalization normalization = readNormalizer(root.get("normalizer"), "normalizer");

            JsonNode pre = root.get("pre_tokenizer");
            if (pre == null || !pre.isObject() || !"ByteLevel".equals(pre.path("type").asText(null))) {
                throw fail("pre_tokenizer is " + describe(pre) + "; only {\"type\": \"ByteLevel\"} is supported");
            }
            boolean addPrefixSpace = optionalBoolean(pre, "add_prefix_space", "pre_tokenizer", true);
            boolean useRegex = optionalBoolean(pre, "use_regex", "pre_tokenizer", true);

            JsonNode decoder = root.get("decoder");
            if (decoder == null || !decoder.isObject() || !"ByteLevel".equals(decoder.path("type").asText(null))) {
                throw fail("decoder is " + describe(decoder) + "; only {\"type\": \"ByteLevel\"} is supported");
            }
            List<int[]> template = new ArrayList<>();
            readPostProcessor(root.get("post_processor"), "post_processor", texts.length, template);
            int[] prefix = template.isEmpty() ? new int[0] : template.get(0);
            int[] suffix = template.isEmpty() ? new int[0] : template.get(1);

            boolean ignoreMerges = optionalBoolean(model, "ignore_merges", "model", false);
            int[][] merges = readMerges(model, vocab);
            return new Parts(source, texts, vocab, added, merges[0], merges[1], merges[2], normalization,
                    addPrefixSpace, useRegex, ignoreMerges, prefix, suffix);
        }

        private void checkModelOptions(JsonNode model) throws TokenizerFormatException {
            JsonNode dropout = model.get("dropout");
            if (dropout != null && !dropout.isNull() && !(dropout.isNumber() && dropout.asDouble() == 0.0)) {
                throw fail("model.dropout is " + dropout + "; BPE dropout (random merges) is not supported");
            }
            for (String field : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
                JsonNode v = model.get(field);
                if (v != null && !v.isNull() && !(v.isTextual() && v.asText().isEmpty())) {
                    throw fail("model." + field + " is " + v + "; only null is supported for byte-level BPE");
                }
            }
            for (String field : List.of("fuse_unk", "byte_fallback", "ignore_merges")) {
                JsonNode v = model.get(field);
                if (v != null && !v.isNull() && !v.isBoolean()) {
                    throw fail("model." + field + " must be true or false, found " + v);
                }
            }
        }

        private Map<String, Integer> readVocab(JsonNode model) throws TokenizerFormatException {
            JsonNode vocabNode = model.get("vocab");
            if (vocabNode == null || !vocabNode.isObject()) {
                throw fail("missing \"model.vocab\" object");
            }
            if (vocabNode.isEmpty()) {
                throw fail("model.vocab is empty");
            }
            Map<String, Integer> vocab = new LinkedHashMap<>(vocabNode.size() * 2);
            for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
                String token = e.getKey();
                String where = "model.vocab[" + quote(token) + "]";
                checkTokenText(token, where);
                vocab.put(token, readId(e.getValue(), where));
            }
            JsonNode unk = model.get("unk_token");
            if (unk != null && !unk.isNull() && !(unk.isTextual() && vocab.containsKey(unk.asText()))) {
                throw fail("model.unk_token " + unk + " is not in model.vocab");
            }
            return vocab;
        }

        private int readId(JsonNode v, String where) throws TokenizerFormatException {
            if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
                throw fail(where + ": id must be an integer, found " + describe(v));
            }
            int id = v.intValue();
            if (id < 0) {
                throw fail(where + ": id " + id + " is negative");
            }
            return id;
        }

        private void checkTokenText(String token, String where) throws TokenizerFormatException {
            if (token.isEmpty()) {
                throw fail(where + ": a token may not be empty");
            }
            if (!Text.isWellFormed(token)) {
                throw fail(where + ": token contains an unpaired surrogate (not valid Unicode)");
            }
        }

        private List<AddedToken> readAddedTokens(Map<String, Integer> vocab) throws TokenizerFormatException {
            JsonNode arr = root.get("added_tokens");
            List<AddedToken> out = new ArrayList<>();
            if (arr == null || arr.isNull()) {
                return out;
            }
            if (!arr.isArray()) {
                throw fail("added_tokens must be an array, found " + describe(arr));
            }
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < arr.size(); i++) {
                JsonNode t = arr.get(i);
                String where = "added_tokens[" + i + "]";
                if (!t.isObject()) {
                    throw fail(where + " must be an object, found " + describe(t));
                }
                JsonNode c = t.get("content");
                if (c == null || !c.isTextual()) {
                    throw fail(where + ".content must be a string, found " + describe(c));
                }
                String content = c.asText();
                checkTokenText(content, where + ".content");
                int id = readId(t.get("id"), where + ".id");
                boolean special = optionalBoolean(t, "special", where, false);
                AddedToken token = new AddedToken(id, content,
                        optionalBoolean(t, "single_word", where, false),
                        optionalBoolean(t, "lstrip", where, false),
                        optionalBoolean(t, "rstrip", where, false),
                        optionalBoolean(t, "normalized", where, !special),
                        special);
                if (!seen.add(content)) {
                    throw fail(where + " repeats the token " + quote(content));
                }
                Integer inVocab = vocab.get(content);
                if (inVocab != null && inVocab != id) {
                    throw fail(where + " gives " + quote(content) + " id " + id + " but model.vocab gives it id " + inVocab);
                }
                out.add(token);
            }
            return out;
        }

        /** Every id in [0, n) must name exactly one token; returns the token text of each id. */
        private String[] assignIds(Map<String, Integer> vocab, List<AddedToken> added) throws TokenizerFormatException {
            int n = vocab.size();
            for (AddedToken t : added) {
                if (!vocab.containsKey(t.content())) {
                    n++;
                }
            }
            String[] texts = new String[n];
            for (Map.Entry<String, Integer> e : vocab.entrySet()) {
                place(texts, e.getValue(), e.getKey(), "model.vocab[" + quote(e.getKey()) + "]");
            }
            for (AddedToken t : added) {
                if (!vocab.containsKey(t.content())) {
                    place(texts, t.id(), t.content(), "added token " + quote(t.content()));
                }
            }
            return texts; // n distinct ids below n: no gaps
        }

        private void place(String[] texts, int id, String text, String where) throws TokenizerFormatException {
            if (id >= texts.length) {
                throw fail(where + ": id " + id + " is out of range; the " + texts.length
                        + " tokens must have the ids 0.." + (texts.length - 1));
            }
            if (texts[id] != null) {
                throw fail("duplicate id " + id + ": used by " + quote(texts[id]) + " and " + quote(text));
            }
            texts[id] = text;
        }

        private void requireByteSymbols(Map<String, Integer> vocab) throws TokenizerFormatException {
            for (int b = 0; b < 256; b++) {
                String symbol = String.valueOf(ByteLevel.charOf(b));
                if (!vocab.containsKey(symbol)) {
                    throw fail(String.format("model.vocab lacks the byte-level symbol %s for byte 0x%02X; "
                            + "a byte-level BPE vocabulary must have all 256", quote(symbol), b));
                }
            }
        }

        private int[][] readMerges(JsonNode model, Map<String, Integer> vocab) throws TokenizerFormatException {
            JsonNode arr = model.get("merges");
            if (arr == null || !arr.isArray()) {
                throw fail("missing \"model.merges\" array");
            }
            int[] left = new int[arr.size()];
            int[] right = new int[arr.size()];
            int[] result = new int[arr.size()];
            int rank = 0;
            for (int i = 0; i < arr.size(); i++) {
                JsonNode m = arr.get(i);
                String where = "model.merges[" + i + "]";
                String a;
                String b;
                if (m.isTextual()) {
                    // Legacy form "a b": byte-level tokens never contain a space (it is written Ġ).
                    String line = m.asText();
                    if (line.startsWith("#version")) {
                        continue; // a merges.txt header, skipped as Hugging Face does
                    }
                    String[] parts = line.split(" ", -1);
                    if (parts.length != 2) {
                        throw fail(where + " is " + quote(line) + "; expected two tokens separated by one space");
                    }
                    a = parts[0];
                    b = parts[1];
                } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                    a = m.get(0).asText();
                    b = m.get(1).asText();
                } else {
                    throw fail(where + " is " + describe(m) + "; expected \"a b\" or [\"a\", \"b\"]");
                }
                left[rank] = lookup(vocab, a, where);
                right[rank] = lookup(vocab, b, where);
                result[rank] = lookup(vocab, a + b, where);
                rank++;
            }
            return new int[][]{
                    java.util.Arrays.copyOf(left, rank), java.util.Arrays.copyOf(right, rank),
                    java.util.Arrays.copyOf(result, rank)};
        }

        private int lookup(Map<String, Integer> vocab, String token, String where) throws TokenizerFormatException {
            Integer id = vocab.get(token);
            if (id == null) {
                throw fail(where + " names " + quote(token) + ", which is not in model.vocab");
            }
            return id;
        }

        private Normalization readNormalizer(JsonNode n, String where) throws TokenizerFormatException {
            List<Normalizer.Form> forms = new ArrayList<>();
            collectForms(n, where, forms, 0);
            return forms.isEmpty() ? Normalization.NONE : new Normalization(forms);
        }

        private void collectForms(JsonNode n, String where, List<Normalizer.Form> forms, int depth)
                throws TokenizerFormatException {
            if (n == null || n.isNull()) {
                return;
            }
            String type = n.isObject() ? n.path("type").asText(null) : null;
            if (type == null) {
                throw fail(where + " is " + describe(n) + "; expected an object with a \"type\"");
            }
            switch (type) {
                case "NFC" -> forms.add(Normalizer.Form.NFC);
                case "NFD" -> forms.add(Normalizer.Form.NFD);
                case "NFKC" -> forms.add(Normalizer.Form.NFKC);
                case "NFKD" -> forms.add(Normalizer.Form.NFKD);
                case "Sequence" -> {
                    JsonNode list = n.get("normalizers");
                    if (list == null || !list.isArray() || depth > 8) {
                        throw fail(where + ".normalizers must be an array of normalizers");
                    }
                    for (int i = 0; i < list.size(); i++) {
                        collectForms(list.get(i), where + ".normalizers[" + i + "]", forms, depth + 1);
                    }
                }
                default -> throw fail(where + " type " + quote(type)
                        + " is not supported (supported: NFC, NFD, NFKC, NFKD and Sequence of those)");
            }
        }

        /**
         * ByteLevel post-processing only adjusts offsets, which this API does not expose, so it
         * changes nothing here. TemplateProcessing adds fixed tokens around a single sequence; its
         * ids are collected into {@code template} as {prefix, suffix}.
         */
        private void readPostProcessor(JsonNode n, String where, int vocabSize, List<int[]> template)
                throws TokenizerFormatException {
            if (n == null || n.isNull()) {
                return;
            }
            String type = n.isObject() ? n.path("type").asText(null) : null;
            if (type == null) {
                throw fail(where + " is " + describe(n) + "; expected an object with a \"type\"");
            }
            switch (type) {
                case "ByteLevel" -> {
                }
                case "Sequence" -> {
                    JsonNode list = n.get("processors");
                    if (list == null || !list.isArray() || where.length() > 200) {
                        throw fail(where + ".processors must be an array of post-processors");
                    }
                    for (int i = 0; i < list.size(); i++) {
                        readPostProcessor(list.get(i), where + ".processors[" + i + "]", vocabSize, template);
                    }
                }
                case "TemplateProcessing" -> {
                    if (!template.isEmpty()) {
                        throw fail(where + ": more than one TemplateProcessing is not supported");
                    }
                    readTemplate(n, where, vocabSize, template);
                }
                default -> throw fail(where + " type " + quote(type)
                        + " is not supported (supported: ByteLevel, TemplateProcessing, Sequence of those)");
            }
        }

        private void readTemplate(JsonNode n, String where, int vocabSize, List<int[]> template)
                throws TokenizerFormatException {
            JsonNode single = n.get("single");
            JsonNode specials = n.get("special_tokens");
            if (single == null || !single.isArray()) {
                throw fail(where + ".single must be an array");
            }
            IntList prefix = new IntList(4);
            IntList suffix = new IntList(4);
            boolean seenSequence = false;
            for (int i = 0; i < single.size(); i++) {
                JsonNode piece = single.get(i);
                String pw = where + ".single[" + i + "]";
                if (piece.has("Sequence")) {
                    if (seenSequence || !"A".equals(piece.get("Sequence").path("id").asText(null))) {
                        throw fail(pw + ": expected the sequence \"A\" exactly once");
                    }
                    seenSequence = true;
                } else if (piece.has("SpecialToken")) {
                    String name = piece.get("SpecialToken").path("id").asText(null);
                    JsonNode spec = specials == null || name == null ? null : specials.get(name);
                    JsonNode ids = spec == null ? null : spec.get("ids");
                    if (ids == null || !ids.isArray()) {
                        throw fail(pw + ": special token " + quote(String.valueOf(name))
                                + " has no \"ids\" array in " + where + ".special_tokens");
                    }
                    for (int k = 0; k < ids.size(); k++) {
                        int id = readId(ids.get(k), where + ".special_tokens[" + quote(name) + "].ids[" + k + "]");
                        if (id >= vocabSize) {
                            throw fail(where + ".special_tokens[" + quote(name) + "]: id " + id
                                    + " is out of range [0, " + vocabSize + ")");
                        }
                        (seenSequence ? suffix : prefix).add(id);
                    }
                } else {
                    throw fail(pw + " is " + describe(piece) + "; expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
                }
            }
            if (!seenSequence) {
                throw fail(where + ".single has no {\"Sequence\": {\"id\": \"A\"}}");
            }
            template.add(prefix.toArray());
            template.add(suffix.toArray());
        }

        private boolean optionalBoolean(JsonNode obj, String field, String where, boolean dflt)
                throws TokenizerFormatException {
            JsonNode v = obj.get(field);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw fail(where + "." + field + " must be true or false, found " + describe(v));
            }
            return v.booleanValue();
        }
    }

    private static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "missing";
        }
        String s = n.toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** A token for an error message: quoted, control characters escaped, long ones shortened. */
    static String quote(String token) {
        StringBuilder sb = new StringBuilder("\"");
        boolean wellFormed = Text.isWellFormed(token);
        int limit = Math.min(token.length(), 60);
        for (int i = 0; i < limit; i++) {
            char c = token.charAt(i);
            if (c < 0x20 || c == 0x7F || Character.isSurrogate(c) && !wellFormed) {
                sb.append(String.format("\\u%04x", (int) c));
            } else if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else {
                sb.append(c);
            }
        }
        if (token.length() > limit) {
            sb.append("...");
        }
        return sb.append('"').toString();
    }
}
