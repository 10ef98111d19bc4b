package org.jmamba.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;
import org.jmamba.kernels.WorkerPool;
import org.jmamba.perf.BandwidthProbe;

/**
 * How close the decode products come to the bandwidth probe when nothing else is in the way: one
 * matrix far larger than the caches (the head's shape, four times over: 201,120 × 768), each thread
 * streaming its half as a decode step does, timed right after a probe run on the same threads, in
 * rounds. Prints the median ratio of the product's rate (bytes of weights per second) to the probe's
 * for each weight type, and the same for a plain sum over a 512 MiB {@code float[]} with 256-bit
 * and with 512-bit vectors (on the machines this project was measured on, AMD with AVX-512, the
 * 256-bit loads stream faster: why the f32 product loads W in 256-bit vectors).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp mamba-bench/target/benchmarks.jar org.jmamba.bench.StreamCeiling [THREADS] [ROUNDS] [WHAT]
 * </pre>
 * WHAT is a comma-separated subset of {@code f32,bf16,int8,sum} (default: all).
 * Defaults: 2 threads, 8 rounds, each a probe run and three passes, after 3 s of passes to let the
 * JIT compile the kernels. Needs about 3 GB of heap ({@code -Xmx4g}).
 */
public final class StreamCeiling {
    private static final int ROWS = 4 * 50_280;
    private static final int COLS = 768;
    private static final int SUM_FLOATS = 128 << 20;
    private static final long WARMUP_NANOS = 3_000_000_000L;
    private static final int PASSES = 3;

    private StreamCeiling() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        List<String> what = List.of((args.length > 2 ? args[2] : "f32,bf16,int8,sum").split(","));
        if (threads < 1 || rounds < 1) {
            throw new IllegalArgumentException("usage: StreamCeiling [THREADS >= 1] [ROUNDS >= 1]");
        }
        try (WorkerPool pool = new WorkerPool(threads, "stream");
             BandwidthProbe probe = new BandwidthProbe(BandwidthProbe.DEFAULT_BYTES, threads)) {
            System.out.printf(Locale.ROOT, "%d threads, %d rounds of %d passes; ratio = rate / probe run just before%n",
                    threads, rounds, PASSES);
            SplittableRandom r = new SplittableRandom(1);
            for (WeightType type : WeightType.values()) {
                if (!what.contains(type.name().toLowerCase(Locale.ROOT))) {
                    continue;
                }
                float[] master = new float[ROWS * COLS];
                for (int i = 0; i < master.length; i++) {
                    master[i] = (float) (r.nextDouble() - 0.5) * 0.04f;
                }
                PackedMatrix w = PackedMatrix.pack(master, ROWS, COLS, type);
                if (type != WeightType.F32) {
                    master = null; // the packed copy is all the product reads
                }
                float[] x = new float[w.cols()];
                java.util.Arrays.fill(x, 0.5f);
                float[] y = new float[w.rows()];
                report(type.name().toLowerCase(Locale.ROOT) + " product", rounds, probe,
                        () -> product(pool, w, x, y), w.bytes());
            }
            if (!what.contains("sum")) {
                return;
            }
            float[] data = new float[SUM_FLOATS];
            for (int i = 0; i < data.length; i++) {
                data[i] = i & 1023;
            }
            report("sum, 512-bit vectors", rounds, probe, () -> sum512(pool, data), 4L * SUM_FLOATS);
            report("sum, 256-bit vectors", rounds, probe, () -> sum256(pool, data), 4L * SUM_FLOATS);
        }
    }

    private static void report(String what, int rounds, BandwidthProbe probe, Runnable pass, long bytes) {
        for (long start = System.nanoTime(); System.nanoTime() - start < WARMUP_NANOS; ) {
            pass.run();
        }
        List<Double> ratios = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            double probeRate = probe.measure(1);
            long t0 = System.nanoTime();
            for (int p = 0; p < PASSES; p++) {
                pass.run();
            }
            double rate = PASSES * bytes / ((System.nanoTime() - t0) / 1e9);
            ratios.add(rate / probeRate);
            rates.add(rate / 1e9);
        }
        Collections.sort(ratios);
        Collections.sort(rates);
        System.out.printf(Locale.ROOT, "%-22s %8.1f GB/s   ratio to probe: median %.3f (min %.3f, max %.3f)%n",
                what, rates.get(rates.size() / 2), ratios.get(ratios.size() / 2), ratios.get(0), ratios.get(ratios.size() - 1));
    }

    /** y = W·x with each thread taking its contiguous share of the rows, as a decode phase does (x, y made once, outside the timing). */
    private static void product(WorkerPool pool, PackedMatrix w, float[] x, float[] y) {
        pool.run((worker, chunk, chunks) -> {
            int n0 = (int) ((long) w.rows() * chunk / chunks);
            int n1 = (int) ((long) w.rows() * (chunk + 1) / chunks);
            w.multiply(x, 0, x.length, y, 0, y.length, null, 0, 1, n0, n1, null);
        }, pool.threads());
    }

    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

    /*
     * The two sums are the same code with a different species, written twice: the Vector API
     * compiles to vector instructions only where the species is a constant.
     */

    /** A plain sum over {@code a}, each thread its half, in 512-bit vectors. */
    private static void sum512(WorkerPool pool, float[] a) {
        double[] parts = new double[pool.threads()]; // written, so the JIT keeps the sums
        pool.run((worker, chunk, chunks) -> {
            int from = (int) ((long) a.length * chunk / chunks);
            int to = (int) ((long) a.length * (chunk + 1) / chunks);
            int lanes = F512.length();
            FloatVector s0 = FloatVector.zero(F512), s1 = s0, s2 = s0, s3 = s0;
            int i = from;
            for (; i + 4 * lanes <= to; i += 4 * lanes) {
                s0 = s0.add(FloatVector.fromArray(F512, a, i));
                s1 = s1.add(FloatVector.fromArray(F512, a, i + lanes));
                s2 = s2.add(FloatVector.fromArray(F512, a, i + 2 * lanes));
                s3 = s3.add(FloatVector.fromArray(F512, a, i + 3 * lanes));
            }
            float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; i < to; i++) {
                s += a[i];
            }
            parts[chunk] = s;
        }, pool.threads());
    }

    /** A plain sum over {@code a}, each thread its half, in 256-bit vectors. */
    private static void sum256(WorkerPool pool, float[] a) {
        double[] parts = new double[pool.threads()];
        pool.run((worker, chunk, chunks) -> {
            int from = (int) ((long) a.length * chunk / chunks);
            int to = (int) ((long) a.length * (chunk + 1) / chunks);
            int lanes = F256.length();
            FloatVector s0 = FloatVector.zero(F256), s1 = s0, s2 = s0, s3 = s0;
            int i = from;
            for (; i + 4 * lanes <= to; i += 4 * lanes) {
                s0 = s0.add(FloatVector.fromArray(F256, a, i));
                s1 = s1.add(FloatVector.fromArray(F256, a, i + lanes));
                s2 = s2.add(FloatVector.fromArray(F256, a, i + 2 * lanes));
                s3 = s3.add(FloatVector.fromArray(F256, a, i + 3 * lanes));
            }
            float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; i < to; i++) {
                s += a[i];
            }
            parts[chunk] = s;
        }, pool.threads());
    }
}
