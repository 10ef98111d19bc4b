package org.jmamba.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE from a Hugging Face {@code tokenizer.json}, as used by GPT-2 and by the GPT-NeoX
 * tokenizer of the released Mamba models. Reproduces Hugging Face tokenizers' {@code encode}
 * (with {@code add_special_tokens=True}) and {@code decode} (with
 * {@code skip_special_tokens=False}) exactly.
 *
 * <p>Encoding, step by step:
 * <ol>
 *   <li>unpaired surrogates become U+FFFD (a Java string may hold them; UTF-8 cannot);</li>
 *   <li>added tokens with {@code normalized: false} (e.g. {@code <|endoftext|>}) are found in the
 *       raw text, leftmost-longest, and split out;</li>
 *   <li>each remaining piece is normalised (NFC for GPT-NeoX) and searched for added tokens with
 *       {@code normalized: true};</li>
 *   <li>each remaining piece is split into words by the GPT-2 pattern ({@link GptPreTokenizer});</li>
 *   <li>each word's UTF-8 bytes become byte-level symbols, which BPE merges by rank
 *       ({@link BpeMerges}); results for short words are cached.</li>
 * </ol>
 * Every step is linear (BPE is O(n log n) in the word length), so long texts, long words and long
 * white space runs cost no more per byte than ordinary text.
 *
 * <p>Immutable apart from its word cache, which is concurrent: safe to share between threads.
 */
public final class BpeTokenizer implements Tokenizer {

    /** The end-of-sequence token of GPT-NeoX (and GPT-2). */
    public static final String EOS_TOKEN = "<|endoftext|>";

    private static final int CACHE_MAX_WORD_CHARS = 256;
    private static final int CACHE_CAPACITY = 10_000;

    private final String source;
    private final String[] tokenTexts;
    private final byte[][] tokenBytes;
    private final boolean[] special;
    private final Map<String, Integer> textToId;
    private final Map<String, Integer> vocab;
    private final int[] byteIds = new int[256];
    private final BpeMerges merges;
    private final AddedTokenMatcher rawMatcher;
    private final AddedTokenMatcher normalizedMatcher;
    private final Normalization normalization;
    private final boolean addPrefixSpace;
    private final boolean useRegex;
    private final boolean ignoreMerges;
    private final int[] prefixIds;
    private final int[] suffixIds;
    private final OptionalInt eos;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeTokenizer(BpeTokenizerReader.Parts p) {
        source = p.source();
        tokenTexts = p.tokenTexts();
        vocab = p.vocab();
        normalization = p.normalization();
        addPrefixSpace = p.addPrefixSpace();
        useRegex = p.useRegex();
        ignoreMerges = p.ignoreMerges();
        prefixIds = p.prefixIds();
        suffixIds = p.suffixIds();
        merges = new BpeMerges(p.mergeLeft(), p.mergeRight(), p.mergeResult());
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.get(String.valueOf(ByteLevel.charOf(b)));
        }

