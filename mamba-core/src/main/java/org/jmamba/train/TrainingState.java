package org.jmamba.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything of a training run that is not a tensor, as stored in a checkpoint's
 * {@code trainer_state.json} (next to the weights and the optimiser moments).
 *
 * @param version       format version ({@link #VERSION})
 * @param step          optimiser updates done
 * @param optimizerStep AdamW's t (equal to {@code step} for runs made by {@link Trainer})
 * @param rngState      the data generator's state, 16 hex digits (a JSON number would lose bits)
 * @param batchesDrawn  micro-batches drawn from the data source so far (the data position)
 * @param tokensSeen    input tokens trained on so far
 * @param history       loss, learning rate and gradient norm of every update so far
 * @param evals         every evaluation so far
 * @param run           free-form description of the run (task, sizes, command-line options) so
 *                      that a resumed run can be rebuilt from the checkpoint alone
 */
public record TrainingState(int version, long step, long optimizerStep, String rngState, long batchesDrawn,
                            long tokensSeen, List<HistoryPoint> history, List<EvalPoint> evals,
                            Map<String, String> run) {

    public static final int VERSION = 1;

    /** One update's numbers. */
    public record HistoryPoint(long step, double loss, double lr, double gradNorm) {
    }

    /** One evaluation's metrics, in report order. */
    public record EvalPoint(long step, Map<String, Double> metrics) {
        public EvalPoint {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metrics, "metrics")));
        }
    }

    public TrainingState {
        history = List.copyOf(Objects.requireNonNull(history, "history"));
        evals = List.copyOf(Objects.requireNonNull(evals, "evals"));
        run = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(run, "run")));
    }

    /** The generator state as a long. */
    public long rngStateValue() {
        return Long.parseUnsignedLong(rngState, 16);
    }

    /** Formats a generator state for {@link #rngState}. */
    public static String formatRngState(long state) {
        return String.format("%016x", state);
    }

    /**
     * Checks the invariants a state read from a file must satisfy.
     *
     * @throws IllegalArgumentException naming the first problem
     */
    public void validate() {
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported trainer state version " + version + " (this build reads " + VERSION + ")");
        }
        if (step < 0 || optimizerStep < 0 || batchesDrawn < 0 || tokensSeen < 0) {
            throw new IllegalArgumentException("negative counter in trainer state");
        }
        if (rngState == null || !rngState.matches("[0-9a-fA-F]{1,16}")) {
            throw new IllegalArgumentException("rng_state must be up to 16 hex digits, got " + rngState);
        }
        if (history.size() > step) {
            throw new IllegalArgumentException("trainer state has " + history.size() + " history points for " + step + " steps");
        }
        for (HistoryPoint h : history) {
            if (h == null || h.step() < 1 || h.step() > step) {
                throw new IllegalArgumentException("history point outside steps 1.." + step);
            }
        }
        for (EvalPoint e : evals) {
            if (e == null || e.step() < 0 || e.step() > step) {
                throw new IllegalArgumentException("evaluation outside steps 0.." + step);
            }
        }
    }
}
