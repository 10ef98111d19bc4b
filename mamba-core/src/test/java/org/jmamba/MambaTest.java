package org.jmamba;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.io.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-line entry point: a checkpoint directory in, a runnable model out, or a clear error. */
class MambaTest {

    @Test
    void loadsTheTinyCheckpointAndRunsIt() throws URISyntaxException {
        Path tiny = Path.of(MambaTest.class.getResource("/golden/tiny").toURI());
        try (SequenceModel m = Mamba.load(tiny, new CpuOptions(1))) {
            assertEquals(2, m.config().nLayer());
            assertEquals(64, m.config().dModel());
            ForwardResult r = m.forward(new int[][] {{1, 2, 3}}, false);
            assertTrue(r.logits().hasShape(1, 3, 512));
        }
    }

    @Test
    void missingCheckpointIsACheckpointExceptionNamingTheFolder(@TempDir Path dir) throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Mamba.load(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{}");
        assertThrows(CheckpointException.class, () -> Mamba.load(dir));
    }
}
