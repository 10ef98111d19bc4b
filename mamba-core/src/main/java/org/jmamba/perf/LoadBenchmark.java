package org.jmamba.perf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.jmamba.Mamba;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.io.AtomicFiles;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.TokenIds;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.WeightType;
import org.jmamba.train.ModelInit;

/**
 * How long {@link Mamba#load(Path, CpuOptions)} takes and how much heap the loaded model holds:
 * the cost of getting a checkpoint ready to run. Without a model folder it writes a random
 * checkpoint of a {@link BenchShapes named shape} (fp32 safetensors, as the Hugging Face releases
 * are stored; every block holds the same random values) into a temporary folder first, and deletes
 * it afterwards.
 *
 * <p>Heap figures come from the JVM's memory pools after a full collection ({@link System#gc()}):
 * {@code heap_model_bytes} is what the loaded model keeps; {@code heap_peak_bytes} bounds from
 * above what loading needed at its peak (the sum of each heap pool's peak during the load).
 *
 * <p>Each repetition loads the checkpoint three times, with its weights on the heap
 * ({@link WeightMemory#HEAP}: the unprefixed fields, as before), copied off it
 * ({@link WeightMemory#OFF_HEAP}: the {@code off_heap_} fields) and mapped
 * ({@link WeightMemory#MAPPED}: the {@code mapped_} fields) — the last two when this JVM has the
 * Java 22 layer — and {@code runs} lists every load with its time and the heap in use after it:
 * the claim that off-heap weights keep the heap small, as a number.
 */