        int n = tokenTexts.length;
        tokenBytes = new byte[n][];
        special = new boolean[n];
        textToId = new HashMap<>(n * 2);
        for (int id = 0; id < n; id++) {
            tokenBytes[id] = ByteLevel.decodeToken(tokenTexts[id]);
            textToId.put(tokenTexts[id], id);
        }
        List<AddedToken> raw = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>();
        List<AddedToken> norm = new ArrayList<>();
        List<String> normPatterns = new ArrayList<>();
        for (AddedToken t : p.addedTokens()) {
            special[t.id()] = t.special();
            if (t.normalized()) {
                // Matched in normalised text, so it is looked for in its normalised form, and that
                // is also the text Hugging Face decodes it to.
                String normalized = normalization.apply(t.content());
                norm.add(t);
                normPatterns.add(normalized);
                tokenBytes[t.id()] = ByteLevel.decodeToken(normalized);
            } else {
                raw.add(t);
                rawPatterns.add(t.content());
            }
        }
        rawMatcher = new AddedTokenMatcher(raw, rawPatterns);
        normalizedMatcher = new AddedTokenMatcher(norm, normPatterns);
        Integer eosId = textToId.get(EOS_TOKEN);
        eos = eosId != null && special[eosId] ? OptionalInt.of(eosId) : OptionalInt.empty();
    }

    /**
     * Loads a {@code tokenizer.json}.
     *
     * @throws TokenizerFormatException if the file is malformed, inconsistent or uses a feature
     *                                  this implementation does not support (the message says which)
     * @throws IOException              if it cannot be read
     */
    public static BpeTokenizer load(Path tokenizerJson) throws IOException {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        return new BpeTokenizer(BpeTokenizerReader.read(tokenizerJson));
    }

    /**
     * Loads a {@code tokenizer.json} from a stream (read to its end, not closed).
     *
     * @param sourceName names the stream in error messages
     */
    public static BpeTokenizer load(InputStream in, String sourceName) throws IOException {
        Objects.requireNonNull(in, "in");
        return new BpeTokenizer(BpeTokenizerReader.read(in, Objects.requireNonNull(sourceName, "sourceName")));
    }

    @Override
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        String s = Text.toWellFormed(text);
        Encoder enc = new Encoder(s.length() / 3 + 8);
        enc.out.addAll(prefixIds);
        if (!s.isEmpty()) {
            if (rawMatcher.isEmpty()) {
                enc.encodeRawPiece(s);
            } else {
                rawMatcher.split(s, new AddedTokenMatcher.Sink() {
                    @Override
                    public void text(int start, int end) {
                        enc.encodeRawPiece(s.substring(start, end));
                    }

                    @Override
                    public void token(int id) {
                        enc.out.add(id);
                    }
                });
            }
        }
        enc.out.addAll(suffixIds);
        return enc.out.toArray();
    }

    /** The state of one encode call: its output and BPE scratch space. */
    private final class Encoder implements GptPreTokenizer.WordSink {
        final IntList out;
        final BpeMerges.Word word = new BpeMerges.Word();

        Encoder(int capacity) {
            out = new IntList(capacity);
        }

        /** A piece of raw text between added tokens: normalise, then split out normalised added tokens. */
        void encodeRawPiece(String raw) {
            String s = normalization.apply(raw);
            if (normalizedMatcher.isEmpty()) {
                encodePlain(s, 0, s.length());
                return;
            }
            normalizedMatcher.split(s, new AddedTokenMatcher.Sink() {
                @Override
                public void text(int start, int end) {
                    encodePlain(s, start, end);
                }

                @Override
                public void token(int id) {
                    out.add(id);
                }
            });
        }

        void encodePlain(String s, int from, int to) {
            if (from >= to) {
                return;
            }
            if (addPrefixSpace && s.charAt(from) != ' ') {
                s = " " + s.substring(from, to);
                from = 0;
                to = s.length();
            }
            if (useRegex) {
                GptPreTokenizer.split(s, from, to, this);
            } else {
                word(s, from, to);
            }
        }

        @Override
        public void word(String s, int start, int end) {
            if (ignoreMerges) {
                Integer id = vocab.get(ByteLevel.encode(s.substring(start, end)));
                if (id != null) {
                    out.add(id);
                    return;
                }
            }
            if (end - start > CACHE_MAX_WORD_CHARS) {
                bpe(s, start, end);
                return;
            }
            String key = s.substring(start, end);
            int[] cached = cache.get(key);
            if (cached != null) {
                out.addAll(cached);
                return;
            }
            int mark = out.size();
            bpe(s, start, end);
            if (cache.size() < CACHE_CAPACITY) {
                cache.putIfAbsent(key, out.copyFrom(mark));
            }
        }

        /** Merges the word's UTF-8 bytes, written as byte-level symbols, and appends the ids. */
        private void bpe(String s, int start, int end) {
            word.reset(3 * (end - start));
            int[] sym = word.sym;
            int n = 0;
            for (int i = start; i < end; ) {
                int cp = s.codePointAt(i);
                i += Character.charCount(cp);
                if (cp < 0x80) {
                    sym[n++] = byteIds[cp];
                } else if (cp < 0x800) {
                    sym[n++] = byteIds[0xC0 | (cp >>> 6)];
                    sym[n++] = byteIds[0x80 | (cp & 0x3F)];
                } else if (cp < 0x10000) {
                    sym[n++] = byteIds[0xE0 | (cp >>> 12)];
                    sym[n++] = byteIds[0x80 | ((cp >>> 6) & 0x3F)];
                    sym[n++] = byteIds[0x80 | (cp & 0x3F)];
                } else {
                    sym[n++] = byteIds[0xF0 | (cp >>> 18)];
                    sym[n++] = byteIds[0x80 | ((cp >>> 12) & 0x3F)];
                    sym[n++] = byteIds[0x80 | ((cp >>> 6) & 0x3F)];
                    sym[n++] = byteIds[0x80 | (cp & 0x3F)];
                }
            }
            word.length = n;
            word.mergeInto(merges, out);
        }
    }

    @Override
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        for (int id : ids) {
            bytesOf(id); // all ids are checked before any work is done
        }
        StringBuilder sb = new StringBuilder((int) Math.min(ids.length * 4L, 1 << 24));
        Utf8Decoder utf8 = new Utf8Decoder();
        for (int id : ids) {
            utf8.write(tokenBytes[id], sb);
        }
        utf8.finish(sb);
        return sb.toString();
    }

    private byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + tokenBytes.length
                    + ") of the tokenizer " + source);
        }
        return tokenBytes[id];
    }

    @Override
    public int vocabSize() {
        return tokenTexts.length;
    }

    @Override
    public OptionalInt eosId() {
        return eos;
    }

    @Override
    public String tokenText(int id) {
        bytesOf(id);
        return tokenTexts[id];
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytesOf(id).clone();
    }

    @Override
    public OptionalInt tokenId(String tokenText) {
        Integer id = textToId.get(Objects.requireNonNull(tokenText, "tokenText"));
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public boolean isSpecial(int id) {
        bytesOf(id);
        return special[id];
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new ByteStreamingDecoder(this::bytesOf);
    }

    /** Where this tokenizer was loaded from. */
    public String source() {
        return source;
    }

    /** Number of merges in the model. */
    public int mergeCount() {
        return merges.size();
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + source + ", " + tokenTexts.length + " tokens, " + merges.size() + " merges]";
    }
}
