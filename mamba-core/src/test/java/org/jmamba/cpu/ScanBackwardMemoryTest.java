package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training memory is O(B·L·D), not O(B·L·D·N): the scan's backward recomputes its states chunk by
 * chunk instead of storing them. Measured at L = 16384 with one thread (so every allocation is on
 * the calling thread and {@code getThreadAllocatedBytes} sees all of it; allocated bytes bound the
 * live heap from above).
 */
class ScanBackwardMemoryTest {
    private static final Logger LOG = LoggerFactory.getLogger(ScanBackwardMemoryTest.class);
    private static final int L = 16384;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().threadId());
    }

    /**
     * Runs {@code body} at least 3 times, then until a run in which the JIT finished no compilation
     * (at most 15 runs). Three runs alone were not always enough on a busy 2-core machine: a
     * measured step then still ran partly uncompiled and counted the boxed vectors (N=16 → N=32 grew
     * a training step's allocation by 38 MB in one CI run).
     */
    private static void warmUp(Runnable body) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        for (int i = 0; i < 15; i++) {
            long before = timed ? jit.getTotalCompilationTime() : 0;
            body.run();
            if (i >= 2 && (!timed || jit.getTotalCompilationTime() == before)) {
                return;
            }
        }
    }

    @Test
    void scanBackwardAllocatesFarLessThanTheStates() {
        scanBackward(false);
        if (SelectiveScan.VECTOR_LANES > 0) {
            // Until C2 has compiled it, Vector API code boxes its vectors: warm the SIMD path up first.
            warmUp(() -> runScanBackward(true, 2048, new Random(30)));
            scanBackward(true);
        }
    }

    private static void scanBackward(boolean vector) {
        int B = 1;
        int D = 128;
        int N = 16;
        long[] allocatedAndMs = runScanBackward(vector, L, new Random(31));
        long allocated = allocatedAndMs[0];
        long states = 4L * B * L * D * N;
        LOG.info("scan backward ({}) B={} L={} D={} N={}: allocated {} MB, storing the states would take {} MB "
                + "(ratio {}), {} ms on one thread", vector ? "simd" : "scalar", B, L, D, N, mb(allocated), mb(states),
                String.format("%.3f", (double) allocated / states), allocatedAndMs[1]);
        assertTrue(allocated < states / 8, "scan backward allocated " + allocated + " bytes; states are " + states);
    }

    /** One scan backward at B=1, D=128, N=16 on one thread: {bytes allocated, milliseconds}. */
    private static long[] runScanBackward(boolean vector, int len, Random rnd) {
        int B = 1;
        int D = 128;
        int N = 16;
        int BT = B * len;
        float[] u = GradCheck.gauss(rnd, BT * D, 1);
        float[] delta = GradCheck.gauss(rnd, BT * D, 1);
        float[] z = GradCheck.gauss(rnd, BT * D, 1);
        float[] dout = GradCheck.gauss(rnd, BT * D, 1);
        float[] Bm = GradCheck.gauss(rnd, BT * N, 1);
        float[] Cm = GradCheck.gauss(rnd, BT * N, 1);
        float[] A = new float[D * N];
        for (int i = 0; i < A.length; i++) {
            A[i] = -(1 + i % N);
        }
        float[] bias = GradCheck.gauss(rnd, D, 0.5);
        float[] Dskip = GradCheck.gauss(rnd, D, 1);
        float[] du = new float[BT * D];
        float[] dDelta = new float[BT * D];
        float[] dz = new float[BT * D];
        float[] dB = new float[BT * N];
        float[] dC = new float[BT * N];
        float[] dA = new float[D * N];
        float[] dD = new float[D];
        float[] dBias = new float[D];
        try (Parallel par = new Parallel(1)) {
            long before = allocatedBytes();
            long t0 = System.nanoTime();
            SelectiveScan.backward(vector, par, du, dDelta, dBias, dA, dB, 0, dC, 0, N, dD, dz, 0, D, dout,
                    u, delta, bias, A, Bm, 0, Cm, 0, N, Dskip, z, 0, D, B, len, D, N);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long allocated = allocatedBytes() - before;
            for (float v : dA) {
                assertTrue(Float.isFinite(v));
            }
            return new long[] {allocated, ms};
        }
    }

    @Test
    void wholeTrainingStepGrowsWithDNotWithN() {
        int D = 64;
        long a16 = trainingStep(16);
        long a32 = trainingStep(32);
        long states32 = 4L * L * D * 32;
        long extraStates = 4L * L * D * (32 - 16);
        LOG.info("whole lossAndGradients (1 layer, dModel 32, dInner {}, L {}): allocated {} MB at N=16, {} MB at N=32; "
                + "growth {} MB where stored states would grow {} MB", D, L, mb(a16), mb(a32), mb(a32 - a16), mb(extraStates));
        assertTrue(a32 - a16 < extraStates / 4, "N=16 -> N=32 grew allocation by " + (a32 - a16));
        assertTrue(a32 < states32, "N=32 step allocated " + a32 + " bytes, the states alone would be " + states32);
    }

    /**
     * Bytes allocated by one lossAndGradients of a 1-layer model at [1, L] (the least of two runs):
     * every array of the step, an upper bound on how much the live heap grows during it.
     */
    private static long trainingStep(int N) {
        MambaConfig c = new MambaConfig(32, 1, 64, N, 4, 64, 2, false, true, 1e-5, true, true);
        MambaWeights w = TestModels.randomWeights(c, new Random(32));
        int[][] ids = TestModels.randomTokens(new Random(33), 1, L, c.vocabSize());
        int[][] targets = CpuMambaGradientTest.shiftedTargets(ids);
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(1))) {
            // Warm up on a short sequence: until the JIT has compiled the SIMD kernels, the Vector
            // API boxes its vectors on the heap, which would be counted as allocation.
            int[][] shortIds = TestModels.randomTokens(new Random(34), 1, 2048, c.vocabSize());
            warmUp(() -> m.lossAndGradients(shortIds, CpuMambaGradientTest.shiftedTargets(shortIds), MambaWeights.zeros(c)));
            long least = Long.MAX_VALUE;
            for (int run = 0; run < 2; run++) {
                MambaWeights grads = MambaWeights.zeros(c);
                long before = allocatedBytes();
                long t0 = System.nanoTime();
                double loss = m.lossAndGradients(ids, targets, grads);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                long allocated = allocatedBytes() - before;
                LOG.info("N={} run {}: loss {}, allocated {} MB, {} ms", N, run, String.format("%.4f", loss), mb(allocated), ms);
                assertTrue(Double.isFinite(loss));
                least = Math.min(least, allocated);
            }
            return least;
        }
    }

    private static String mb(long bytes) {
        return String.format("%.1f", bytes / 1048576.0);
    }
}
