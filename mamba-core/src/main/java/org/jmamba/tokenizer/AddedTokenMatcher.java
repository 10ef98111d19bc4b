package org.jmamba.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text and splits the text around them, the way Hugging Face tokenizers
 * does: leftmost-longest matching (the match that starts first wins; among those starting at the
 * same place, the longest), non-overlapping, scanning on after each match. Then, per match,
 * {@code single_word} may discard it (the scan still resumes after it), {@code lstrip}/{@code rstrip}
 * extend it over neighbouring white space, which is thereby dropped from the text.
 *
 * <p>The matching walks a trie from each position: O(text length x longest token length).
 */
final class AddedTokenMatcher {

    /** Receives the pieces of a text in order. */
    interface Sink {
        /** Ordinary text {@code [start, end)}, never empty. */
        void text(int start, int end);

        /** An added token. */
        void token(int id);
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token; // non-null where a pattern ends
    }

    private final Node root = new Node();
    private final long[] firstChars = new long[1 << 10]; // bitmap over the BMP of pattern starts

    /** @param patterns the text to find for each token (its content, or its normalised content) */
    AddedTokenMatcher(List<AddedToken> tokens, List<String> patterns) {
        for (int t = 0; t < tokens.size(); t++) {
            String p = patterns.get(t);
            if (p.isEmpty()) {
                continue;
            }
            Node node = root;
            for (int i = 0; i < p.length(); i++) {
                node = node.children.computeIfAbsent(p.charAt(i), c -> new Node());
            }
            node.token = tokens.get(t);
            char c0 = p.charAt(0);
            firstChars[c0 >>> 6] |= 1L << c0;
        }
    }

    boolean isEmpty() {
        return root.children.isEmpty();
    }

    /** Splits {@code s} into text pieces and added tokens. */
    void split(String s, Sink sink) {
        int n = s.length();
        int textStart = 0;
        int i = 0;
        while (i < n) {
            char c0 = s.charAt(i);
            if ((firstChars[c0 >>> 6] & (1L << c0)) == 0) {
                i++;
                continue;
            }
            Node node = root;
            int matchEnd = -1;
            AddedToken found = null;
            for (int j = i; j < n; j++) {
                node = node.children.get(s.charAt(j));
                if (node == null) {
                    break;
                }
                if (node.token != null) {
                    matchEnd = j + 1;
                    found = node.token;
                }
            }
            if (found == null) {
                i++;
                continue;
            }
            int start = i;
            int stop = matchEnd;
            i = matchEnd;
            if (found.singleWord()) {
                boolean wordBefore = start > 0 && Text.isWordChar(s.codePointBefore(start));
                boolean wordAfter = stop < n && Text.isWordChar(s.codePointAt(stop));
                if (wordBefore || wordAfter) {
                    continue;
                }
            }
            if (found.lstrip()) {
                int k = start;
                while (k > 0 && Text.isSpace(s.charAt(k - 1))) {
                    k--;
                }
                start = Math.max(k, textStart);
            }
            if (found.rstrip()) {
                while (stop < n && Text.isSpace(s.charAt(stop))) {
                    stop++;
                }
                i = stop;
            }
            if (textStart < start) {
                sink.text(textStart, start);
            }
            sink.token(found.id());
            textStart = stop;
        }
        if (textStart < n) {
            sink.text(textStart, n);
        }
    }
}
