package org.jmamba.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jmamba.io.AtomicFiles;
import org.jmamba.train.TrainingState.EvalPoint;
import org.jmamba.train.TrainingState.HistoryPoint;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The loss curve of a training run as a PNG (XChart, headless): the loss of every update (light),
 * its exponential moving average (dark) and the validation loss where there is one; for the
 * synthetic tasks a second chart shows the accuracy at each evaluated length.
 */
final class LossPlot {
    private static final int MAX_POINTS = 4000;

    private LossPlot() {
    }

    /** Writes the chart to {@code png} atomically. */
    static void write(Path png, String title, List<HistoryPoint> history, List<EvalPoint> evals) {
        headless();
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title)
                .xAxisTitle("update").yAxisTitle("loss (nats/token)").build();
        // A log axis only where the loss spans more than a decade (XChart labels decades only).
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (HistoryPoint h : history) {
            lo = Math.min(lo, positive(h.loss()));
            hi = Math.max(hi, h.loss());
        }
        chart.getStyler().setYAxisLogarithmic(hi / lo > 20);
        chart.getStyler().setYAxisDecimalPattern("#.###");
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setMarkerSize(6);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);

        if (!history.isEmpty()) {
            int n = history.size();
            int stride = Math.max(1, n / MAX_POINTS);
            // centred moving average over ~2% of the run: smooth, and without the lag of an EMA
            int half = Math.max(1, n / 100);
            double[] prefix = new double[n + 1];
            for (int i = 0; i < n; i++) {
                prefix[i + 1] = prefix[i] + history.get(i).loss();
            }
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            List<Double> smooth = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i % stride == 0 || i == n - 1) {
                    int from = Math.max(0, i - half);
                    int to = Math.min(n, i + half + 1);
                    x.add((double) history.get(i).step());
                    y.add(positive(history.get(i).loss()));
                    smooth.add(positive((prefix[to] - prefix[from]) / (to - from)));
                }
            }
            XYSeries raw = chart.addSeries("train loss", x, y);
            raw.setMarker(SeriesMarkers.NONE);
            raw.setLineColor(new Color(120, 160, 220));
            raw.setLineStyle(new BasicStroke(0.8f));
            XYSeries avg = chart.addSeries("train loss (moving average)", x, smooth);
            // XChart puts the ticks of equally spaced x values (1, 2, 3, ...) at data points (odd
            // numbers such as 34, 68, ...); one invisible point at x = 0.5 makes it choose round ones.
            XYSeries anchor = chart.addSeries(" ", new double[] {0.5}, new double[] {y.get(0)});
            anchor.setMarker(SeriesMarkers.NONE);
            anchor.setLineColor(new Color(0, 0, 0, 0));
            anchor.setShowInLegend(false);
            avg.setMarker(SeriesMarkers.NONE);
            avg.setLineColor(new Color(20, 60, 160));
            avg.setLineStyle(new BasicStroke(2f));
        }
        List<Double> vx = new ArrayList<>();
        List<Double> vy = new ArrayList<>();
        for (EvalPoint e : evals) {
            Double v = e.metrics().get("val_loss");
            if (v != null) {
                vx.add((double) e.step());
                vy.add(positive(v));
            }
        }
        if (!vx.isEmpty()) {
            XYSeries val = chart.addSeries("validation loss", vx, vy);
            val.setMarker(SeriesMarkers.CIRCLE);
            val.setLineStyle(SeriesLines.NONE);
            val.setLineColor(new Color(200, 80, 20));
            val.setMarkerColor(new Color(200, 80, 20));
        }
        save(chart, png);
    }

    /**
     * Writes the accuracy of every evaluated length over training ({@code acc@<length>} metrics) to
     * {@code png}; returns false (writing nothing) when the evaluations have no accuracies.
     */
    static boolean writeAccuracy(Path png, String title, List<EvalPoint> evals) {
        headless();
        Map<String, List<double[]>> acc = new TreeMap<>((a, b) -> Integer.compare(lengthOf(a), lengthOf(b)));
        for (EvalPoint e : evals) {
            for (Map.Entry<String, Double> m : e.metrics().entrySet()) {
                if (m.getKey().startsWith("acc@")) {
                    acc.computeIfAbsent(m.getKey(), k -> new ArrayList<>()).add(new double[] {e.step(), m.getValue()});
                }
            }
        }
        if (acc.isEmpty()) {
            return false;
        }
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title)
                .xAxisTitle("update").yAxisTitle("accuracy").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        for (Map.Entry<String, List<double[]>> e : acc.entrySet()) {
            List<Double> ax = new ArrayList<>();
            List<Double> ay = new ArrayList<>();
            for (double[] p : e.getValue()) {
                ax.add(p[0]);
                ay.add(p[1]);
            }
            XYSeries s = chart.addSeries("length " + e.getKey().substring(4), ax, ay);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        save(chart, png);
        return true;
    }

    private static void save(XYChart chart, Path png) {
        if (chart.getSeriesMap().isEmpty()) {
            chart.addSeries("no data yet", new double[] {0}, new double[] {1});
        }
        try {
            byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            AtomicFiles.write(png, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render the plot " + png, e);
        }
    }

    /** No display is needed (or available on a server): render off-screen unless the user chose otherwise. */
    private static void headless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static int lengthOf(String key) {
        try {
            return Integer.parseInt(key.substring(key.indexOf('@') + 1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** A log axis cannot show 0 or negative values: clamp to a tiny positive number. */
    private static double positive(double v) {
        return Math.max(v, 1e-6);
    }
}
