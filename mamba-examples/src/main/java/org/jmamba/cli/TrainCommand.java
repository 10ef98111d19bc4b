package org.jmamba.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.io.AtomicFiles;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.TokenIds;
import org.jmamba.tokenizer.BpeTokenizer;
import org.jmamba.train.AdamWConfig;
import org.jmamba.train.BatchSource;
import org.jmamba.train.CosineSchedule;
import org.jmamba.train.Evaluation;
import org.jmamba.train.LossEvaluation;
import org.jmamba.train.ModelInit;
import org.jmamba.train.StepMetrics;
import org.jmamba.train.SyntheticTask;
import org.jmamba.train.TaskEvaluation;
import org.jmamba.train.TokenCorpus;
import org.jmamba.train.Trainer;
import org.jmamba.train.TrainerConfig;
import org.jmamba.train.TrainingCheckpoint;
import org.jmamba.train.TrainingListener;
import org.jmamba.train.TrainingState;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jmamba train}: trains a Mamba model from scratch on a text file (byte-level, or with a
 * tokenizer.json) or on one of the paper's synthetic tasks, with AdamW, warm-up + cosine schedule,
 * clipping, periodic evaluation, checkpoints and exact resumption.
 *
 * <p>Output folder ({@code --out}): the final model in the Hugging Face layout ({@code config.json},
 * {@code model.safetensors}, and {@code tokenizer.json} for text), {@code checkpoints/step-N/}
 * (model + optimiser + trainer state), {@code loss.png} (and {@code accuracy.png} for tasks),
 * {@code metrics.jsonl} (every update and evaluation). A summary JSON goes to stdout.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a Mamba model from scratch on a text file or a synthetic task.",
                "Resuming (--resume DIR) restores the model, optimiser, data position and generator and "
                        + "reuses the original run's options (options given again override them)."})
