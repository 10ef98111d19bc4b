package org.jmamba.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The heap-based merging against the textbook quadratic algorithm, on random merge tables. */
class BpeMergesTest {

    /** Repeatedly merge the lowest-ranked adjacent pair, leftmost first: O(n^2), obviously right. */
    private static int[] naive(int[] word, Map<Long, int[]> table) {
        List<Integer> syms = new ArrayList<>();
        for (int s : word) {
            syms.add(s);
        }
        while (true) {
            int bestRank = Integer.MAX_VALUE;
            int bestPos = -1;
            int bestResult = -1;
            for (int i = 0; i + 1 < syms.size(); i++) {
                int[] m = table.get(((long) syms.get(i) << 32) | syms.get(i + 1));
                if (m != null && m[0] < bestRank) {
                    bestRank = m[0];
                    bestPos = i;
                    bestResult = m[1];
                }
            }
            if (bestPos < 0) {
                return syms.stream().mapToInt(Integer::intValue).toArray();
            }
            syms.set(bestPos, bestResult);
            syms.remove(bestPos + 1);
        }
    }

    private static int[] merge(BpeMerges merges, int[] word) {
        BpeMerges.Word w = new BpeMerges.Word();
        w.reset(word.length);
        System.arraycopy(word, 0, w.sym, 0, word.length);
        w.length = word.length;
        IntList out = new IntList(4);
        w.mergeInto(merges, out);
        return out.toArray();
    }

    @Test
    void agreesWithTheNaiveAlgorithm() {
        Random r = new Random(7);
        for (int table = 0; table < 200; table++) {
            int alphabet = 2 + r.nextInt(4);
            int nMerges = 1 + r.nextInt(40);
            int[] lefts = new int[nMerges];
            int[] rights = new int[nMerges];
            int[] results = new int[nMerges];
            Map<Long, int[]> byPair = new HashMap<>();
            Set<Long> used = new HashSet<>();
            int next = alphabet;
            int made = 0;
            for (int attempt = 0; made < nMerges && attempt < 1000; attempt++) {
                int a = r.nextInt(next);
                int b = r.nextInt(next);
                long key = ((long) a << 32) | b;
                if (!used.add(key)) {
                    continue;
                }
                lefts[made] = a;
                rights[made] = b;
                results[made] = next;
                byPair.put(key, new int[]{made, next});
                next++;
                made++;
            }
            BpeMerges merges = new BpeMerges(Arrays.copyOf(lefts, made), Arrays.copyOf(rights, made),
                    Arrays.copyOf(results, made));
            assertEquals(made, merges.size());
            for (int t = 0; t < 50; t++) {
                int[] word = new int[r.nextInt(40)];
                for (int i = 0; i < word.length; i++) {
                    word[i] = r.nextInt(alphabet);
                }
                assertArrayEquals(naive(word, byPair), merge(merges, word), () -> "word " + Arrays.toString(word));
            }
        }
    }

    @Test
    void runsOfOneSymbolMergeLeftToRight() {
        // (0,0)->1, (1,1)->2: "0 0 0 0 0" -> "1 1 0" -> "2 0".
        BpeMerges merges = new BpeMerges(new int[]{0, 1}, new int[]{0, 1}, new int[]{1, 2});
        assertArrayEquals(new int[]{2, 0}, merge(merges, new int[]{0, 0, 0, 0, 0}));
        assertArrayEquals(new int[]{}, merge(merges, new int[]{}));
        assertArrayEquals(new int[]{0}, merge(merges, new int[]{0}));
    }

    @Test
    void aRepeatedPairKeepsItsLastRankLikeHuggingFace() {
        // Ranks: (1,2)->4 at 0 and again at 2; (0,1)->3 at 1. With the last rank (2) winning,
        // (0,1) goes first: "0 1 2" -> "3 2". Had the first rank won: "0 4".
        BpeMerges merges = new BpeMerges(new int[]{1, 0, 1}, new int[]{2, 1, 2}, new int[]{4, 3, 4});
        assertEquals(2, merges.size());
        assertArrayEquals(new int[]{3, 2}, merge(merges, new int[]{0, 1, 2}));
    }
}
