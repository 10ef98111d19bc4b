package org.jmamba.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.WeightType;
import org.jmamba.perf.BandwidthProbe;
import org.jmamba.perf.BenchCheckpoint;
import org.jmamba.perf.BenchShapes;
import org.jmamba.perf.CpuBenchmark;
import org.jmamba.train.ModelInit;

/**
 * Decode speed of one checkpoint loaded in several ways in one process — weights on the heap,
 * copied into native memory ({@link WeightMemory#OFF_HEAP}), memory-mapped
 * ({@link WeightMemory#MAPPED}) — in rotating order, each timed segment right after a bandwidth
 * probe. Separate processes on a shared machine differ by more than the effect measured here; one
 * process and rotation leave the ratio. Compare two at a time ({@code --memories heap,off-heap},
 * the default, or {@code heap,mapped}): with native and mapped models in one process the segment
 * kernels see two kinds of segment and the JIT compiles them for both, which slows them (measured:
 * bf16 native memory at 0.79 of the heap beside a mapped model, equal to it without).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp mamba-bench/target/benchmarks.jar org.jmamba.bench.WeightMemoryDecode \
 *     [--shape 130m] [--dtype f32] [--threads 1] [--rounds 8] [--tokens 32] [--memories heap,off-heap] [--checkpoint DIR]
 * </pre>
 *
 * Without {@code --checkpoint} a random checkpoint of the shape is written to a temporary folder
 * (stored as bf16 for {@code --dtype bf16}, else f32) and deleted afterwards; its pages are then
 * fresh in the page cache. With {@code --checkpoint} the folder's {@code config.json} and
 * {@code model.safetensors} are used as they are, e.g. after the page cache was dropped, as a
 * released checkpoint read from disk is. Prints one line per segment and a summary table.
 */
public final class WeightMemoryDecode {
    private static final long WARMUP_NANOS = 3_000_000_000L;

    private WeightMemoryDecode() {
    }

    public static void main(String[] args) {
        String shape = "130m";
        WeightType dtype = WeightType.F32;
        int threads = 1;
        int rounds = 8;
        int tokens = 32;
        Path checkpoint = null;
        List<WeightMemory> memories = List.of(WeightMemory.HEAP, WeightMemory.OFF_HEAP);
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--shape" -> shape = v;
                case "--dtype" -> dtype = WeightType.parse(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--tokens" -> tokens = Integer.parseInt(v);
                case "--checkpoint" -> checkpoint = Path.of(v);
                case "--memories" -> memories = Arrays.stream(v.split(",")).map(WeightMemory::parse).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!OffHeapMatrices.available()) {
            throw new IllegalStateException("off-heap weights unavailable: " + OffHeapMatrices.unavailableReason());
        }
        try (BenchCheckpoint source = checkpoint != null ? BenchCheckpoint.existing(checkpoint)
                : BenchCheckpoint.write(ModelInit.initialize(BenchShapes.byName(shape), 1), dtype)) {
            run(source, dtype, threads, rounds, tokens, memories.toArray(WeightMemory[]::new));
        }
    }

    private static void run(BenchCheckpoint source, WeightType dtype, int threads, int rounds, int tokens,
                            WeightMemory[] memories) {
        MambaConfig c = source.config();
        List<CpuMamba> models = new ArrayList<>();
        List<MambaState> states = new ArrayList<>();
        try (BandwidthProbe probe = new BandwidthProbe(BandwidthProbe.DEFAULT_BYTES, threads)) {
            for (WeightMemory memory : memories) {
                CpuMamba m = source.load(new CpuOptions(threads, dtype).withWeightMemory(memory));
                models.add(m);
                states.add(m.newState(1));
            }
            long bytes = models.get(0).inferenceWeights().decodeBytesPerToken();
            SplittableRandom rnd = new SplittableRandom(2);
            int[] tok = new int[1];
            float[][] logits = new float[1][c.vocabSize()];
            for (int i = 0; i < memories.length; i++) { // warm-up: each model's kernels compiled
                long w0 = System.nanoTime();
                while (System.nanoTime() - w0 < WARMUP_NANOS) {
                    tok[0] = rnd.nextInt(c.vocabSize());
                    models.get(i).step(states.get(i), tok, logits);
                }
            }
            double[][] tps = new double[memories.length][rounds];
            double[][] fraction = new double[memories.length][rounds];
            System.out.printf(Locale.ROOT, "%s %s, %d threads, %d tokens per segment, %d rounds, %,d weight bytes per token%n",
                    source.dir(), dtype.label(), threads, tokens, rounds, bytes);
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < memories.length; j++) {
                    int i = (r + j) % memories.length; // rotating order: no memory always first
                    double bw = probe.measure(2);
                    long t0 = System.nanoTime();
                    for (int k = 0; k < tokens; k++) {
                        tok[0] = rnd.nextInt(c.vocabSize());
                        models.get(i).step(states.get(i), tok, logits);
                    }
                    tps[i][r] = tokens / ((System.nanoTime() - t0) / 1e9);
                    fraction[i][r] = tps[i][r] / (bw / bytes);
                    System.out.printf(Locale.ROOT, "round %d %-8s %7.1f tokens/s  probe %5.1f GB/s  fraction %.3f%n",
                            r, memories[i].label(), tps[i][r], bw / 1e9, fraction[i][r]);
                }
            }
            System.out.println("weight memory | tokens/s (median) | fraction of floor (median) | ratio to the first (median of rounds)");
            for (int i = 0; i < memories.length; i++) {
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratio[r] = tps[i][r] / tps[0][r];
                }
                System.out.printf(Locale.ROOT, "%-13s | %17.1f | %26.3f | %.3f%n", memories[i].label(), CpuBenchmark.median(tps[i]),
                        CpuBenchmark.median(fraction[i]), CpuBenchmark.median(ratio));
            }
        } finally {
            states.forEach(MambaState::close);
            models.forEach(CpuMamba::close);
        }
    }
}