public final class TrainCommand implements Callable<Integer> {
    static final String METRICS_FILE = "metrics.jsonl";
    static final String LOSS_PLOT = "loss.png";
    static final String ACCURACY_PLOT = "accuracy.png";
    static final String CHECKPOINTS = "checkpoints";

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "FILE", description = "Text file to train on (UTF-8; byte-level unless --tokenizer).")
    Path data;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to encode --data with (default: bytes).")
    Path tokenizer;
    @Option(names = "--task", paramLabel = "NAME", description = "Synthetic task instead of text: induction | selective-copying.")
    String task;
    @Option(names = "--val-fraction", defaultValue = "0.02", description = "Share of the text held out for validation (default ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--d-model", defaultValue = "64", description = "Model width (default ${DEFAULT-VALUE}).")
    int dModel;
    @Option(names = "--n-layer", defaultValue = "2", description = "Mamba blocks (default ${DEFAULT-VALUE}).")
    int nLayer;
    @Option(names = "--d-state", defaultValue = "16", description = "SSM state size N (default ${DEFAULT-VALUE}).")
    int dState;
    @Option(names = "--d-conv", defaultValue = "4", description = "Conv width (default ${DEFAULT-VALUE}).")
    int dConv;
    @Option(names = "--expand", defaultValue = "2", description = "d_inner = expand * d_model (default ${DEFAULT-VALUE}).")
    int expand;
    @Option(names = "--dt-rank", defaultValue = "0", description = "Rank of the Δ projection; 0 = ceil(d_model/16).")
    int dtRank;

    @Option(names = "--steps", defaultValue = "1000", description = "Optimiser updates (default ${DEFAULT-VALUE}).")
    long steps;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--accum", defaultValue = "1", description = "Micro-batches per update (default ${DEFAULT-VALUE}).")
    int accum;
    @Option(names = "--seq-len", defaultValue = "256", description = "Training sequence length (default ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--min-lr", description = "Learning rate at the end of the cosine (default lr/10).")
    Double minLr;
    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up updates (default ${DEFAULT-VALUE}).")
    long warmup;
    @Option(names = "--constant-lr", description = "No cosine decay: keep the peak rate after the warm-up.")
    boolean constantLr;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW decoupled weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--beta1", defaultValue = "0.9")
    double beta1;
    @Option(names = "--beta2", defaultValue = "0.95")
    double beta2;
    @Option(names = "--eps", defaultValue = "1e-8")
    double eps;
    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clip; 0 disables (default ${DEFAULT-VALUE}).")
    double clip;
    @Option(names = "--seed", defaultValue = "0", description = "Seeds initialisation and data (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads; 0 = one per processor.")
    int threads;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (required unless resuming).")
    Path out;
    @Option(names = "--eval-every", defaultValue = "0", description = "Updates between evaluations (0: at the end only).")
    long evalEvery;
    @Option(names = "--eval-lengths", split = ",", paramLabel = "N", description = "Task: lengths to evaluate during training (default: --seq-len).")
    List<Integer> evalLengths;
    @Option(names = "--eval-samples", defaultValue = "256", description = "Task: examples per evaluated length (default ${DEFAULT-VALUE}).")
    int evalSamples;
    @Option(names = "--eval-batches", defaultValue = "16", description = "Text: validation batches (default ${DEFAULT-VALUE}).")
    int evalBatches;
    @Option(names = "--stop-accuracy", description = "Task: stop once every evaluated length reaches this accuracy.")
    Double stopAccuracy;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Updates between checkpoints (0: at the end only).")
    long checkpointEvery;
    @Option(names = "--keep", defaultValue = "2", description = "Checkpoints kept (default ${DEFAULT-VALUE}).")
    int keep;
    @Option(names = "--log-every", defaultValue = "0", description = "Updates between log lines (0: none; the progress bar shows progress).")
    long logEvery;
    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint (or a --out folder: its newest checkpoint).")
    Path resume;

    /** Set on the copy that carries the resumed run's merged options. */
    private boolean merged;
    /** The merged run's options, recorded in its checkpoints (without --resume). */
    private List<String> storedArgs;

    @Override
    public Integer call() throws Exception {
        if (resume != null && !merged) {
            return mergedWithCheckpoint().run(spec.commandLine().getOut(), spec.commandLine().getErr());
        }
        return run(spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /**
     * The options of the checkpoint's original run, overridden by those given now: parsed again
     * from the stored arguments followed by the current ones.
     */
    private TrainCommand mergedWithCheckpoint() throws IOException {
        TrainingState state = TrainingCheckpoint.readState(resume);
        String stored = state.run().get("args");
        if (stored == null) {
            throw new CliException("checkpoint " + resume + " does not record its training options (not made by jmamba train)");
        }
        List<String> current = currentArgs(false);
        List<String> original = withoutOptions(Json.MAPPER.readValue(stored, new TypeReference<List<String>>() { }),
                current);
        List<String> args = new ArrayList<>(original);
        args.addAll(currentArgs(true));
        TrainCommand m = new TrainCommand();
        CommandLine cl = new CommandLine(m);
        cl.setOverwrittenOptionsAllowed(true);
        cl.parseArgs(args.toArray(String[]::new));
        m.spec = spec;
        m.merged = true;
        m.storedArgs = new ArrayList<>(original);
        m.storedArgs.addAll(current);
        return m;
    }

    /**
     * {@code stored} without the options that {@code given} sets again, so that a value given now
     * replaces the stored one (list options such as --eval-lengths would otherwise add up).
     */
    private List<String> withoutOptions(List<String> stored, List<String> given) {
        Set<String> names = new HashSet<>();
        for (String a : given) {
            if (a.startsWith("--")) {
                names.add(a);
            }
        }
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < stored.size(); i++) {
            String name = stored.get(i);
            OptionSpec o = spec.findOption(name);
            if (o == null) {
                throw new CliException("checkpoint " + resume + " records an option this version does not know: " + name);
            }
            boolean flag = o.arity().max() == 0;
            if (!names.contains(name)) {
                kept.add(name);
                if (!flag) {
                    kept.add(stored.get(i + 1));
                }
            }
            if (!flag) {
                i++;
            }
        }
        return kept;
    }

    /** The options given on this command line, as arguments (optionally with --resume). */
    private List<String> currentArgs(boolean withResume) {
        List<String> args = new ArrayList<>();
        CommandLine.ParseResult pr = spec.commandLine().getParseResult();
        for (OptionSpec o : pr.matchedOptions()) {
            String name = o.longestName();
            if (name.equals("--verbose") || o.usageHelp() || o.versionHelp() || !withResume && name.equals("--resume")) {
                continue;
            }
            if (o.arity().max() == 0) {
                args.add(name);
            } else {
                for (String v : o.originalStringValues()) {
                    args.add(name);
                    args.add(v);
                }
            }
        }
        return args;
    }

    private int run(PrintWriter stdout, PrintWriter err) throws IOException {
        validate();
        Files.createDirectories(out);
        String kind;
        BatchSource source;
        Evaluation evaluation;
        int vocab;
        byte[] tokenizerJson = null;
        TokenIds ids = TokenIds.NONE;
        SyntheticTask synthetic = null;
        if (task != null) {
            synthetic = SyntheticTask.byName(task);
            kind = synthetic.name();
            vocab = synthetic.vocabSize();
            source = synthetic.source(batch, seqLen);
            List<Integer> lengths = evalLengths == null || evalLengths.isEmpty() ? List.of(seqLen) : evalLengths;
            evaluation = new TaskEvaluation(synthetic, lengths, evalSamples, Math.max(batch, 16), seed + 1);
        } else {
            int[] tokens;
            if (tokenizer != null) {
                BpeTokenizer tok = BpeTokenizer.load(tokenizer);
                tokens = tok.encode(CliSupport.readUtf8(data));
                vocab = tok.vocabSize();
                tokenizerJson = Files.readAllBytes(tokenizer);
                if (tok.eosId().isPresent()) {
                    ids = TokenIds.of(tok.eosId().getAsInt(), -1, -1);
                }
                kind = "text (tokenizer " + tokenizer.getFileName() + ")";
            } else {
                if (!Files.isRegularFile(data)) {
                    throw new CliException("text file " + data + " does not exist");
                }
                byte[] bytes = Files.readAllBytes(data);
                tokens = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    tokens[i] = bytes[i] & 0xFF;
                }
                vocab = ByteTokenizerJson.VOCAB_SIZE;
                tokenizerJson = ByteTokenizerJson.bytes();
                ids = TokenIds.of(256, -1, -1);
                kind = "text (bytes)";
            }
            TokenCorpus[] split = new TokenCorpus(tokens, vocab).split(valFraction);
            if (split[0].size() <= seqLen || split[1].size() <= seqLen) {
                throw new CliException(data + " is too short: " + tokens.length + " tokens do not give training and "
                        + "validation windows of " + (seqLen + 1) + " (lower --seq-len or --val-fraction)");
            }
            source = split[0].windows(batch, seqLen);
            evaluation = new LossEvaluation(split[1], batch, seqLen, evalBatches, seed + 1);
        }

        MambaConfig config = new MambaConfig(dModel, nLayer, vocab, dState, dConv, expand * dModel,
                dtRank > 0 ? dtRank : MambaConfig.autoDtRank(dModel), false, true, 1e-5, true, true);
        double min = constantLr ? lr : (minLr != null ? minLr : lr / 10);
        CosineSchedule schedule = new CosineSchedule(lr, min, warmup, constantLr ? warmup : steps);
        TrainerConfig tc = new TrainerConfig(steps, accum, schedule, new AdamWConfig(beta1, beta2, eps, weightDecay),
                clip, evalEvery, checkpointEvery, logEvery, seed);
        MambaWeights weights = ModelInit.initialize(config, seed);

        Map<String, String> runInfo = new LinkedHashMap<>();
        runInfo.put("args", Json.write(merged ? storedArgs : currentArgs(false)));
        runInfo.put("kind", kind);
        Path checkpoints = out.resolve(CHECKPOINTS);
        String title = "jmamba train: " + kind + ", d_model " + dModel + ", " + nLayer + " layers";
        ProgressListener progress = new ProgressListener(err, title, checkpoints.getParent(), noProgress, logEvery);
        quietTrainerLog();

        try (CpuMamba model = CpuMamba.create(weights, threads > 0 ? new CpuOptions(threads) : CpuOptions.defaults())) {
            Trainer.Builder b = Trainer.builder(model, source, tc).evaluation(evaluation).listener(progress)
                    .checkpoints(checkpoints, keep).runInfo(runInfo);
            if (tokenizerJson != null) {
                b.extraFile(CliSupport.TOKENIZER_FILE, tokenizerJson);
            }
            if (stopAccuracy != null) {
                double target = stopAccuracy;
                b.stopWhen(m -> m.entrySet().stream().filter(e -> e.getKey().startsWith("acc@"))
                        .allMatch(e -> e.getValue() >= target));
            }
            Trainer trainer = b.build();
            if (resume != null) {
                trainer.resume(resume);
                err.println("resumed from " + TrainingCheckpoint.resolve(resume) + " at update " + trainer.step());
            }
            err.println(String.format(Locale.ROOT, "training %s: %,d parameters, %d updates of %d x %d x %d tokens",
                    kind, config.parameterCount(), steps, accum, batch, seqLen));
            progress.start(trainer.step(), steps);
            long t0 = System.nanoTime();
            long firstStep = trainer.step();
            StepMetrics last;
            try {
                last = trainer.run();
            } finally {
                progress.close();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (trainer.step() < steps) {
                err.println(String.format(Locale.ROOT, "stopped at update %d: every evaluated length reached accuracy %s",
                        trainer.step(), stopAccuracy));
            }

            Checkpoints.save(out, model.weights(), ids);
            if (tokenizerJson != null) {
                AtomicFiles.write(out.resolve(CliSupport.TOKENIZER_FILE), tokenizerJson);
            }
            TrainingState state = trainer.state();
            writeOutputs(out, title, state);

            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("out", out.toString());
            summary.put("data", kind);
            summary.put("parameters", config.parameterCount());
            summary.put("steps", trainer.step());
            summary.put("tokens_seen", state.tokensSeen());
            summary.put("final_loss", last != null ? last.loss() : lastLoss(state));
            summary.put("final_loss_avg_last_100", averageLoss(state, 100));
            if (!state.evals().isEmpty()) {
                summary.put("final_eval", state.evals().get(state.evals().size() - 1).metrics());
            }
            summary.put("seconds", seconds);
            long tokensThisRun = (trainer.step() - firstStep) * (long) accum * batch * seqLen;
            summary.put("tokens_per_second", seconds > 0 ? tokensThisRun / seconds : 0);
            stdout.println(Json.write(summary));
        }
        return 0;
    }

    private void validate() {
        if (out == null) {
            throw new CliException("--out DIR is required");
        }
        if ((task == null) == (data == null)) {
            throw new CliException("give exactly one of --data FILE and --task NAME");
        }
        if (tokenizer != null && data == null) {
            throw new CliException("--tokenizer applies to --data only");
        }
        for (Object[] p : new Object[][] {{"--d-model", dModel}, {"--n-layer", nLayer}, {"--d-state", dState},
                {"--d-conv", dConv}, {"--expand", expand}, {"--batch", batch}, {"--accum", accum},
                {"--seq-len", seqLen}, {"--eval-samples", evalSamples}, {"--eval-batches", evalBatches}}) {
            if ((int) p[1] <= 0) {
                throw new CliException(p[0] + " must be positive, got " + p[1]);
            }
        }
        if (steps < 0 || warmup < 0 || evalEvery < 0 || checkpointEvery < 0 || keep < 1 || dtRank < 0 || threads < 0) {
            throw new CliException("--steps, --warmup, --eval-every, --checkpoint-every, --dt-rank and --threads must not be "
                    + "negative and --keep must be at least 1");
        }
        if (!(lr > 0) || minLr != null && !(minLr >= 0 && minLr <= lr)) {
            throw new CliException("--lr must be positive and --min-lr in [0, lr]");
        }
        if (stopAccuracy != null && task == null) {
            throw new CliException("--stop-accuracy applies to --task only");
        }
        if (evalLengths != null) {
            for (int len : evalLengths) {
                if (len <= 0) {
                    throw new CliException("--eval-lengths must be positive, got " + len);
                }
            }
        }
    }

    /**
     * The trainer logs its progress through SLF4J at INFO, which slf4j-simple prints to stderr:
     * lines that would land in the middle of the progress bar and repeat what the command prints
     * itself (evaluations, --log-every lines, checkpoints). The command keeps the trainer's log to
     * warnings unless the user chose a level with -Dorg.slf4j.simpleLogger.log.org.jmamba.train=...
     */
    private static void quietTrainerLog() {
        String key = "org.slf4j.simpleLogger.log." + Trainer.class.getPackageName();
        if (System.getProperty(key) == null) {
            System.setProperty(key, "warn");
        }
    }

    /** The loss plot(s) and the metrics file, from the full history (resumed runs included). */
    static void writeOutputs(Path out, String title, TrainingState state) throws IOException {
        LossPlot.write(out.resolve(LOSS_PLOT), title, state.history(), state.evals());
        LossPlot.writeAccuracy(out.resolve(ACCURACY_PLOT), title, state.evals());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int e = 0;
        List<TrainingState.EvalPoint> evals = state.evals();
        for (TrainingState.HistoryPoint h : state.history()) {
            while (e < evals.size() && evals.get(e).step() < h.step()) {
                buf.write(evalLine(evals.get(e++)));
            }
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("step", h.step());
            line.put("loss", h.loss());
            line.put("lr", h.lr());
            line.put("grad_norm", h.gradNorm());
            buf.write((Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        while (e < evals.size()) {
            buf.write(evalLine(evals.get(e++)));
        }
        AtomicFiles.write(out.resolve(METRICS_FILE), buf.toByteArray());
    }

    private static byte[] evalLine(TrainingState.EvalPoint p) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", p.step());
        line.put("eval", p.metrics());
        return (Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static double lastLoss(TrainingState s) {
        return s.history().isEmpty() ? Double.NaN : s.history().get(s.history().size() - 1).loss();
    }

    private static double averageLoss(TrainingState s, int n) {
        List<TrainingState.HistoryPoint> h = s.history();
        if (h.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        int from = Math.max(0, h.size() - n);
        for (int i = from; i < h.size(); i++) {
            sum += h.get(i).loss();
        }
        return sum / (h.size() - from);
    }

    /** The progress bar, log and evaluation lines, and the plots at each checkpoint. */
    private static final class ProgressListener implements TrainingListener {
        private final PrintWriter err;
        private final String title;
        private final Path out;
        private final boolean quiet;
        private final long logEvery;
        private ProgressBar bar;
        private long totalSteps;
        private double ema = Double.NaN;
        private double tokensPerSecond = Double.NaN;

        ProgressListener(PrintWriter err, String title, Path out, boolean quiet, long logEvery) {
            this.err = err;
            this.title = title;
            this.out = out;
            this.quiet = quiet;
            this.logEvery = logEvery;
        }

        void start(long from, long to) {
            totalSteps = to;
            if (!quiet && to > from) {
                bar = new ProgressBar(err, from > 0 ? "train (from " + from + ")" : "train", to - from, "steps");
            }
        }

        @Override
        public void onStep(StepMetrics m) {
            ema = Double.isNaN(ema) ? m.loss() : 0.95 * ema + 0.05 * m.loss();
            tokensPerSecond = Double.isNaN(tokensPerSecond) ? m.tokensPerSecond()
                    : 0.9 * tokensPerSecond + 0.1 * m.tokensPerSecond();
            if (bar != null) {
                bar.status(String.format(Locale.ROOT, "loss %.4f %,.0f tok/s", ema, tokensPerSecond));
                bar.step(1);
            }
            if (logEvery > 0 && m.step() % logEvery == 0) {
                line(String.format(Locale.ROOT, "step %d/%d loss %.4f lr %.3g grad-norm %.3f %.0f tok/s %.0fs",
                        m.step(), totalSteps, m.loss(), m.lr(), m.gradNorm(), m.tokensPerSecond(), m.elapsedSeconds()));
            }
        }

        @Override
        public void onEval(long step, Map<String, Double> metrics) {
            StringBuilder sb = new StringBuilder("eval at update ").append(step).append(':');
            metrics.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(String.format(Locale.ROOT, "%.4f", v)));
            line(sb.toString());
        }

        @Override
        public void onCheckpoint(long step, Path dir, TrainingState state) {
            try {
                writeOutputs(out, title, state);
                if (bar == null) {
                    line("checkpoint " + dir);
                }
            } catch (IOException e) {
                line("could not write the plots for update " + step + ": " + e.getMessage());
            }
        }

        /** A line of its own, above the progress bar when there is one. */
        private void line(String text) {
            if (bar != null) {
                bar.println(text);
            } else {
                err.println(text);
                err.flush();
            }
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
