package org.jmamba.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.jmamba.FloatTensor;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.train.TrainingState.EvalPoint;
import org.jmamba.train.TrainingState.HistoryPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop: draw micro-batches, accumulate their gradients, clip, step AdamW at the
 * scheduled rate, and now and then evaluate and checkpoint.
 *
 * <p>One update:
 * <pre>
 *   for each of the k micro-batches i:  g_i = d(mean loss_i)/dθ            (SequenceModel.lossAndGradients)
 *   g      = Σ_i (n_i / N) g_i            n_i scored tokens of micro-batch i, N = Σ n_i:
 *                                         the gradient of the mean loss over all N tokens
 *   norm   = ‖g‖₂;  g *= min(1, clip / norm)
 *   θ      = AdamW(θ, g, lr(step))
 * </pre>
 * Deterministic: all data randomness comes from one {@link Rng} seeded by the config and saved in
 * checkpoints, so a run resumed from a checkpoint continues bit for bit as the uninterrupted run
 * would have (given a model whose forward and backward are themselves deterministic, as the CPU
 * model is).
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final SequenceModel model;
    private final BatchSource data;
    private final TrainerConfig config;
    private final Evaluation evaluation;
    private final TrainingListener listener;
    private final Path checkpointDir;
    private final int keepCheckpoints;
    private final Map<String, byte[]> extraFiles;
    private final Map<String, String> runInfo;
    private final Predicate<Map<String, Double>> stopWhen;

    private final AdamW optimizer;
    private Rng rng;
    private long step;
    private long batchesDrawn;
    private long tokensSeen;
    private final List<HistoryPoint> history = new ArrayList<>();
    private final List<EvalPoint> evals = new ArrayList<>();

    private Trainer(Builder b) {
        this.model = b.model;
        this.data = b.data;
        this.config = b.config;
        this.evaluation = b.evaluation;
        this.listener = b.listener;
        this.checkpointDir = b.checkpointDir;
        this.keepCheckpoints = b.keepCheckpoints;
        this.extraFiles = new LinkedHashMap<>(b.extraFiles);
        this.runInfo = new LinkedHashMap<>(b.runInfo);
        this.stopWhen = b.stopWhen;
        if (data.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the data uses " + data.vocabSize() + " tokens but the model's vocabulary has "
                    + model.config().vocabSize());
        }
        this.optimizer = new AdamW(config.optimizer(), model.weights());
        this.rng = new Rng(config.seed());
    }

    /** Starts a trainer description; {@link Builder#build()} makes it. */
    public static Builder builder(SequenceModel model, BatchSource data, TrainerConfig config) {
        return new Builder(model, data, config);
    }

    /** Options of a {@link Trainer}. */
    public static final class Builder {
        private final SequenceModel model;
        private final BatchSource data;
        private final TrainerConfig config;
        private Evaluation evaluation;
        private TrainingListener listener = new TrainingListener() { };
        private Path checkpointDir;
        private int keepCheckpoints;
        private final Map<String, byte[]> extraFiles = new LinkedHashMap<>();
        private final Map<String, String> runInfo = new LinkedHashMap<>();
        private Predicate<Map<String, Double>> stopWhen;

        private Builder(SequenceModel model, BatchSource data, TrainerConfig config) {
            this.model = Objects.requireNonNull(model, "model");
            this.data = Objects.requireNonNull(data, "data");
            this.config = Objects.requireNonNull(config, "config");
        }

        /** Run this evaluation every {@code config.evalEvery()} updates and at the end. */
        public Builder evaluation(Evaluation e) {
            this.evaluation = e;
            return this;
        }

        public Builder listener(TrainingListener l) {
            this.listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /**
         * Write checkpoints under {@code dir} every {@code config.checkpointEvery()} updates and at
         * the end, keeping the newest {@code keep} (0 keeps all).
         */
        public Builder checkpoints(Path dir, int keep) {
            if (keep < 0) {
                throw new IllegalArgumentException("keep must be non-negative, got " + keep);
            }
            this.checkpointDir = dir;
            this.keepCheckpoints = keep;
            return this;
        }

        /** A file written into every checkpoint (e.g. {@code tokenizer.json}). */
        public Builder extraFile(String name, byte[] content) {
            extraFiles.put(name, content.clone());
            return this;
        }

        /** Describes the run in every checkpoint's state (how to rebuild data and model on resume). */
        public Builder runInfo(Map<String, String> info) {
            runInfo.putAll(info);
            return this;
        }

        /** Stop early once an evaluation's metrics satisfy {@code condition}. */
        public Builder stopWhen(Predicate<Map<String, Double>> condition) {
            this.stopWhen = condition;
            return this;
        }

        public Trainer build() {
            return new Trainer(this);
        }
    }

    /** Updates done so far. */
    public long step() {
        return step;
    }

    /** Loss, learning rate and gradient norm of every update so far (resumed runs included). */
    public List<HistoryPoint> history() {
        return List.copyOf(history);
    }

    /** Every evaluation so far. */
    public List<EvalPoint> evaluations() {
        return List.copyOf(evals);
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /**
     * Continues from a checkpoint written by a trainer of the same model configuration: copies its
     * weights into the model, restores the optimiser moments, the generator, the counters and the
     * history. Everything is checked before anything is changed.
     *
     * @param dir a checkpoint directory, or a directory of them (the newest complete one is taken)
     * @return the checkpoint read
     */
    public TrainingCheckpoint.Loaded resume(Path dir) {
        TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(dir);
        if (!ck.model().config().equals(model.config())) {
            throw new IllegalArgumentException("checkpoint " + ck.dir() + " is of a different model: " + ck.model().config()
                    + " vs " + model.config());
        }
        TrainingState s = ck.state();
        if (s.step() > config.steps()) {
            throw new IllegalArgumentException("checkpoint " + ck.dir() + " is at step " + s.step()
                    + ", beyond this run's " + config.steps() + " steps");
        }
        optimizer.restore(ck.optimizer(), s.optimizerStep());
        Map<String, FloatTensor> src = ck.model().weights().named();
        for (Map.Entry<String, FloatTensor> e : model.weights().named().entrySet()) {
            float[] from = src.get(e.getKey()).data();
            System.arraycopy(from, 0, e.getValue().data(), 0, from.length);
        }
        model.weightsUpdated();
        rng = Rng.fromState(s.rngStateValue());
        step = s.step();
        batchesDrawn = s.batchesDrawn();
        tokensSeen = s.tokensSeen();
        history.clear();
        history.addAll(s.history());
        evals.clear();
        evals.addAll(s.evals());
        LOG.info("resumed from {} at step {} ({} tokens seen)", ck.dir(), step, tokensSeen);
        return ck;
    }

    /** The state a checkpoint written now would hold. */
    public TrainingState state() {
        return new TrainingState(TrainingState.VERSION, step, optimizer.stepCount(),
                TrainingState.formatRngState(rng.state()), batchesDrawn, tokensSeen, history, evals, runInfo);
    }

    /**
     * Trains until {@code config.steps()} updates are done (or the stop condition holds).
     *
     * @return the metrics of the last update made by this call, or null if none was needed
     * @throws IllegalStateException if the loss or the gradient norm stops being finite
     */
    public StepMetrics run() {
        MambaWeights grads = MambaWeights.zeros(model.config());
        MambaWeights micro = config.accumulation() > 1 ? MambaWeights.zeros(model.config()) : null;
        long start = System.nanoTime();
        StepMetrics last = null;
        if (step == 0 && evaluation != null && config.evalEvery() > 0) {
            evaluate();
        }
        while (step < config.steps()) {
            long t0 = System.nanoTime();
            Batch[] batches = new Batch[config.accumulation()];
            long[] counts = new long[batches.length];
            long scored = 0;
            long tokens = 0;
            for (int i = 0; i < batches.length; i++) {
                batches[i] = data.next(rng);
                batchesDrawn++;
                counts[i] = batches[i].countTargets();
                scored += counts[i];
                tokens += batches[i].tokens();
            }
            if (scored == 0) {
                throw new IllegalStateException("update " + (step + 1) + " has no scored tokens (every target is -1)");
            }
            grads.zero();
            double lossSum = 0;
            for (int i = 0; i < batches.length; i++) {
                if (counts[i] == 0) {
                    continue;
                }
                double loss;
                if (micro == null) {
                    loss = model.lossAndGradients(batches[i].inputs(), batches[i].targets(), grads);
                } else {
                    micro.zero();
                    loss = model.lossAndGradients(batches[i].inputs(), batches[i].targets(), micro);
                    addScaled(grads, micro, (double) counts[i] / scored);
                }
                lossSum += loss * counts[i];
            }
            double loss = lossSum / scored;
            double norm = GradientClipping.clip(grads, config.clipNorm());
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                throw new IllegalStateException("training diverged at update " + (step + 1) + ": loss " + loss
                        + ", gradient norm " + norm + " (lower the learning rate or enable clipping)");
            }
            double lr = config.schedule().lr(step);
            optimizer.step(model.weights(), grads, lr);
            model.weightsUpdated();
            step++;
            tokensSeen += tokens;
            history.add(new HistoryPoint(step, loss, lr, norm));
            long t1 = System.nanoTime();
            last = new StepMetrics(step, loss, lr, norm, tokens, tokens / ((t1 - t0) / 1e9), (t1 - start) / 1e9);
            listener.onStep(last);
            if (config.logEvery() > 0 && step % config.logEvery() == 0) {
                LOG.info(String.format("step %d/%d loss %.4f lr %.3g grad-norm %.3f %.0f tok/s",
                        step, config.steps(), loss, lr, norm, last.tokensPerSecond()));
            }
            boolean end = step == config.steps();
            boolean stop = false;
            if (evaluation != null && (end || config.evalEvery() > 0 && step % config.evalEvery() == 0)) {
                Map<String, Double> m = evaluate();
                stop = stopWhen != null && stopWhen.test(m);
                if (stop && !end) {
                    LOG.info("stop condition met at step {}", step);
                }
            }
            if (checkpointDir != null && (end || stop || config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0)) {
                checkpoint();
            }
            if (stop) {
                break;
            }
        }
        return last;
    }

    /** Writes a checkpoint of the current state now; returns its directory. */
    public Path checkpoint() {
        if (checkpointDir == null) {
            throw new IllegalStateException("no checkpoint directory configured");
        }
        TrainingState s = state();
        Path dir = TrainingCheckpoint.save(checkpointDir, model.weights(), optimizer, s, extraFiles);
        if (keepCheckpoints > 0) {
            TrainingCheckpoint.prune(checkpointDir, keepCheckpoints);
        }
        LOG.info("checkpoint {}", dir);
        listener.onCheckpoint(step, dir, s);
        return dir;
    }

    private Map<String, Double> evaluate() {
        Map<String, Double> m = new LinkedHashMap<>(evaluation.evaluate(model));
        evals.add(new EvalPoint(step, m));
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(String.format("%.4f", v)));
        LOG.info("eval at step {}:{}", step, sb);
        listener.onEval(step, m);
        return m;
    }

    /** acc += factor * g, tensor by tensor. */
    private static void addScaled(MambaWeights acc, MambaWeights g, double factor) {
        float f = (float) factor;
        Map<String, FloatTensor> src = g.named();
        for (Map.Entry<String, FloatTensor> e : acc.named().entrySet()) {
            float[] a = e.getValue().data();
            float[] b = src.get(e.getKey()).data();
            for (int i = 0; i < a.length; i++) {
                a[i] += f * b[i];
            }
        }
    }
}
