package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.io.CheckpointException;
import org.jmamba.train.TrainingState.EvalPoint;
import org.jmamba.train.TrainingState.HistoryPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingCheckpointTest {
    private static final MambaConfig CFG = MambaConfig.of(8, 2, 16, 4, 4);

    private static TrainingState state(long step) {
        return new TrainingState(TrainingState.VERSION, step, step, TrainingState.formatRngState(-1234567890123L),
                step * 3, step * 100, List.of(new HistoryPoint(1, 2.5, 1e-3, 0.7), new HistoryPoint(step, 0.1234567890123, 1e-4, 0.3)),
                List.of(new EvalPoint(step, Map.of("acc@64", 0.5))), Map.of("task", "induction"));
    }

    @Test
    void roundTripsEverythingExactly(@TempDir Path dir) throws Exception {
        MambaWeights w = ModelInit.initialize(CFG, 1);
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), w);
        opt.step(w, AdamWTest.random(CFG, 2, 0.1), 1e-3);
        Path saved = TrainingCheckpoint.save(dir, w, opt, state(7),
                Map.of("notes.txt", "hello".getBytes(StandardCharsets.UTF_8)));
        assertEquals(dir.resolve("step-00000007"), saved);
        assertEquals("hello", Files.readString(saved.resolve("notes.txt")));

        TrainingCheckpoint.Loaded back = TrainingCheckpoint.load(dir);
        assertEquals(saved, back.dir());
        assertEquals(state(7), back.state());
        assertEquals(-1234567890123L, back.state().rngStateValue());
        assertEquals(CFG, back.model().config());
        w.named().forEach((k, t) -> assertArrayEquals(t.data(), back.model().weights().named().get(k).data(), k));
        opt.stateTensors().forEach((k, t) -> assertArrayEquals(t.data(), back.optimizer().get(k).data(), k));
    }

    @Test
    void picksTheNewestCompleteCheckpointAndIgnoresUnfinishedOnes(@TempDir Path dir) throws Exception {
        MambaWeights w = ModelInit.initialize(CFG, 1);
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), w);
        TrainingCheckpoint.save(dir, w, opt, state(5), Map.of());
        TrainingCheckpoint.save(dir, w, opt, state(10), Map.of());
        // an interrupted write: a temporary directory, and a step directory without the commit marker
        Files.createDirectories(dir.resolve(".tmp-step-00000020-123"));
        Files.createDirectories(dir.resolve("step-00000030"));
        assertEquals(dir.resolve("step-00000010"), TrainingCheckpoint.resolve(dir));
        assertEquals(10, TrainingCheckpoint.load(dir).state().step());
        // the next save clears the leftover temporary directory; pruning keeps the newest
        TrainingCheckpoint.save(dir, w, opt, state(15), Map.of());
        assertFalse(Files.exists(dir.resolve(".tmp-step-00000020-123")));
        TrainingCheckpoint.prune(dir, 2);
        assertFalse(Files.exists(dir.resolve("step-00000005")));
        assertTrue(Files.exists(dir.resolve("step-00000010")));
        // saving the same step again replaces it
        TrainingCheckpoint.save(dir, w, opt, state(15), Map.of());
        assertEquals(15, TrainingCheckpoint.load(dir.resolve("step-00000015")).state().step());
    }

    @Test
    void badCheckpointsFailWithTheFileNamed(@TempDir Path dir) throws Exception {
        assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(dir));
        MambaWeights w = ModelInit.initialize(CFG, 1);
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), w);
        Path ck = TrainingCheckpoint.save(dir, w, opt, state(3), Map.of());

        Path stateFile = ck.resolve(TrainingCheckpoint.STATE_FILE);
        String good = Files.readString(stateFile);
        Files.writeString(stateFile, good.replace("\"step\" : 3", "\"step\" : -3"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(ck));
        assertTrue(e.getMessage().contains(TrainingCheckpoint.STATE_FILE), e.getMessage());
        Files.writeString(stateFile, "{ not json");
        assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(ck));
        Files.writeString(stateFile, good);

        // an optimiser file for another model
        MambaWeights other = ModelInit.initialize(MambaConfig.of(8, 1, 16, 4, 4), 1);
        Path elsewhere = TrainingCheckpoint.save(dir.resolve("x"), other,
                new AdamW(AdamWConfig.paperDefaults(), other), state(3), Map.of());
        Files.copy(elsewhere.resolve(TrainingCheckpoint.OPTIMIZER_FILE), ck.resolve(TrainingCheckpoint.OPTIMIZER_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(ck));
        assertTrue(e.getMessage().contains(TrainingCheckpoint.OPTIMIZER_FILE), e.getMessage());
    }

    @Test
    void rejectsExtraFilesThatCouldEscapeOrShadowTheMarker(@TempDir Path dir) {
        MambaWeights w = ModelInit.initialize(CFG, 1);
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), w);
        assertThrows(IllegalArgumentException.class,
                () -> TrainingCheckpoint.save(dir, w, opt, state(1), Map.of("../evil", new byte[0])));
        assertThrows(IllegalArgumentException.class,
                () -> TrainingCheckpoint.save(dir, w, opt, state(1), Map.of(TrainingCheckpoint.STATE_FILE, new byte[0])));
        assertFalse(Files.exists(dir.resolve("step-00000001")));
    }
}
