package org.jmamba.perf;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.VectorSupport;
import org.jmamba.kernels.WeightType;
import org.jmamba.train.AdamW;
import org.jmamba.train.AdamWConfig;
import org.jmamba.train.ModelInit;

/**
 * Throughput of the CPU model on random weights: decode (recurrent steps), prefill (a prompt in
 * parallel mode), or training (loss, gradients and an AdamW step), in tokens per second. Decode is
 * also reported against the memory-bandwidth floor measured in the same process
 * ({@link BandwidthProbe}): {@code tokens/s × bytes of weights read per token / bandwidth}.
 *
 * <p>Used by the CLI's {@code bench} command and the JMH benchmarks' documentation; every number is
 * a median over repetitions after warm-up runs.
 */
public final class CpuBenchmark {
    /** What to measure. */
    public enum Mode {
        DECODE, PREFILL, TRAIN;

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown mode '" + s + "': expected decode, prefill or train");
        }
    }

    /**
     * @param shape       a {@link BenchShapes} name
     * @param mode        decode, prefill or train
     * @param dtype       weight storage for inference (training is always f32)
     * @param threads     the model's threads (and the bandwidth probe's)
     * @param batch       sequences per step
     * @param len         prompt length (prefill) or sequence length (train); decode ignores it
     * @param tokens      decode steps per repetition
     * @param repetitions timed repetitions (the median is reported)
     * @param probeBytes  size of the bandwidth probe's buffer (decode; 0 skips the probe)
     * @param seed        seed of the random weights and tokens
     * @param memory      where the decode/prefill model keeps its large matrices: {@link WeightMemory#HEAP}
     *                    (the random weights packed in memory), or {@link WeightMemory#OFF_HEAP} /
     *                    {@link WeightMemory#MAPPED} (the weights written to a temporary safetensors
     *                    checkpoint stored as bf16 for {@code --dtype bf16}, else f32, and loaded from it
     *                    as {@link org.jmamba.Mamba#load} does: copied or mapped for f32 and bf16,
     *                    converted into native memory for int8)
     * @param phases      decode only: after the timed repetitions, run as many steps again under a
     *                    flight recording of the decoder's phase events and report where a step's
     *                    time goes ({@code phases} in the result)
     */
    public record Options(String shape, Mode mode, WeightType dtype, int threads, int batch, int len, int tokens,
                          int repetitions, long probeBytes, long seed, WeightMemory memory, boolean phases) {
        public Options {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(memory, "memory");
            BenchShapes.byName(shape);
            positive("threads", threads);
            positive("batch", batch);
            positive("len", len);
            positive("tokens", tokens);
            positive("repetitions", repetitions);
            if (probeBytes != 0 && (probeBytes < 1 << 20 || probeBytes > 8L << 30)) {
                throw new IllegalArgumentException("probe buffer must be 0 (no probe) or 1 MiB to 8 GiB, got " + probeBytes + " bytes");
            }
            if (mode == Mode.TRAIN && dtype != WeightType.F32) {
                throw new IllegalArgumentException("training uses f32 weights; --dtype " + dtype.label() + " applies to decode and prefill");
            }
            if (mode == Mode.TRAIN && memory.offHeap()) {
                throw new IllegalArgumentException("training updates f32 weights on the heap; off-heap weights apply to decode and prefill");
            }
            if (phases && mode != Mode.DECODE) {
                throw new IllegalArgumentException("the phase profile is of decode steps; it does not apply to " + mode.name().toLowerCase(Locale.ROOT));
            }
            if (memory.offHeap() && !OffHeapMatrices.available()) {
                throw new IllegalArgumentException("off-heap weights are not available here: " + OffHeapMatrices.unavailableReason());
            }
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be at least 1, got " + v);
            }
        }
    }

    /** Warm-up before timing: at least this long (and at least one run or {@link #DECODE_WARMUP_STEPS} decode steps). */
    private static final long WARMUP_NANOS = 3_000_000_000L;
    private static final int DECODE_WARMUP_STEPS = 8;
    /** ... and then until the JIT has finished no compilation for this long ... */
    private static final long JIT_QUIET_NANOS = 1_000_000_000L;
    /** ... but never longer than this in all (a JIT that never settles still gets timed). */
    private static final long WARMUP_MAX_NANOS = 20_000_000_000L;
    /** Steps run under the phase recording before the ones it reports (the JIT recompiles the decoder). */
    private static final long PHASE_WARMUP_NANOS = 2_000_000_000L;

    private CpuBenchmark() {
    }

    /** Runs the benchmark; the result map is ordered and JSON-ready. */
    public static Map<String, Object> run(Options o) {
        MambaConfig c = BenchShapes.byName(o.shape());
        MambaWeights w = ModelInit.initialize(c, o.seed());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", o.mode().name().toLowerCase(Locale.ROOT));
        r.put("dtype", o.dtype().label());
        r.put("threads", o.threads());
        r.put("batch", o.batch());
        if (o.mode() != Mode.DECODE) {
            r.put("len", o.len());
        }
        r.put("shape", o.shape());
        r.put("simd", VectorSupport.describe());
        r.put("weight_memory", o.memory().label());
        SplittableRandom rnd = new SplittableRandom(o.seed() + 1);
        CpuOptions options = new CpuOptions(o.threads(), o.dtype());
        if (o.memory() == WeightMemory.HEAP) {
            try (CpuMamba m = CpuMamba.create(w, options)) {
                measure(m, o, rnd, r);
            }
            return r;
        }
        try (BenchCheckpoint checkpoint = BenchCheckpoint.write(w, o.dtype())) {
            w = null; // the model reads the file; the random master is garbage from here
            try (CpuMamba m = checkpoint.load(options.withWeightMemory(o.memory()))) {
                r.put("mapped_bytes", m.mappedBytes());
                r.put("off_heap_bytes", m.offHeapBytes());
                measure(m, o, rnd, r);
            }
            return r;
        }
    }

    private static void measure(CpuMamba m, Options o, SplittableRandom rnd, Map<String, Object> r) {
        switch (o.mode()) {
            case DECODE -> decode(m, o, rnd, r);
            case PREFILL -> prefill(m, o, rnd, r);
            case TRAIN -> train(m, o, rnd, r);
            default -> throw new IllegalStateException();
        }
    }

    private static void decode(CpuMamba m, Options o, SplittableRandom rnd, Map<String, Object> r) {
        MambaConfig c = m.config();
        int B = o.batch();
        long bytes = m.inferenceWeights().decodeBytesPerToken();
        double[] tps = new double[o.repetitions()];
        double[] bw = new double[o.repetitions()];
        double[] fraction = new double[o.repetitions()];
        Map<String, Object> phases = null;
        // The probe runs right before each timed segment, so every decode figure has a bandwidth
        // measured within the same second: on a shared machine bandwidth drifts minute to minute.
        try (MambaState s = m.newState(B);
             BandwidthProbe probe = o.probeBytes() > 0 ? new BandwidthProbe(o.probeBytes(), o.threads()) : null) {
            float[][] logits = new float[B][c.vocabSize()];
            int[] tok = new int[B];
            Runnable step = () -> {
                next(tok, rnd, c);
                m.step(s, tok, logits);
            };
            if (probe != null) {
                probe.measure(1); // its loop compiled now, inside the warm-up, not during a timed repetition
            }
            WarmUp warm = warmUp(() -> {
                long t0 = System.nanoTime();
                step.run();
                return (System.nanoTime() - t0) / 1e9;
            }, WARMUP_NANOS, DECODE_WARMUP_STEPS);
            r.put("warmup_s", round(warm.seconds()));
            r.put("first_step_s", roundMicros(warm.firstSeconds()));
            collectWarmUpGarbage();
            CpuShare share = new CpuShare();
            for (int rep = 0; rep < tps.length; rep++) {
                if (probe != null) {
                    bw[rep] = probe.measure(2);
                }
                long t0 = System.nanoTime();
                repeat(step, o.tokens());
                tps[rep] = (double) B * o.tokens() / ((System.nanoTime() - t0) / 1e9);
                // A step reads every weight once for the whole batch: the floor is in steps per second.
                fraction[rep] = probe != null ? tps[rep] / (bw[rep] / bytes * B) : 0;
            }
            r.put("cpu_share", share.of(o.threads()));
            r.put("state_bytes_per_sequence", s.sizeInBytes() / B);
            if (o.phases()) {
                int steps = o.tokens() * o.repetitions();
                phases = DecodePhaseProfile.record(() -> warmUp(() -> {
                    step.run();
                    return 0;
                }, PHASE_WARMUP_NANOS, DECODE_WARMUP_STEPS), () -> repeat(step, steps));
            }
        }
        double median = median(tps);
        r.put("tokens_per_s", round(median));
        r.put("tokens_per_s_best", round(Arrays.stream(tps).max().orElse(0)));
        r.put("ms_per_step", round(1000.0 * B / median));
        r.put("weight_bytes_per_step", bytes);
        if (o.probeBytes() > 0) {
            double medianBw = median(bw);
            r.put("bandwidth_gb_s", round(medianBw / 1e9));
            r.put("floor_tokens_per_s", round(medianBw / bytes * B));
            // the median of the per-segment fractions: each pairs a decode segment with the probe
            // run just before it
            r.put("fraction_of_floor", round(median(fraction)));
        }
        // Every repetition on its own, each with the probe run just before it, so that a script can
        // tell the spread within a process from the spread between processes (docs/benchmarks.md,
        // "From one process to the next").
        List<Map<String, Object>> reps = new ArrayList<>();
        for (int rep = 0; rep < tps.length; rep++) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("tokens_per_s", round(tps[rep]));
            if (o.probeBytes() > 0) {
                one.put("bandwidth_gb_s", round(bw[rep] / 1e9));
                one.put("fraction_of_floor", round(fraction[rep]));
            }
            reps.add(one);
        }
        r.put("repetitions", reps);
        if (phases != null) {
            r.put("phases", phases);
        }
    }

    private static void prefill(CpuMamba m, Options o, SplittableRandom rnd, Map<String, Object> r) {
        MambaConfig c = m.config();
        int B = o.batch();
        double median = timeRepetitions(o, r, "first_prompt_s", () -> {
            int[][] tokens = randomTokens(rnd, B, o.len(), c.vocabSize());
            try (MambaState s = m.newState(B)) {
                long t0 = System.nanoTime();
                m.prefill(s, tokens);
                return (System.nanoTime() - t0) / 1e9;
            }
        });
        r.put("ms_per_prompt", round(1000.0 * B * o.len() / median));
        double flops = 2.0 * c.parameterCount() - 2.0 * c.vocabSize() * c.dModel(); // per token, head excluded
        r.put("gflops_matmul", round(flops * median / 1e9));
    }

    private static void train(CpuMamba m, Options o, SplittableRandom rnd, Map<String, Object> r) {
        MambaConfig c = m.config();
        int B = o.batch();
        MambaWeights grads = MambaWeights.zeros(c);
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), m.weights());
        double median = timeRepetitions(o, r, "first_step_s", () -> {
            int[][] in = randomTokens(rnd, B, o.len(), c.vocabSize());
            int[][] tgt = new int[B][o.len()];
            for (int b = 0; b < B; b++) {
                System.arraycopy(in[b], 1, tgt[b], 0, o.len() - 1);
                tgt[b][o.len() - 1] = -1;
            }
            long t0 = System.nanoTime();
            grads.zero();
            double loss = m.lossAndGradients(in, tgt, grads);
            opt.step(m.weights(), grads, 1e-4);
            m.weightsUpdated();
            double sec = (System.nanoTime() - t0) / 1e9;
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("training step produced loss " + loss);
            }
            return sec;
        });
        r.put("ms_per_step", round(1000.0 * B * o.len() / median));
    }

    /** One repetition of a prefill or training benchmark: prepares its input, returns the seconds it timed. */
    @FunctionalInterface
    private interface Repetition {
        double seconds();
    }

    /**
     * Warms {@code rep} up untimed ({@link #warmUp}: at least once and {@link #WARMUP_NANOS}, then until
     * the JIT is quiet), runs it {@code o.repetitions()} times
     * timed; records {@code warmup_s}, the warm-up's first repetition as {@code firstField},
     * {@code cpu_share}, {@code tokens_per_s} (the median) and
     * {@code tokens_per_s_best} in {@code r} (each repetition processes batch × len tokens) and
     * returns the median tokens/s.
     */
    private static double timeRepetitions(Options o, Map<String, Object> r, String firstField, Repetition rep) {
        WarmUp warm = warmUp(rep, WARMUP_NANOS, 1);
        r.put("warmup_s", round(warm.seconds()));
        r.put(firstField, roundMicros(warm.firstSeconds()));
        collectWarmUpGarbage();
        CpuShare share = new CpuShare();
        double[] tps = new double[o.repetitions()];
        for (int i = 0; i < tps.length; i++) {
            tps[i] = (double) o.batch() * o.len() / rep.seconds();
        }
        r.put("cpu_share", share.of(o.threads()));
        double median = median(tps);
        r.put("tokens_per_s", round(median));
        r.put("tokens_per_s_best", round(Arrays.stream(tps).max().orElse(0)));
        return median;
    }

    /**
     * How much of {@code threads} cores this process got while timing: its CPU time over wall time
     * times threads. Well under 1 means other processes had the cores (the figures then understate
     * what the machine can do); spinning while waiting counts as CPU time, so this is an upper bound
     * on useful work.
     */
    private static final class CpuShare {
        private final long cpu0 = processCpuNanos();
        private final long wall0 = System.nanoTime();

        double of(int threads) {
            long cpu = processCpuNanos() - cpu0;
            long wall = System.nanoTime() - wall0;
            return cpu < 0 ? -1 : round((double) cpu / ((double) wall * threads));
        }

        private static long processCpuNanos() {
            return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                    instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
        }
    }

    /**
     * How long a warm-up took, and what its first run timed: the first call in this JVM, before the
     * JIT has compiled the kernels (docs/benchmarks.md, "The first call").
     */
    private record WarmUp(double seconds, double firstSeconds) {
    }

    /**
     * Runs {@code step} at least {@code minRuns} times and for at least {@code nanos}, then on until
     * the JIT is quiet ({@link JitWatch}). The JIT compiles the kernels during the first runs (until
     * then the Vector API runs in its slow interpreted form).
     */
    private static WarmUp warmUp(Repetition step, long nanos, int minRuns) {
        long t0 = System.nanoTime();
        JitWatch jit = new JitWatch();
        double first = 0;
        for (int i = 0; i < minRuns || !jit.warm(t0, nanos); i++) {
            double sec = step.seconds();
            if (i == 0) {
                first = sec;
            }
        }
        return new WarmUp((System.nanoTime() - t0) / 1e9, first);
    }

    /**
     * Whether a warm-up has run long enough: at least its minimum, and the JIT has finished no
     * compilation for {@link #JIT_QUIET_NANOS} (or {@link #WARMUP_MAX_NANOS} have passed).
     *
     * <p>A fixed 3 s was not enough on the 2-core machine: an int8 decode was still getting its
     * decoder and scan kernels compiled by C2 at the end of it (-XX:+PrintCompilation), the
     * compiler threads taking the cores from the decode, and the first timed repetition then ran at
     * a fifth of the speed of the others (66–73 against 250–360 tokens/s, in 6 of 7 processes).
     */
    private static final class JitWatch {
        private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        private final boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        private long compiledMillis = -1;
        private long quietSince;

        boolean warm(long t0, long minNanos) {
            long now = System.nanoTime();
            if (now - t0 >= WARMUP_MAX_NANOS) {
                return true;
            }
            if (timed) {
                long ms = jit.getTotalCompilationTime();
                if (ms != compiledMillis) {
                    compiledMillis = ms;
                    quietSince = now;
                }
            }
            return now - t0 >= minNanos && (!timed || now - quietSince >= JIT_QUIET_NANOS);
        }
    }

    /**
     * A full collection between the warm-up and the timed repetitions: building the model and the
     * warm-up (before the JIT has compiled the kernels, the Vector API's operations allocate) leave
     * the young generation full of garbage, whose collection would otherwise fall into a timed
     * repetition when the decode itself allocates nothing.
     */
    private static void collectWarmUpGarbage() {
        System.gc();
    }

    private static void repeat(Runnable step, int times) {
        for (int i = 0; i < times; i++) {
            step.run();
        }
    }

    private static void next(int[] tok, SplittableRandom rnd, MambaConfig c) {
        for (int b = 0; b < tok.length; b++) {
            tok[b] = rnd.nextInt(c.vocabSize());
        }
    }

    static int[][] randomTokens(SplittableRandom rnd, int B, int L, int V) {
        int[][] t = new int[B][L];
        for (int[] row : t) {
            for (int i = 0; i < L; i++) {
                row[i] = rnd.nextInt(V);
            }
        }
        return t;
    }

    /** The median of {@code v} (the mean of the middle two for an even count); {@code v} is not changed. */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    /** Seconds to the microsecond: a warm step of a small model takes less than a millisecond. */
    private static double roundMicros(double seconds) {
        return Math.round(seconds * 1e6) / 1e6;
    }
}
