package org.jmamba.perf;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.kernels.WeightType;
import org.jmamba.train.ModelInit;

/**
 * The accuracy cost of storing the weights as bf16 or block-int8 instead of f32: the same tokens
 * through the same weights in each storage type, compared with f32 — the logits' norm-wise
 * relative error, and the mean next-token loss (and perplexity) each type gives.
 *
 * <p>{@code main} measures a random mamba-130m-shaped model (the numbers in docs/benchmarks.md):
 * {@code java --add-modules jdk.incubator.vector -cp ... org.jmamba.perf.WeightTypeAccuracy [batch len threads]}.
 */
public final class WeightTypeAccuracy {
    private WeightTypeAccuracy() {
    }

    /**
     * @param logitRelErr ‖logits − logits_f32‖ / ‖logits_f32‖ over every position
     * @param maxAbsErr   the largest absolute logit difference from f32
     * @param loss        mean next-token cross-entropy (targets = inputs shifted by one)
     * @param lossDiff    loss − loss_f32
     */
    public record Result(WeightType type, double logitRelErr, double maxAbsErr, double loss, double lossDiff) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    /** Runs {@code tokens} through {@code w} in every weight type. */
    public static Map<WeightType, Result> measure(MambaWeights w, int[][] tokens, int threads) {
        int[][] targets = new int[tokens.length][];
        for (int b = 0; b < tokens.length; b++) {
            int L = tokens[b].length;
            targets[b] = new int[L];
            System.arraycopy(tokens[b], 1, targets[b], 0, L - 1);
            targets[b][L - 1] = -1;
        }
        float[] ref = null;
        double refLoss = 0;
        Map<WeightType, Result> out = new EnumMap<>(WeightType.class);
        for (WeightType t : WeightType.values()) { // F32 first
            try (CpuMamba m = CpuMamba.create(w, new CpuOptions(threads, t))) {
                float[] logits = m.forward(tokens, false).logits().data();
                double loss = m.loss(tokens, targets);
                if (t == WeightType.F32) {
                    ref = logits;
                    refLoss = loss;
                }
                double num = 0, den = 0, maxAbs = 0;
                for (int i = 0; i < logits.length; i++) {
                    double d = (double) logits[i] - ref[i];
                    num += d * d;
                    den += (double) ref[i] * ref[i];
                    maxAbs = Math.max(maxAbs, Math.abs(d));
                }
                out.put(t, new Result(t, Math.sqrt(num / den), maxAbs, loss, loss - refLoss));
            }
        }
        return out;
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int len = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        MambaConfig c = BenchShapes.MAMBA_130M;
        MambaWeights w = ModelInit.initialize(c, 1);
        int[][] tokens = CpuBenchmark.randomTokens(new SplittableRandom(7), batch, len, c.vocabSize());
        Map<WeightType, Result> r = measure(w, tokens, threads);
        StringBuilder sb = new StringBuilder("random mamba-130m shape, " + batch + " x " + len + " random tokens\n");
        sb.append(String.format("%-5s %14s %14s %10s %12s%n", "type", "logit rel err", "max |diff|", "loss", "loss - f32"));
        for (Result x : r.values()) {
            sb.append(String.format("%-5s %14.3e %14.3e %10.5f %12.2e%n", x.type().label(), x.logitRelErr(), x.maxAbsErr(),
                    x.loss(), x.lossDiff()));
        }
        System.out.print(sb); // a command-line tool: its report is its output
    }
}
