package org.jmamba.tokenizer;

import java.util.function.IntFunction;

/** A {@link StreamingDecoder} for tokenizers whose tokens stand for byte strings. */
final class ByteStreamingDecoder implements StreamingDecoder {
    private final IntFunction<byte[]> bytesOf; // validates the id, returns the token's bytes (not copied)
    private final Utf8Decoder utf8 = new Utf8Decoder();
    private final StringBuilder out = new StringBuilder();

    ByteStreamingDecoder(IntFunction<byte[]> bytesOf) {
        this.bytesOf = bytesOf;
    }

    @Override
    public String accept(int id) {
        byte[] bytes = bytesOf.apply(id);
        out.setLength(0);
        utf8.write(bytes, out);
        return out.toString();
    }

    @Override
    public String finish() {
        out.setLength(0);
        utf8.finish(out);
        return out.toString();
    }
}
