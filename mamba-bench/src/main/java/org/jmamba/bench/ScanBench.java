package org.jmamba.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jmamba.kernels.Kernels;
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
 * The selective scan in recurrent mode over {@code len} tokens, one mamba-130m layer (d_inner 1536,
 * N 16), one thread: each token advances the fixed-size state ({@code d_inner x N} floats, here
 * 96 KiB per layer, 2.25 MiB for 24 layers with the conv windows — whatever the length). The score
 * is the time of the whole sequence; divided by {@code len} it is the time per token, which must
 * not grow with {@code len} (linear time, constant memory).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
public class ScanBench {
    @Param({"1024", "4096", "16384", "65536", "262144", "1048576"})
    public int len;

    private static final int D = BenchShapes.MAMBA_130M.dInner();
    private static final int N = BenchShapes.MAMBA_130M.dState();
    /** Distinct random inputs cycled through (the inputs of a token do not matter for timing). */
    private static final int DISTINCT = 64;

    private float[] u;
    private float[] delta;
    private float[] bc;
    private float[] z;
    private float[] a;
    private float[] bias;
    private float[] dSkip;
    private float[] state;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(5);
        u = gauss(r, DISTINCT * D);
        delta = gauss(r, DISTINCT * D);
        z = gauss(r, DISTINCT * D);
        bc = gauss(r, DISTINCT * 2 * N);
        a = new float[D * N];
        for (int d = 0; d < D; d++) {
            for (int n = 0; n < N; n++) {
                a[d * N + n] = -(n + 1);
            }
        }
        bias = gauss(r, D);
        dSkip = gauss(r, D);
        state = new float[D * N];
        out = new float[DISTINCT * D];
    }

    private static float[] gauss(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    @Benchmark
    public float scan() {
        java.util.Arrays.fill(state, 0f);
        for (int t = 0; t < len; t++) {
            int i = t % DISTINCT;
            // u, Δ, z and out of token t are row i of their [DISTINCT, D] arrays.
            Kernels.scanStep(out, i * D, u, delta, bias, a, bc, i * 2 * N, bc, i * 2 * N + N, dSkip,
                    z, i * D, state, 0, D, N, 0, D);
        }
        return out[0] + state[0];
    }
}
