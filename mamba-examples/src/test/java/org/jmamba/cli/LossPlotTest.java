package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jmamba.train.TrainingState.EvalPoint;
import org.jmamba.train.TrainingState.HistoryPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {

    @Test
    void writesPngCharts(@TempDir Path dir) throws Exception {
        List<HistoryPoint> h = new ArrayList<>();
        for (int s = 1; s <= 300; s++) {
            h.add(new HistoryPoint(s, 3.0 * Math.exp(-s / 50.0) + 0.01, 1e-3, 1.0));
        }
        List<EvalPoint> evals = List.of(new EvalPoint(100, Map.of("val_loss", 0.5, "acc@256", 0.4)),
                new EvalPoint(300, Map.of("val_loss", 0.1, "acc@256", 0.99)));
        Path loss = dir.resolve("loss.png");
        LossPlot.write(loss, "test run", h, evals);
        BufferedImage img = ImageIO.read(loss.toFile());
        assertEquals(900, img.getWidth());
        assertEquals(520, img.getHeight());
        Path acc = dir.resolve("accuracy.png");
        assertTrue(LossPlot.writeAccuracy(acc, "test run", evals));
        assertEquals(900, ImageIO.read(acc.toFile()).getWidth());
        assertFalse(LossPlot.writeAccuracy(dir.resolve("none.png"), "x", List.of()));
        assertFalse(Files.exists(dir.resolve("none.png")));
        LossPlot.write(dir.resolve("empty.png"), "empty", List.of(), List.of());
        assertTrue(Files.size(dir.resolve("empty.png")) > 0);
    }
}
