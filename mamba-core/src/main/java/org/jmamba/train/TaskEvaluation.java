package org.jmamba.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jmamba.SequenceModel;

/**
 * Periodic accuracy on a synthetic task during training: {@code acc@<length>} for each length, on
 * fixed examples (the same at every evaluation).
 */
public final class TaskEvaluation implements Evaluation {
    private final SyntheticTask task;
    private final List<Integer> lengths;
    private final int samples;
    private final int batchSize;
    private final long seed;

    public TaskEvaluation(SyntheticTask task, List<Integer> lengths, int samples, int batchSize, long seed) {
        if (lengths.isEmpty()) {
            throw new IllegalArgumentException("evaluate at least one length");
        }
        this.task = task;
        this.lengths = List.copyOf(lengths);
        this.samples = samples;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    @Override
    public Map<String, Double> evaluate(SequenceModel model) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int len : lengths) {
            TaskEvaluator.Result r = TaskEvaluator.evaluate(model, task, len, samples, batchSize, seed,
                    TaskEvaluator.Mode.AUTO, 4096);
            out.put("acc@" + len, r.accuracy());
        }
        return out;
    }
}
