package org.jmamba.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jmamba.MambaState;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.kernels.WeightType;
import org.jmamba.perf.BenchShapes;
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
 * Prefill of one prompt of {@code len} tokens on the mamba-130m shape (random weights): the
 * parallel path (blocked matrix products, the scan vectorised across channels), ending with the
 * logits of the last token. The {@code tokens} counter is prompt tokens per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class PrefillBench {
    @Param({"f32", "bf16", "int8"})
    public String dtype;

    @Param({"512", "2048"})
    public int len;

    /** 0 = one per available processor. */
    @Param({"0"})
    public int threads;

    private CpuMamba model;
    private int[][] prompt;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;
    }

    @Setup(Level.Trial)
    public void setup() {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        model = CpuMamba.create(ModelInit.initialize(BenchShapes.MAMBA_130M, 1), new CpuOptions(t, WeightType.parse(dtype)));
        SplittableRandom rnd = new SplittableRandom(3);
        prompt = new int[1][len];
        for (int i = 0; i < len; i++) {
            prompt[0][i] = rnd.nextInt(50280);
        }
    }

    @Benchmark
    public float prefill(Tokens counter) {
        try (MambaState s = model.newState(1)) {
            float[][] logits = model.prefill(s, prompt);
            counter.tokens += len;
            return logits[0][0];
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }
}
