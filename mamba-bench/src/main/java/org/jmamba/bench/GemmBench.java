package org.jmamba.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jmamba.kernels.Kernels;
import org.jmamba.kernels.WorkerPool;
import org.jmamba.nd4j.Nd4jGemm;
import org.jmamba.nd4j.Nd4jSupport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * The large matrix products of prefill and training: pure Java ({@link Kernels} on a
 * {@link WorkerPool}) against ND4J's BLAS ({@link Nd4jGemm}), both on {@link #threads} threads.
 * Sample-time mode: every product is timed, and the median ({@code p0.50}) is the figure to read on a
 * shared, noisy machine (the mean is pulled up by other processes' bursts). GFLOP/s = {@code 2·M·N·K / time}.
 *
 * <p>{@code product} is {@code name.KIND.MxNxK}: KIND is NT ({@code C = A·Bᵀ}, a layer's forward),
 * NN ({@code dX = dY·W}) or TN ({@code dW = dYᵀ·X}). Prefill shapes are mamba-130m's
 * (d_model 768, d_inner 1536, x_proj out 80, vocab 50280) at 512 and 2048 tokens; training shapes
 * are a small model's (d_model 256, d_inner 512, dt_rank 16, N 16, vocab 50280) on a batch of
 * 8 × 256 = 2048 tokens, forward and both backward products.
 *
 * <p>{@code impl}: {@code java} = the pure-Java kernels split over output rows;
 * {@code nd4j} = {@link Nd4jGemm}, copies in and out included (what the model pays);
 * {@code nd4j-nocopy} = {@code Nd4j.gemm} on INDArrays made once (what an ND4J user whose data is
 * already in INDArrays pays). ND4J is not in benchmarks.jar: see docs/nd4j.md for the class path.
 * <pre>
 * OMP_NUM_THREADS=2 java --add-modules jdk.incubator.vector -cp "benchmarks.jar:$ND4J_CP" \
 *     org.openjdk.jmh.Main GemmBench -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dorg.bytedeco.javacpp.maxbytes=3g"})
public class GemmBench {

    @Param({
        "in_proj.NT.512x3072x768", "x_proj.NT.512x80x1536", "out_proj.NT.512x768x1536", "head.NT.512x50280x768",
        "in_proj.NT.2048x3072x768", "x_proj.NT.2048x80x1536", "out_proj.NT.2048x768x1536", "head.NT.2048x50280x768",
        "train_in_proj.NT.2048x1024x256", "train_in_proj.NN.2048x256x1024", "train_in_proj.TN.1024x256x2048",
        "train_x_proj.NT.2048x48x512",
        "train_out_proj.NT.2048x256x512", "train_out_proj.NN.2048x512x256", "train_out_proj.TN.256x512x2048",
        "train_head.NT.2048x50280x256", "train_head.NN.2048x256x50280", "train_head.TN.50280x256x2048",
    })
    public String product;

    @Param({"java", "nd4j", "nd4j-nocopy"})
    public String impl;

    @Param({"2"})
    public int threads;

    private String kind;
    private int M;
    private int N;
    private int K;
    private float[] a;
    private float[] b;
    private float[] c;
    private WorkerPool pool;
    private Nd4jGemm nd4j;
    private INDArray nA;
    private INDArray nB;
    private INDArray nC;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = product.split("\\.");
        kind = parts[1];
        String[] mnk = parts[2].split("x");
        M = Integer.parseInt(mnk[0]);
        N = Integer.parseInt(mnk[1]);
        K = Integer.parseInt(mnk[2]);
        Random r = new Random(42);
        // Stored shapes: A [M,K] (NT, NN) or [K,M] (TN); B [N,K] (NT) or [K,N] (NN, TN).
        a = random(r, (long) M * K);
        b = random(r, (long) N * K);
        c = new float[Math.multiplyExact(M, N)];
        switch (impl) {
            case "java" -> pool = new WorkerPool(threads, "gemm-bench");
            case "nd4j" -> nd4j = Nd4jGemm.create(threads, 0);
            case "nd4j-nocopy" -> {
                Nd4jSupport.requireAvailable();
                Nd4jGemm.create(threads, 0).close(); // sets ND4J's thread counts
                nA = Nd4j.create(a, kind.equals("TN") ? new long[] {K, M} : new long[] {M, K}, 'c');
                nB = Nd4j.create(b, kind.equals("NT") ? new long[] {N, K} : new long[] {K, N}, 'c');
                nC = Nd4j.create(DataType.FLOAT, new long[] {M, N}, 'c');
            }
            default -> throw new IllegalArgumentException("impl must be java, nd4j or nd4j-nocopy, got " + impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) {
            pool.close();
        }
        if (nd4j != null) {
            nd4j.close();
        }
    }

    @Benchmark
    public float gemm() {
        switch (impl) {
            case "java" -> java();
            case "nd4j" -> nd4j();
            default -> {
                Nd4j.gemm(nA, nB, nC, kind.equals("TN"), kind.equals("NT"), 1.0, 0.0);
                return nC.getFloat(0L);
            }
        }
        return c[0];
    }

    /** Split over output rows, as the model's Linear splits a prompt or a training batch. */
    private void java() {
        int m = M;
        int n = N;
        int k = K;
        float[] A = a;
        float[] B = b;
        float[] C = c;
        switch (kind) {
            case "NT" -> pool.parallelFor(m, threads, (m0, m1) -> Kernels.gemmNT(A, 0, k, B, 0, k, C, 0, n, null, false, m0, m1, 0, n, k));
            case "NN" -> pool.parallelFor(m, threads, (m0, m1) -> Kernels.gemmNN(A, 0, k, B, 0, n, C, 0, n, false, m0, m1, 0, n, k));
            case "TN" -> pool.parallelFor(m, threads, (m0, m1) -> Kernels.gemmTN(A, 0, m, B, 0, n, C, 0, n, false, m0, m1, 0, n, k));
            default -> throw new IllegalStateException(kind);
        }
    }

    private void nd4j() {
        switch (kind) {
            case "NT" -> nd4j.gemmNT(a, 0, K, b, 0, K, c, 0, N, null, false, M, N, K);
            case "NN" -> nd4j.gemmNN(a, 0, K, b, 0, N, c, 0, N, false, M, N, K);
            case "TN" -> nd4j.gemmTN(a, 0, M, b, 0, N, c, 0, N, false, M, N, K);
            default -> throw new IllegalStateException(kind);
        }
    }

    private static float[] random(Random r, long n) {
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * 0.1f;
        }
        return x;
    }
}
