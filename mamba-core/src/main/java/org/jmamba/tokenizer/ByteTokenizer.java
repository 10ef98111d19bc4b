package org.jmamba.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The simplest tokenizer: one token per UTF-8 byte (ids 0..255 are the bytes 0x00..0xFF), then a
 * few special tokens (ids 256, 257, ...), for byte-level models trained by this project.
 *
 * <p>No normalisation: {@code decode(encode(s))} is {@code s} itself for any well-formed string
 * (unpaired surrogates become U+FFFD). Special tokens written in the text are recognised, longest
 * first, like added tokens of a {@link BpeTokenizer}. Immutable and thread-safe.
 */
public final class ByteTokenizer implements Tokenizer {

    private final List<String> specials;
    private final Map<String, Integer> specialIds;
    private final byte[][] tokenBytes;
    private final OptionalInt eos;
    private final AddedTokenMatcher matcher;

    private ByteTokenizer(List<String> specialTokens, String eosToken) {
        specials = List.copyOf(specialTokens);
        specialIds = new HashMap<>();
        tokenBytes = new byte[256 + specials.size()][];
        for (int b = 0; b < 256; b++) {
            tokenBytes[b] = new byte[]{(byte) b};
        }
        List<AddedToken> tokens = new ArrayList<>();
        for (int i = 0; i < specials.size(); i++) {
            String s = specials.get(i);
            if (s.isEmpty() || !Text.isWellFormed(s)) {
                throw new IllegalArgumentException("special token " + i + " must be a non-empty, well-formed string");
            }
            if (specialIds.put(s, 256 + i) != null) {
                throw new IllegalArgumentException("special token " + BpeTokenizerReader.quote(s) + " is listed twice");
            }
            tokenBytes[256 + i] = s.getBytes(StandardCharsets.UTF_8);
            tokens.add(new AddedToken(256 + i, s, false, false, false, false, true));
        }
        matcher = new AddedTokenMatcher(tokens, specials);
        if (eosToken == null) {
            eos = OptionalInt.empty();
        } else {
            Integer id = specialIds.get(eosToken);
            if (id == null) {
                throw new IllegalArgumentException("end-of-sequence token " + BpeTokenizerReader.quote(eosToken)
                        + " is not one of the special tokens " + specials);
            }
            eos = OptionalInt.of(id);
        }
    }

    /** 256 bytes and {@code <|endoftext|>} (id 256) as end of sequence: 257 tokens. */
    public static ByteTokenizer standard() {
        return new ByteTokenizer(List.of(BpeTokenizer.EOS_TOKEN), BpeTokenizer.EOS_TOKEN);
    }

    /**
     * 256 bytes followed by {@code specialTokens} (ids 256 on, in order).
     *
     * @param eosToken one of {@code specialTokens}, or null for no end-of-sequence token
     */
    public static ByteTokenizer withSpecialTokens(List<String> specialTokens, String eosToken) {
        Objects.requireNonNull(specialTokens, "specialTokens");
        if (new HashSet<>(specialTokens).contains(null)) {
            throw new IllegalArgumentException("special tokens may not be null");
        }
        return new ByteTokenizer(specialTokens, eosToken);
    }

    /** The special tokens, in id order from 256. */
    public List<String> specialTokens() {
        return Collections.unmodifiableList(specials);
    }

    @Override
    public int[] encode(String text) {
        String s = Text.toWellFormed(Objects.requireNonNull(text, "text"));
        IntList out = new IntList(s.length() + 8);
        if (matcher.isEmpty()) {
            appendBytes(s, out);
            return out.toArray();
        }
        matcher.split(s, new AddedTokenMatcher.Sink() {
            @Override
            public void text(int start, int end) {
                appendBytes(s.substring(start, end), out);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    private static void appendBytes(String s, IntList out) {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) { // well-formed: no '?' substitution
            out.add(b & 0xFF);
        }
    }

    @Override
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        for (int id : ids) {
            bytesOf(id); // all ids are checked before any work is done
        }
        StringBuilder sb = new StringBuilder(Math.min(ids.length, 1 << 24));
        Utf8Decoder utf8 = new Utf8Decoder();
        for (int id : ids) {
            utf8.write(bytesOf(id), sb);
        }
        utf8.finish(sb);
        return sb.toString();
    }

    private byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + tokenBytes.length
                    + ") of the byte tokenizer");
        }
        return tokenBytes[id];
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public OptionalInt eosId() {
        return eos;
    }

    /** For a byte, {@code "<0xAB>"}; for a special token, its text. */
    @Override
    public String tokenText(int id) {
        bytesOf(id);
        return id < 256 ? String.format("<0x%02X>", id) : specials.get(id - 256);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytesOf(id).clone();
    }

    @Override
    public OptionalInt tokenId(String tokenText) {
        Objects.requireNonNull(tokenText, "tokenText");
        Integer special = specialIds.get(tokenText);
        if (special != null) {
            return OptionalInt.of(special);
        }
        if (tokenText.length() == 6 && tokenText.startsWith("<0x") && tokenText.endsWith(">")) {
            try {
                int b = Integer.parseInt(tokenText.substring(3, 5), 16);
                if (tokenText.equals(tokenText(b))) {
                    return OptionalInt.of(b);
                }
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
        }
        return OptionalInt.empty();
    }

    @Override
    public boolean isSpecial(int id) {
        bytesOf(id);
        return id >= 256;
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new ByteStreamingDecoder(this::bytesOf);
    }

    @Override
    public String toString() {
        return "ByteTokenizer[256 bytes + " + specials + "]";
    }
}