public final class LoadBenchmark {
    /**
     * @param shape       a {@link BenchShapes} name, used when {@code model} is null
     * @param model       a checkpoint folder to load, or null for a random one of {@code shape}
     * @param dtype       the weight type to load into
     * @param threads     the model's threads
     * @param repetitions timed loads (the median is reported)
     * @param seed        seed of the random checkpoint
     * @param memory      the one weight memory to measure, or null for all that this JVM has (heap,
     *                    off-heap and mapped on Java 22+): a single one lets a checkpoint that does not
     *                    fit the heap be measured off it
     */
    public record Options(String shape, Path model, WeightType dtype, int threads, int repetitions, long seed,
                          WeightMemory memory) {
        /** Every weight memory this JVM has. */
        public Options(String shape, Path model, WeightType dtype, int threads, int repetitions, long seed) {
            this(shape, model, dtype, threads, repetitions, seed, null);
        }

        public Options {
            Objects.requireNonNull(dtype, "dtype");
            if (memory != null && memory.offHeap() && !OffHeapMatrices.available()) {
                throw new IllegalArgumentException("off-heap weights are not available here: " + OffHeapMatrices.unavailableReason());
            }
            if (model == null) {
                BenchShapes.byName(shape);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            if (repetitions < 1) {
                throw new IllegalArgumentException("repetitions must be at least 1, got " + repetitions);
            }
        }
    }

    private LoadBenchmark() {
    }

    /** Runs the benchmark; the result map is ordered and JSON-ready. */
    public static Map<String, Object> run(Options o) {
        Path tmp = null;
        try {
            Path dir = o.model();
            if (dir == null) {
                tmp = Files.createTempDirectory("jmamba-bench-load");
                dir = tmp;
                writeRandom(dir, BenchShapes.byName(o.shape()), o.seed());
            }
            return measure(o, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary checkpoint folder", e);
        } finally {
            if (tmp != null) {
                AtomicFiles.deleteTreeQuietly(tmp);
            }
        }
    }

    /**
     * A random checkpoint of {@code c} whose blocks all hold one block's values: writing it needs
     * the heap of the embedding and one block, not of the whole model (only sizes matter here).
     */
    private static void writeRandom(Path dir, MambaConfig c, long seed) {
        MambaConfig one = new MambaConfig(c.dModel(), 1, c.vocabSize(), c.dState(), c.dConv(), c.dInner(), c.dtRank(),
                c.projBias(), c.convBias(), c.normEps(), c.residualInFp32(), c.tieEmbeddings());
        MambaWeights w = ModelInit.initialize(one, seed);
        MambaWeights all = new MambaWeights(c, w.embedding(), Collections.nCopies(c.nLayer(), w.layer(0)), w.normF(),
                w.untiedHead());
        Checkpoints.save(dir, all, TokenIds.NONE);
    }

    private static Map<String, Object> measure(Options o, Path dir) throws IOException {
        MambaConfig c = ConfigJson.read(dir.resolve(Checkpoints.CONFIG_FILE)).config();
        Path weights = Checkpoints.findWeights(dir);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "load");
        r.put("dtype", o.dtype().label());
        r.put("threads", o.threads());
        r.put("shape", o.model() == null ? o.shape() : dir.toString());
        r.put("parameters", c.parameterCount());
        r.put("checkpoint_bytes", sizeOf(weights));
        CpuOptions options = new CpuOptions(o.threads(), o.dtype());
        boolean offHeap = OffHeapMatrices.available();
        List<WeightMemory> memories = o.memory() != null ? List.of(o.memory())
                : offHeap ? List.of(WeightMemory.values()) : List.of(WeightMemory.HEAP);
        Map<WeightMemory, Series> series = new LinkedHashMap<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        for (WeightMemory memory : memories) {
            series.put(memory, new Series(o.repetitions()));
        }
        for (int rep = 0; rep < o.repetitions(); rep++) {
            for (WeightMemory memory : memories) { // heap, off-heap, mapped, in every repetition
                Series s = series.get(memory);
                loadOnce(dir, options.withWeightMemory(memory), rep, s);
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("repetition", rep);
                run.put("weight_memory", s.actual.label());
                run.put("load_s", CpuBenchmark.round(s.seconds[rep]));
                run.put("heap_after_load_bytes", s.heapAfter[rep]);
                runs.add(run);
            }
        }
        if (series.containsKey(WeightMemory.HEAP)) {
            report(r, "", series.get(WeightMemory.HEAP), c);
        }
        r.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        r.put("off_heap_available", offHeap);
        if (offHeap) {
            for (WeightMemory memory : List.of(WeightMemory.OFF_HEAP, WeightMemory.MAPPED)) {
                Series s = series.get(memory);
                if (s == null) {
                    continue;
                }
                String prefix = memory == WeightMemory.MAPPED ? "mapped_" : "off_heap_";
                report(r, prefix, s, c);
                r.put(prefix + "mapped_bytes", s.mappedBytes);
                r.put(prefix + "native_bytes", s.offHeapBytes - s.mappedBytes);
            }
        } else {
            r.put("off_heap_unavailable_reason", OffHeapMatrices.unavailableReason());
        }
        r.put("runs", runs);
        return r;
    }

    /** The loads of one weight memory. */
    private static final class Series {
        final double[] seconds;
        final long[] heapAfter;
        WeightMemory actual = WeightMemory.HEAP;
        long modelBytes;
        long peakBytes;
        double firstStep;
        long offHeapBytes;
        long mappedBytes;

        Series(int repetitions) {
            seconds = new double[repetitions];
            heapAfter = new long[repetitions];
        }
    }

    /** One timed {@link Mamba#load}, its heap after a collection, and (first time) its first decode step. */
    private static void loadOnce(Path dir, CpuOptions options, int rep, Series s) {
        long before = heapUsedAfterGc();
        resetPeaks();
        long t0 = System.nanoTime();
        try (SequenceModel m = Mamba.load(dir, options)) {
            s.seconds[rep] = (System.nanoTime() - t0) / 1e9;
            s.peakBytes = Math.max(s.peakBytes, peakSum() - before);
            long after = heapUsedAfterGc();
            s.heapAfter[rep] = after;
            s.modelBytes = after - before;
            if (m instanceof CpuMamba cm) {
                s.actual = cm.weightMemory();
                s.offHeapBytes = cm.offHeapBytes();
                s.mappedBytes = cm.mappedBytes();
            }
            if (rep == 0) { // later loads find the kernels already compiled
                try (MambaState st = m.newState(1)) {
                    long s0 = System.nanoTime();
                    m.step(st, new int[] {0});
                    s.firstStep = (System.nanoTime() - s0) / 1e9;
                }
            }
        }
    }

    private static void report(Map<String, Object> r, String prefix, Series s, MambaConfig c) {
        r.put(prefix + "load_s", CpuBenchmark.round(CpuBenchmark.median(s.seconds)));
        r.put(prefix + "load_s_best", CpuBenchmark.round(Arrays.stream(s.seconds).min().orElse(0)));
        r.put(prefix + "first_step_s", CpuBenchmark.round(s.firstStep));
        r.put(prefix + "heap_model_bytes", s.modelBytes);
        r.put(prefix + "heap_bytes_per_parameter", CpuBenchmark.round((double) s.modelBytes / c.parameterCount()));
        r.put(prefix + "heap_peak_bytes", s.peakBytes);
    }

    private static long sizeOf(Path weights) throws IOException {
        if (!weights.getFileName().toString().endsWith(".index.json")) {
            return Files.size(weights);
        }
        long total = 0;
        try (Stream<Path> files = Files.list(weights.getParent())) {
            for (Path p : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".safetensors"))::iterator) {
                total += Files.size(p);
            }
        }
        return total;
    }

    /** Used heap after full collections (repeated until it stops falling, at most a few times). */
    private static long heapUsedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            long u = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (u >= used) {
                return u;
            }
            used = u;
        }
        return used;
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    private static long peakSum() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
