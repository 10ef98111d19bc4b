package org.jmamba.generate;

import java.util.function.Consumer;

/**
 * Receives generated tokens as they are produced, on the generating thread.
 */
@FunctionalInterface
public interface TokenListener {

    /**
     * @return true to go on, false to stop generating this sequence (its result then ends with
     *         {@link FinishReason#CANCELLED}, this token included)
     */
    boolean onToken(GeneratedToken token);

    /** A listener that never cancels. */
    static TokenListener of(Consumer<GeneratedToken> consumer) {
        return token -> {
            consumer.accept(token);
            return true;
        };
    }

    /** A listener that ignores every token. */
    static TokenListener none() {
        return token -> true;
    }
}
