package org.jmamba.generate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.OptionalInt;
import org.jmamba.tokenizer.StreamingDecoder;
import org.jmamba.tokenizer.Tokenizer;

/**
 * A test tokenizer with a fixed list of byte pieces (id = index); id 0 is the special {@code <eos>}.
 * Pieces may split a UTF-8 character, which exercises streaming decoding.
 */
final class PieceTokenizer implements Tokenizer {
    private final byte[][] pieces;

    PieceTokenizer(byte[]... pieces) {
        this.pieces = pieces;
    }

    static byte[] s(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] b(int... bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = (byte) bytes[i];
        }
        return out;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = s(text);
        int[] ids = new int[bytes.length];
        int n = 0;
        int at = 0;
        while (at < bytes.length) {
            int best = -1;
            for (int id = 1; id < pieces.length; id++) {
                byte[] p = pieces[id];
                if (p.length > 0 && at + p.length <= bytes.length
                        && Arrays.equals(p, 0, p.length, bytes, at, at + p.length)
                        && (best < 0 || p.length > pieces[best].length)) {
                    best = id;
                }
            }
            if (best < 0) {
                throw new IllegalArgumentException("cannot encode byte " + at + " of " + text);
            }
            ids[n++] = best;
            at += pieces[best].length;
        }
        return Arrays.copyOf(ids, n);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public OptionalInt eosId() {
        return OptionalInt.of(0);
    }

    @Override
    public String tokenText(int id) {
        return id == 0 ? "<eos>" : new String(tokenBytes(id), StandardCharsets.ISO_8859_1);
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("id " + id);
        }
        return id == 0 ? s("<eos>") : pieces[id].clone();
    }

    @Override
    public OptionalInt tokenId(String tokenText) {
        return OptionalInt.empty();
    }

    @Override
    public boolean isSpecial(int id) {
        return id == 0;
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder() {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            @Override
            public String accept(int id) {
                pending.writeBytes(tokenBytes(id));
                byte[] all = pending.toByteArray();
                int complete = completePrefix(all);
                pending.reset();
                pending.write(all, complete, all.length - complete);
                return new String(all, 0, complete, StandardCharsets.UTF_8);
            }

            @Override
            public String finish() {
                boolean any = pending.size() > 0;
                pending.reset();
                return any ? "\uFFFD" : "";
            }
        };
    }

    /** Length of the prefix that does not end inside an unfinished (valid so far) UTF-8 character. */
    private static int completePrefix(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int lead = b[b.length - back] & 0xff;
            if (lead >= 0xc0) {
                int need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
                return need > back ? b.length - back : b.length;
            }
            if (lead < 0x80) {
                return b.length;
            }
        }
        return b.length;
    }
}
