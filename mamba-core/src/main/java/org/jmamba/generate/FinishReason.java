package org.jmamba.generate;

/** Why generation of a sequence ended. */
public enum FinishReason {
    /** The model produced the end-of-sequence token. */
    EOS,
    /** The model produced one of {@link SamplingParams#stopTokenIds()}. */
    STOP_TOKEN,
    /** The decoded text reached one of {@link SamplingParams#stopStrings()}. */
    STOP_STRING,
    /** {@link SamplingParams#maxNewTokens()} tokens were generated. */
    MAX_TOKENS,
    /** The listener returned false, the cancellation token fired, or the stream was closed. */
    CANCELLED
}
