package org.jmamba.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jmamba.generate.Sampler;
import org.jmamba.generate.SamplingParams;
import org.jmamba.perf.BenchShapes;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * What choosing a token costs per decode step, on logits of the mamba-130m vocabulary (50,280),
 * one thread: {@link Sampler#sample} for each kind of decoding. Beside a decode step of that shape
 * (3–10 ms here, docs/benchmarks.md) this is what {@code generate} adds per token.
 *
 * <pre>
 * java -jar mamba-bench/target/benchmarks.jar SamplerBench -f 1 -wi 3 -i 5
 * </pre>
 *
 * Logits ({@code logits}): {@code flat} are standard normal, as a random-weight model gives (top-p
 * 0.95 then keeps most of the vocabulary); {@code peaked} are normal with standard deviation 4,
 * closer to a trained model's, whose nucleus is a small fraction of the vocabulary. Each call takes
 * the next of {@value #DISTINCT} logit vectors.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx1g"})
public class SamplerBench {
    @Param({"greedy", "temperature", "topK", "topP"})
    public String decoding;

    @Param({"flat", "peaked"})
    public String logits;

    private static final int DISTINCT = 16;

    private float[][] rows;
    private Sampler sampler;
    private int next;

    @Setup(Level.Trial)
    public void setup() {
        int vocab = BenchShapes.MAMBA_130M.vocabSize();
        float sd = switch (logits) {
            case "flat" -> 1f;
            case "peaked" -> 4f;
            default -> throw new IllegalArgumentException("logits: flat or peaked, got " + logits);
        };
        SplittableRandom r = new SplittableRandom(3);
        rows = new float[DISTINCT][vocab];
        for (float[] row : rows) {
            for (int i = 0; i < vocab; i++) {
                row[i] = (float) (r.nextGaussian() * sd);
            }
        }
        SamplingParams.Builder b = SamplingParams.builder();
        switch (decoding) {
            case "greedy" -> { }
            case "temperature" -> b.temperature(0.8);
            case "topK" -> b.temperature(0.8).topK(40);
            case "topP" -> b.temperature(0.8).topP(0.95);
            default -> throw new IllegalArgumentException("decoding: greedy, temperature, topK or topP, got " + decoding);
        }
        sampler = new Sampler(b.build(), vocab, 1);
    }

    @Benchmark
    public int sample() {
        float[] row = rows[next];
        next = (next + 1) % DISTINCT;
        return sampler.sample(row);
    }
}
