package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.text.Normalizer;
import java.time.Duration;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Megabyte inputs that a quadratic tokenizer chokes on: one giant word, one giant white space run,
 * endless near-misses of a special token. Each must encode and decode back. The timeout is only a
 * hang guard (linear code needs well under a second per case; throughput is measured by
 * TokenizerBench in mamba-bench), set generously for slow shared CI machines.
 */
class BpeTokenizerLongInputTest {

    private static final int MB = 1 << 20;
    private static final Duration HANG_GUARD = Duration.ofSeconds(20);

    private final BpeTokenizer tok = TestTokenizers.golden();

    private void roundTrip(String name, Supplier<String> make) {
        String text = make.get();
        int[] ids = assertTimeoutPreemptively(HANG_GUARD, () -> tok.encode(text), name + ": encode");
        assertTrue(ids.length > 0, name);
        String back = assertTimeoutPreemptively(HANG_GUARD, () -> tok.decode(ids), name + ": decode");
        assertEquals(Normalizer.normalize(text, Normalizer.Form.NFC), back, name + ": round trip");
    }

    @Test
    void oneCharacterRepeated() {
        roundTrip("a x 1M", () -> "a".repeat(MB));                 // a single 1 MB word
        roundTrip("é x 512K", () -> "é".repeat(MB / 2));           // 2-byte characters, one word
        roundTrip("你 x 350K", () -> "你".repeat(MB / 3));          // 3-byte characters, one word
        roundTrip("! x 1M", () -> "!".repeat(MB));                 // one run of punctuation
        roundTrip("7 x 1M", () -> "7".repeat(MB));                 // one run of digits
    }

    @Test
    void whiteSpaceRuns() {
        roundTrip("space x 1M", () -> " ".repeat(MB));
        roundTrip("spaces then a word", () -> " ".repeat(MB / 4) + "end");
        roundTrip("newline x 1M", () -> "\n".repeat(MB));
        roundTrip("tab/space mix", () -> " \t".repeat(MB / 2) + "x");
    }

    @Test
    void twoSymbolPatterns() {
        roundTrip("ab x 512K", () -> "ab".repeat(MB / 2));
        roundTrip("e + combining acute x 512K", () -> "e\u0301".repeat(MB / 2)); // NFC composes them all
    }

    @Test
    void specialTokensAndNearMisses() {
        roundTrip("endoftext x 80K", () -> "<|endoftext|>".repeat(MB / 13));
        roundTrip("near miss x 90K", () -> "<|endoftext".repeat(MB / 11));
    }

    @Test
    void ordinaryTextOfAMegabyte() {
        Random r = new Random(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < MB) {
            sb.append(RandomText.next(r, 20));
        }
        roundTrip("random text", sb::toString);
    }
}
