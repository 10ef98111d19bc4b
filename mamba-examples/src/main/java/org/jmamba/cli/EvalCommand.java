package org.jmamba.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jmamba.io.AtomicFiles;
import org.jmamba.train.SyntheticTask;
import org.jmamba.train.TaskEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jmamba eval}: accuracy of a trained model on a synthetic task at several sequence lengths,
 * as a table (or JSON). Long sequences run in recurrent mode (chunked prefill), so memory does not
 * grow with the length.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Accuracy of a model on a synthetic task (induction | selective-copying) per sequence length.")
public final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "NAME", description = "induction | selective-copying")
    String task;
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (config.json + weights).")
    Path model;
    @Option(names = "--lengths", split = ",", paramLabel = "N",
            defaultValue = "64,128,256,512,1024,2048,4096,8192,16384,32768,65536",
            description = "Sequence lengths (default ${DEFAULT-VALUE}).")
    List<Integer> lengths;
    @Option(names = "--samples", defaultValue = "256", description = "Examples per length (default ${DEFAULT-VALUE}).")
    int samples;
    @Option(names = "--max-tokens", defaultValue = "0",
            description = "Cap on tokens per length: fewer examples (at least --min-samples) at long lengths; 0 = no cap.")
    long maxTokens;
    @Option(names = "--min-samples", defaultValue = "16", description = "Floor of the examples per length under --max-tokens.")
    int minSamples;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences run together (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--chunk", defaultValue = "4096", description = "Prefill chunk in recurrent mode (default ${DEFAULT-VALUE}).")
    int chunk;
    @Option(names = "--mode", defaultValue = "auto",
            description = "auto (parallel up to 4096 tokens, recurrent beyond) | parallel | recurrent.")
    TaskEvaluator.Mode mode;
    @Option(names = "--seed", defaultValue = "1234", description = "Fixes the test examples (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads; 0 = one per processor.")
    int threads;
    @Option(names = "--json", description = "Print JSON instead of the table.")
    boolean json;
    @Option(names = "--json-out", paramLabel = "FILE", description = "Also write the JSON to FILE.")
    Path jsonOut;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SyntheticTask t = SyntheticTask.byName(task);
        if (samples <= 0 || batch <= 0 || chunk <= 0 || minSamples <= 0 || maxTokens < 0 || threads < 0) {
            throw new CliException("--samples, --batch, --chunk and --min-samples must be positive, --max-tokens and --threads not negative");
        }
        for (int len : lengths) {
            if (len < t.minLength()) {
                throw new CliException("--lengths: " + t.name() + " needs sequences of at least " + t.minLength() + " tokens, got " + len);
            }
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        try (CliSupport.LoadedModel m = CliSupport.loadModel(model, threads)) {
            if (t.vocabSize() > m.model().config().vocabSize()) {
                throw new CliException("model " + model + " has a vocabulary of " + m.model().config().vocabSize()
                        + " tokens; the " + t.name() + " task needs " + t.vocabSize());
            }
            long total = 0;
            for (int len : lengths) {
                total += (long) samplesAt(len) * len;
            }
            try (ProgressBar bar = new ProgressBar(err, "eval " + t.name(), total, "tokens")) {
                for (int len : lengths) {
                    int n = samplesAt(len);
                    TaskEvaluator.Result r = TaskEvaluator.evaluate(m.model(), t, len, n, batch, seed, mode, chunk);
                    bar.step((long) n * len);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("length", r.length());
                    row.put("samples", r.samples());
                    row.put("correct", r.correct());
                    row.put("total", r.total());
                    row.put("accuracy", r.accuracy());
                    row.put("exact_match", r.exactMatch());
                    row.put("mode", r.mode().name().toLowerCase(Locale.ROOT));
                    row.put("seconds", r.seconds());
                    rows.add(row);
                }
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("task", t.name());
        doc.put("model", model.toString());
        doc.put("seed", seed);
        doc.put("results", rows);
        String text = Json.write(doc);
        if (jsonOut != null) {
            AtomicFiles.write(jsonOut, (text + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (json) {
            out.println(text);
        } else {
            out.println(String.format(Locale.ROOT, "%-9s %8s %10s %12s %10s %9s", "length", "samples", "accuracy",
                    "exact match", "mode", "seconds"));
            for (Map<String, Object> r : rows) {
                out.println(String.format(Locale.ROOT, "%-9d %8d %9.2f%% %11.2f%% %10s %9.1f", r.get("length"),
                        r.get("samples"), 100 * (double) r.get("accuracy"), 100 * (double) r.get("exact_match"),
                        r.get("mode"), (double) r.get("seconds")));
            }
        }
        return 0;
    }

    private int samplesAt(int len) {
        if (maxTokens <= 0) {
            return samples;
        }
        long capped = maxTokens / len;
        return (int) Math.max(Math.min(samples, minSamples), Math.min(samples, capped));
    }
}
