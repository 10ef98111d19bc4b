package org.jmamba.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;

/**
 * A Hugging Face {@code tokenizer.json} that encodes text exactly as the byte tokenizer does (id =
 * byte value, 0..255, plus {@code <|endoftext|>} = 256), so that a byte-level model trained by
 * {@code jmamba train} is a self-contained model folder that every tokenizer.json reader (this
 * project's {@code BpeTokenizer}, Hugging Face tokenizers) loads.
 *
 * <p>How: a byte-level BPE with the 256 byte symbols as its vocabulary, the symbol of byte b at id
 * b, and no merges, so every byte stays its own token; no prefix space is added.
 */
final class ByteTokenizerJson {
    /** Ids of the byte-level model: 256 bytes and the end-of-text token. */
    static final int VOCAB_SIZE = 257;
    static final String EOS = "<|endoftext|>";

    private ByteTokenizerJson() {
    }

    static byte[] bytes() {
        ObjectMapper m = Json.MAPPER;
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode eos = added.addObject();
        eos.put("id", 256);
        eos.put("content", EOS);
        eos.put("single_word", false);
        eos.put("lstrip", false);
        eos.put("rstrip", false);
        eos.put("normalized", false);
        eos.put("special", true);
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "ByteLevel");
        post.put("add_prefix_space", false);
        post.put("trim_offsets", true);
        post.put("use_regex", true);
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", false);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteSymbol(b)), b);
        }
        model.putArray("merges");
        try {
            return m.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * GPT-2's byte-to-character map: printable Latin-1 bytes ({@code !..~}, {@code ¡..¬},
     * {@code ®..ÿ}) stand for themselves; the other 68 bytes take the characters from U+0100 on,
     * in byte order.
     */
    static char byteSymbol(int b) {
        if (b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF) {
            return (char) b;
        }
        int n = 0;
        for (int c = 0; c < b; c++) {
            if (!(c >= '!' && c <= '~' || c >= 0xA1 && c <= 0xAC || c >= 0xAE && c <= 0xFF)) {
                n++;
            }
        }
        return (char) (256 + n);
    }
}
