package org.jmamba.tokenizer;

import java.io.IOException;

/** A tokenizer file that cannot be used: malformed, inconsistent, or asking for unsupported features. */
public final class TokenizerFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** @param source the file (or stream name) and {@code problem} what is wrong with it */
    public TokenizerFormatException(String source, String problem) {
        super(source + ": " + problem);
    }

    public TokenizerFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
