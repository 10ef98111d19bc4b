package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SyntheticTaskTest {

    @Test
    void inductionHeadsHasOneEarlierTriggerWhoseSuccessorIsTheAnswer() {
        InductionHeads task = InductionHeads.paper();
        assertEquals(16, task.vocabSize());
        Rng rng = new Rng(5);
        int[] firstTriggerHistogram = new int[4];
        for (int i = 0; i < 2000; i++) {
            int len = i % 2 == 0 ? 256 : 64;
            Example e = task.sample(len, rng);
            int[] t = e.tokens();
            assertEquals(len, t.length);
            assertEquals(task.trigger(), t[len - 1]);
            assertArrayEquals(new int[] {len - 1}, e.answerPositions());
            int triggers = 0;
            int first = -1;
            for (int p = 0; p < len - 1; p++) {
                assertTrue(t[p] >= 0 && t[p] < 16);
                if (t[p] == task.trigger()) {
                    triggers++;
                    first = p;
                }
            }
            assertEquals(1, triggers, "exactly one trigger before the query");
            assertTrue(first + 1 < len - 1);
            assertEquals(t[first + 1], e.answers()[0]);
            assertTrue(e.answers()[0] != task.trigger());
            if (len == 256) {
                firstTriggerHistogram[first * 4 / 254]++;
            }
            int[] targets = e.targets();
            for (int p = 0; p < len - 1; p++) {
                assertEquals(-1, targets[p]);
            }
            assertEquals(e.answers()[0], targets[len - 1]);
        }
        for (int c : firstTriggerHistogram) {
            assertTrue(c > 180, "trigger positions are not spread over the sequence: " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> task.sample(2, rng));
    }

    @Test
    void selectiveCopyingScattersDataTokensAndAsksForThemInOrder() {
        SelectiveCopying task = SelectiveCopying.paper();
        Rng rng = new Rng(6);
        for (int i = 0; i < 500; i++) {
            int len = i % 2 == 0 ? 256 : 32;
            Example e = task.sample(len, rng);
            int[] t = e.tokens();
            int region = len - 16;
            int k = 0;
            for (int p = 0; p < region; p++) {
                if (t[p] != task.noise()) {
                    assertTrue(t[p] >= 1 && t[p] <= 14, "data token " + t[p]);
                    assertEquals(t[p], e.answers()[k++]);
                }
            }
            assertEquals(16, k, "16 data tokens");
            for (int j = 0; j < 16; j++) {
                assertEquals(task.marker(), t[region + j]);
                assertEquals(region + j, e.answerPositions()[j]);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> task.sample(31, rng));
    }

    @Test
    void batchSourcesAreDeterministicGivenTheGenerator() {
        BatchSource s = SyntheticTask.byName("selective-copying").source(4, 64);
        Batch a = s.next(new Rng(1));
        Batch b = s.next(new Rng(1));
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(a.inputs()[i], b.inputs()[i]);
            assertArrayEquals(a.targets()[i], b.targets()[i]);
        }
        assertEquals(64, a.countTargets());
        assertThrows(IllegalArgumentException.class, () -> SyntheticTask.byName("copying"));
    }

    @Test
    void textWindowsAreShiftedByOne() {
        int[] text = new int[1000];
        for (int i = 0; i < text.length; i++) {
            text[i] = i % 97;
        }
        TokenCorpus corpus = new TokenCorpus(text, 97);
        TokenCorpus[] split = corpus.split(0.1);
        assertEquals(900, split[0].size());
        assertEquals(100, split[1].size());
        Batch b = split[0].windows(3, 50).next(new Rng(2));
        for (int r = 0; r < 3; r++) {
            for (int t = 0; t < 50; t++) {
                assertEquals((b.inputs()[r][t] + 1) % 97, b.targets()[r][t]);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new TokenCorpus(new int[] {5, 97}, 97));
        assertThrows(IllegalArgumentException.class, () -> split[1].windows(1, 100));
    }
}
