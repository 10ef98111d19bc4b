package org.jmamba.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Draws the charts of docs/benchmarks.md from the raw results that
 * {@code mamba-bench/scripts/cpu-benchmarks.sh} writes: {@code cli.jsonl} (one {@code jmamba bench
 * --json} object per line), {@code bandwidth.jsonl} (rounds of batch-1 decode runs, each
 * repetition with its own probe reading; a table of them is written to {@code bandwidth-runs.md})
 * and {@code scan.json} (JMH's JSON for {@link ScanBench}).
 *
 * <pre>java -Djava.awt.headless=true -cp benchmarks.jar org.jmamba.bench.BenchPlots RESULTS_DIR OUT_DIR</pre>
 */
public final class BenchPlots {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DTYPES = List.of("f32", "bf16", "int8");
    /** llama.cpp on a machine of this kind, from the issue: prefill pp512 / pp2048 and decode, tokens/s. */
    private static final double[] LLAMA_PP512 = {204, 214, 213};
    private static final double[] LLAMA_PP2048 = {207, 203, 211};
    private static final double[] LLAMA_DECODE = {52.8, 71.1, 89.6};

    private BenchPlots() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: BenchPlots RESULTS_DIR OUT_DIR");
        }
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        List<JsonNode> cli = new ArrayList<>();
        for (String line : Files.readAllLines(in.resolve("cli.jsonl"))) {
            if (!line.isBlank()) {
                cli.add(JSON.readTree(line));
            }
        }
        decodeChart(cli, out.resolve("bench-decode.png"));
        prefillChart(cli, out.resolve("bench-prefill.png"));
        Path bandwidth = in.resolve("bandwidth.jsonl");
        if (Files.exists(bandwidth)) {
            List<JsonNode> runs = new ArrayList<>();
            for (String line : Files.readAllLines(bandwidth)) {
                if (!line.isBlank()) {
                    runs.add(JSON.readTree(line));
                }
            }
            String table = bandwidthChart(runs, out.resolve("bench-decode-bandwidth.png"));
            Files.writeString(in.resolve("bandwidth-runs.md"), table);
            System.out.print(table);
        }
        Path scan = in.resolve("scan.json");
        if (Files.exists(scan)) {
            scanChart(JSON.readTree(scan.toFile()), out.resolve("bench-scan.png"));
        }
    }

    /** tokens/s of the first result matching {@code p} for each dtype (0 where none). */
    private static double[] perDtype(List<JsonNode> cli, Predicate<JsonNode> p, String field) {
        double[] v = new double[DTYPES.size()];
        for (int i = 0; i < v.length; i++) {
            String d = DTYPES.get(i);
            for (JsonNode n : cli) {
                if (n.path("dtype").asText().equals(d) && p.test(n) && n.has(field)) {
                    v[i] = n.get(field).asDouble();
                    break;
                }
            }
        }
        return v;
    }

    private static Predicate<JsonNode> is(String mode, int threads, int batch, int len) {
        return n -> n.path("mode").asText().equals(mode) && n.path("threads").asInt() == threads
                && n.path("batch").asInt() == batch && (len < 0 || n.path("len").asInt() == len);
    }

    private static CategoryChart bars(String title, String yTitle) {
        CategoryChart c = new CategoryChartBuilder().width(1000).height(600).title(title)
                .xAxisTitle("weight type").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setLabelsFontColorAutomaticEnabled(false);
        c.getStyler().setDecimalPattern("#0.0");
        return c;
    }

    private static void add(CategoryChart c, String name, double[] v) {
        List<Double> ys = new ArrayList<>();
        for (double x : v) {
            ys.add(x);
        }
        c.addSeries(name, DTYPES, ys);
    }

    private static void decodeChart(List<JsonNode> cli, Path file) throws IOException {
        CategoryChart c = bars("Decode, mamba-130m shape, batch 1", "tokens / s");
        add(c, "JMamba, 1 thread", perDtype(cli, is("decode", 1, 1, -1), "tokens_per_s"));
        add(c, "JMamba, 2 threads", perDtype(cli, is("decode", 2, 1, -1), "tokens_per_s"));
        add(c, "bandwidth floor, 2 threads (same run)", perDtype(cli, is("decode", 2, 1, -1), "floor_tokens_per_s"));
        add(c, "llama.cpp, 2 threads (issue; other run)", LLAMA_DECODE);
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void prefillChart(List<JsonNode> cli, Path file) throws IOException {
        CategoryChart c = bars("Prefill, mamba-130m shape, one prompt", "prompt tokens / s");
        add(c, "JMamba L=512, 1 thread", perDtype(cli, is("prefill", 1, 1, 512), "tokens_per_s"));
        add(c, "JMamba L=512, 2 threads", perDtype(cli, is("prefill", 2, 1, 512), "tokens_per_s"));
        add(c, "JMamba L=2048, 2 threads", perDtype(cli, is("prefill", 2, 1, 2048), "tokens_per_s"));
        add(c, "llama.cpp pp512 (issue)", LLAMA_PP512);
        add(c, "llama.cpp pp2048 (issue)", LLAMA_PP2048);
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * Every repetition of the batch-1 decode runs as (probe GB/s, fraction of the floor), one series
     * per dtype; returns a table with a row per run (process): its probe and fraction, median and range.
     */
    private static String bandwidthChart(List<JsonNode> runs, Path file) throws IOException {
        XYChart c = new XYChartBuilder().width(1000).height(600)
                .title("Decode, mamba-130m shape, batch 1, 2 threads: each repetition against the probe run before it")
                .xAxisTitle("probe bandwidth, 2 threads (GB/s)").yAxisTitle("fraction of the floor").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setYAxisMin(0.0);
        StringBuilder table = new StringBuilder("| run | dtype | tokens/s | probe GB/s | fraction of floor | fraction, lowest–highest repetition |\n|---|---|---|---|---|---|\n");
        double lo = Double.MAX_VALUE;
        double hi = 0;
        double top = 1.1; // the y axis reaches every point: a repetition above the floor is shown, not clipped
        for (String d : DTYPES) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            int run = 0;
            for (JsonNode r : runs) {
                run++;
                if (!r.path("dtype").asText().equals(d) || !r.path("mode").asText().equals("decode")) {
                    continue;
                }
                double min = Double.MAX_VALUE;
                double max = 0;
                for (JsonNode rep : r.path("repetitions")) {
                    if (rep.has("bandwidth_gb_s")) {
                        double bw = rep.get("bandwidth_gb_s").asDouble();
                        double f = rep.get("fraction_of_floor").asDouble();
                        xs.add(bw);
                        ys.add(f);
                        lo = Math.min(lo, bw);
                        hi = Math.max(hi, bw);
                        min = Math.min(min, f);
                        max = Math.max(max, f);
                        top = Math.max(top, Math.ceil(f * 10) / 10);
                    }
                }
                table.append(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %.2f | %.2f–%.2f |%n", run, d,
                        r.path("tokens_per_s").asDouble(), r.path("bandwidth_gb_s").asDouble(),
                        r.path("fraction_of_floor").asDouble(), min, max));
            }
            if (!xs.isEmpty()) {
                c.addSeries(d, xs, ys).setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
            }
        }
        c.getStyler().setYAxisMax(top);
        if (hi > 0) {
            c.addSeries("target 0.85", List.of(Math.floor(lo), Math.ceil(hi)), List.of(0.85, 0.85))
                    .setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        }
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return table.toString();
    }

    private static void scanChart(JsonNode jmh, Path file) throws IOException {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (JsonNode r : jmh) {
            if (!r.path("benchmark").asText().endsWith("ScanBench.scan")) {
                continue;
            }
            double len = r.path("params").path("len").asDouble();
            double ms = r.path("primaryMetric").path("score").asDouble();
            String unit = r.path("primaryMetric").path("scoreUnit").asText().toLowerCase(Locale.ROOT);
            double scale = unit.startsWith("ms") ? 1e3 : unit.startsWith("s/") ? 1e6 : unit.startsWith("us") ? 1 : 1e-3;
            xs.add(len);
            ys.add(ms * scale / len); // microseconds per token
        }
        XYChart c = new XYChartBuilder().width(900).height(520)
                .title("Selective scan, recurrent mode: time per token (one 130m layer, d_inner 1536, N 16, 1 thread)")
                .xAxisTitle("sequence length L (tokens)").yAxisTitle("µs per token").build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setLegendVisible(false);
        c.addSeries("scan", xs, ys);
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
