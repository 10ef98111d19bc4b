package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    /**
     * What a terminal shows for {@code text}: each line is what its last carriage return left
     * visible, with characters overwritten in place (trailing blanks dropped).
     */
    static List<String> render(String text) {
        List<String> lines = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            StringBuilder shown = new StringBuilder();
            int col = 0;
            for (char c : raw.toCharArray()) {
                if (c == '\r') {
                    col = 0;
                } else {
                    if (col < shown.length()) {
                        shown.setCharAt(col, c);
                    } else {
                        shown.append(c);
                    }
                    col++;
                }
            }
            lines.add(shown.toString().stripTrailing());
        }
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    @Test
    void linesPrintedDuringTheBarStandAloneAndTheBarContinuesBelow() {
        StringWriter sw = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(sw), "train", 10, "steps")) {
            bar.status("loss 2.7000 1,000 tok/s");
            bar.step(5);
            bar.println("eval at update 5: acc@256 0.5000");
            bar.step(5);
        }
        List<String> shown = render(sw.toString());
        assertEquals(2, shown.size(), shown.toString());
        assertEquals("eval at update 5: acc@256 0.5000", shown.get(0));
        assertTrue(shown.get(1).startsWith("train [##############################] 100% 10/10 steps"), shown.get(1));
        assertTrue(shown.get(1).endsWith("ETA - loss 2.7000 1,000 tok/s"), shown.get(1));
    }

    @Test
    void theFirstStepDrawsAtOnce() {
        StringWriter sw = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), "train", 1000, "steps");
        bar.step(1);
        assertTrue(sw.toString().startsWith("\rtrain [") && sw.toString().contains(" 1/1000 steps "), sw.toString());
    }

    @Test
    void aLineBeforeTheFirstDrawIsPrintedAsIs() {
        StringWriter sw = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), "eval", 100, "tokens");
        bar.println("hello");
        assertEquals("hello" + System.lineSeparator(), sw.toString());
    }

    @Test
    void slowRatesKeepTwoDecimalsAndDurationsAreReadable() throws InterruptedException {
        StringWriter sw = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(sw), "train", 1_000_000, "steps")) {
            Thread.sleep(150); // one step in >= 0.15 s: under 10 steps/s
            bar.step(1);
        }
        assertTrue(sw.toString().matches("(?s).*1/1000000 steps \\d+\\.\\d\\d steps/s ETA .*"), sw.toString());
        assertEquals("59s", ProgressBar.formatDuration(59.4));
        assertEquals("1m05s", ProgressBar.formatDuration(65));
        assertEquals("2h03m", ProgressBar.formatDuration(2 * 3600 + 3 * 60 + 10));
    }
}
