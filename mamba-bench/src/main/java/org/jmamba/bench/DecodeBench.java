package org.jmamba.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.kernels.WeightType;
import org.jmamba.perf.BenchCheckpoint;
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
 * Decode throughput of the mamba-130m shape (or another {@link BenchShapes} shape; random weights): one recurrent step of {@code batch}
 * sequences per operation, through the allocation-free {@code step(state, tokens, logits)}.
 * The {@code tokens} counter is tokens per second (steps × batch). With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is the bytes allocated per step (0 expected).
 * <pre>
 * java --add-modules jdk.incubator.vector -jar mamba-bench/target/benchmarks.jar DecodeBench -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
public class DecodeBench {
    /** A {@link BenchShapes} name; {@code tiny} makes steps short enough to show allocation per step cleanly. */
    @Param({"130m"})
    public String shape;

    @Param({"f32", "bf16", "int8"})
    public String dtype;

    @Param({"1", "8"})
    public int batch;

    /** 0 = one per available processor. */
    @Param({"0"})
    public int threads;

    /**
     * Where the weights live: {@code heap}, or {@code off-heap} / {@code mapped}, for which the random
     * weights are written to a temporary checkpoint (bf16 for bf16, else f32) and loaded from it.
     * Each form has its own kernels, and each must allocate nothing.
     */
    @Param({"heap"})
    public String weightMemory;

    private CpuMamba model;
    private BenchCheckpoint checkpoint; // off the heap only: the random weights written out and loaded
    private MambaState state;
    private float[][] logits;
    private int[] tokens;
    private SplittableRandom rnd;

    /** Tokens decoded (JMH reports it per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;
    }

    @Setup(Level.Trial)
    public void setup() {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        MambaWeights weights = ModelInit.initialize(BenchShapes.byName(shape), 1);
        CpuOptions options = new CpuOptions(t, WeightType.parse(dtype));
        WeightMemory memory = WeightMemory.parse(weightMemory);
        if (memory == WeightMemory.HEAP) {
            model = CpuMamba.create(weights, options);
        } else { // only a model read from a checkpoint keeps its weights off the heap
            checkpoint = BenchCheckpoint.write(weights, options.weightType());
            model = checkpoint.load(options.withWeightMemory(memory));
        }
        state = model.newState(batch);
        logits = new float[batch][model.config().vocabSize()];
        tokens = new int[batch];
        rnd = new SplittableRandom(2);
    }

    @Benchmark
    public float step(Tokens counter) {
        for (int b = 0; b < batch; b++) {
            tokens[b] = rnd.nextInt(logits[0].length);
        }
        model.step(state, tokens, logits);
        counter.tokens += batch;
        return logits[0][tokens[0]];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        state.close();
        model.close();
        if (checkpoint != null) {
            checkpoint.close();
        }
    }
}
