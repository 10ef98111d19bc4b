package org.jmamba.generate;

import java.util.List;

/**
 * Finds user stop strings in streamed text, also when a stop string is split across tokens.
 *
 * <p>Text is pushed piece by piece; {@link #push} returns the part that is safe to show now. A tail
 * that could still grow into a stop string is held back until the next piece settles it. When a stop
 * string appears, the text before it is returned, {@link #matched()} becomes true and the stop string
 * and everything after it are dropped.
 */
final class StopStringMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean matched;

    StopStringMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds {@code piece}; returns the text that can be emitted now (possibly empty). */
    String push(String piece) {
        if (matched) {
            return "";
        }
        pending.append(piece);
        if (stops.isEmpty()) {
            return drain(pending.length());
        }
        int first = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            matched = true;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return out;
        }
        return drain(pending.length() - heldBack());
    }

    /** The text still held back (no stop string can complete any more: generation ended). */
    String flush() {
        return drain(pending.length());
    }

    boolean matched() {
        return matched;
    }

    /** Length of the longest tail of the pending text that is a proper prefix of a stop string. */
    private int heldBack() {
        int best = 0;
        int len = pending.length();
        for (String s : stops) {
            for (int h = Math.min(s.length() - 1, len); h > best; h--) {
                if (regionEquals(len - h, s, h)) {
                    best = h;
                    break;
                }
            }
        }
        return best;
    }

    private boolean regionEquals(int from, String s, int n) {
        for (int i = 0; i < n; i++) {
            if (pending.charAt(from + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String drain(int n) {
        if (n <= 0) {
            return "";
        }
        String out = pending.substring(0, n);
        pending.delete(0, n);
        return out;
    }
}
