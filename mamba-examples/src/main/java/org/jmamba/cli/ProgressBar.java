package org.jmamba.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr: {@code label [#####.....] 48% 1200/2500 tokens 310 tok/s ETA 4s}.
 *
 * <p>Redraws in place with a carriage return at most a few times a second, so it costs nothing
 * next to the work it reports; {@link #close()} ends the line. Small on purpose (see
 * docs/dependencies.md): a terminal library would be a large dependency for one line of output.
 */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter err;
    private final String label;
    private final long total;
    private final String unit;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;
    private boolean drawn;
    private int drawnWidth;
    private String status = "";

    /**
     * @param err   where to draw (the CLI's stderr)
     * @param label what is being done
     * @param total amount of work, > 0
     * @param unit  name of a unit of work ("tokens")
     */
    public ProgressBar(PrintWriter err, String label, long total, String unit) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
        this.unit = unit;
    }

    /**
     * Extra text shown after the ETA (e.g. {@code loss 1.234 5,000 tok/s} while training); shown
     * from the next redraw on.
     */
    public void status(String text) {
        status = text == null ? "" : text;
    }

    /** Adds {@code n} units of finished work and redraws if enough time has passed. */
    public void step(long n) {
        done = Math.min(total, done + n);
        long now = System.nanoTime();
        // the first step draws at once (a start value of Long.MIN_VALUE would overflow the
        // difference below and keep the bar hidden until the end)
        if (!drawn || now - lastDraw >= REDRAW_NANOS || done == total) {
            lastDraw = now;
            draw(now);
        }
    }

    private void draw(long now) {
        double fraction = done / (double) total;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && done < total ? formatDuration((total - done) / rate) : "-";
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        String line = String.format(Locale.ROOT, "%s [%s] %3d%% %d/%d %s %s %s/s ETA %s%s",
                label, bar, (int) (fraction * 100), done, total, unit,
                String.format(Locale.ROOT, rate >= 10 ? "%.0f" : "%.2f", rate), shortUnit(), eta,
                status.isEmpty() ? "" : " " + status);
        // pad over what a longer previous line left behind
        err.print("\r" + line + " ".repeat(Math.max(0, drawnWidth - line.length())));
        err.flush();
        drawn = true;
        drawnWidth = Math.max(drawnWidth, line.length());
    }

    /**
     * Prints a whole line of its own (a log or evaluation line) where the bar is, then draws the
     * bar again below it: other output must go through here while the bar is shown, or it would
     * land in the middle of the bar's line.
     */
    public void println(String text) {
        if (drawn) {
            err.print("\r" + text + " ".repeat(Math.max(0, drawnWidth - text.length())));
            err.println();
            draw(System.nanoTime());
        } else {
            err.println(text);
        }
        err.flush();
    }

    private String shortUnit() {
        return "tokens".equals(unit) ? "tok" : unit;
    }

    static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }

    /** Draws the final state and ends the line. */
    @Override
    public void close() {
        if (drawn || done > 0) {
            draw(System.nanoTime());
            err.println();
            err.flush();
        }
    }
}
