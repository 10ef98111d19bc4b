package org.jmamba.generate;

/**
 * Timing of one generation call (all sequences of a batch together).
 *
 * @param promptTokens  prompt tokens fed through the parallel (prefill) path
 * @param prefillNanos  wall time of the prefill
 * @param decodeTokens  tokens fed through the recurrent path (one per step per live sequence; the
 *                      last token of a sequence is sampled but never fed back)
 * @param generatedTokens tokens generated, all sequences together
 * @param decodeNanos   wall time from the end of the prefill to the last token (model steps,
 *                      sampling and text decoding)
 */
public record GenerationStats(long promptTokens, long prefillNanos, long decodeTokens, long generatedTokens,
                              long decodeNanos) {

    /** Prompt tokens per second of prefill, or NaN when nothing was timed. */
    public double prefillTokensPerSecond() {
        return rate(promptTokens, prefillNanos);
    }

    /** Recurrent steps (tokens) per second of decoding, or NaN when nothing was timed. */
    public double decodeTokensPerSecond() {
        return rate(decodeTokens, decodeNanos);
    }

    private static double rate(long tokens, long nanos) {
        return tokens == 0 || nanos <= 0 ? Double.NaN : tokens * 1e9 / nanos;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "prefill: %d tokens in %.3f s (%.1f tokens/s); decode: %d tokens in %.3f s (%.1f tokens/s)",
                promptTokens, prefillNanos / 1e9, prefillTokensPerSecond(),
                decodeTokens, decodeNanos / 1e9, decodeTokensPerSecond());
    }
}
