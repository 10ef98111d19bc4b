package org.jmamba.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.perf.BenchShapes;
import org.jmamba.train.AdamW;
import org.jmamba.train.AdamWConfig;
import org.jmamba.train.ModelInit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step of a small model ({@link BenchShapes#SMALL}: d_model 256, 4 layers, vocab
 * 4096) on {@code batch} x {@code len} tokens: forward, loss, backward and an AdamW update. The
 * {@code tokens} counter is training tokens per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
public class TrainBench {
    @Param({"8"})
    public int batch;

    @Param({"256"})
    public int len;

    /** 0 = one per available processor. */
    @Param({"0"})
    public int threads;

    private CpuMamba model;
    private MambaWeights grads;
    private AdamW optimiser;
    private int[][] inputs;
    private int[][] targets;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;
    }

    @Setup(Level.Trial)
    public void setup() {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        model = CpuMamba.create(ModelInit.initialize(BenchShapes.SMALL, 1), new CpuOptions(t));
        grads = MambaWeights.zeros(BenchShapes.SMALL);
        optimiser = new AdamW(AdamWConfig.paperDefaults(), model.weights());
        SplittableRandom rnd = new SplittableRandom(4);
        inputs = new int[batch][len];
        targets = new int[batch][len];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < len; i++) {
                inputs[b][i] = rnd.nextInt(BenchShapes.SMALL.vocabSize());
            }
            System.arraycopy(inputs[b], 1, targets[b], 0, len - 1);
            targets[b][len - 1] = -1;
        }
    }

    @Benchmark
    public double trainStep(Tokens counter) {
        grads.zero();
        double loss = model.lossAndGradients(inputs, targets, grads);
        optimiser.step(model.weights(), grads, 1e-4);
        model.weightsUpdated();
        counter.tokens += (long) batch * len;
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }
}
