package org.jmamba.cpu;

import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.kernels.Kernels;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WorkerPool;

/**
 * The recurrent step (one token per sequence) as the decode loop runs it: the math of
 * {@link MambaBlock#step}, which stays the readable reference it is tested against, arranged so that
 * a step allocates nothing and hands work to the thread pool only four times per layer.
 *
 * <p>Decoding reads every weight once per token, so its speed is set by memory bandwidth. Each
 * phase below cuts the rows of one weight matrix into one contiguous chunk per thread of the pool
 * (each chunk of W is streamed from memory once, whatever the batch), and work that needs only a
 * channel's own values is fused into the phase that produces them. One chunk per thread, not the
 * pool's usual several: cut finer, each phase pays for every extra chunk (new memory streams, one
 * more hand-over at its end), and measured in one process against four chunks per thread, one
 * decoded 17% more bf16 tokens per second and 11% more int8 ones (docs/benchmark-history.md).
 * A chunk is still claimed like any other, so a worker slow to wake leaves its chunk to the
 * caller.
 *
 * <p>The cuts are not equal: each kind of phase has a {@link SpeedSplit} that cuts its range in
 * proportion to the speed each thread showed on it (chunk 0 is always the caller's). On the
 * 2-core machines measured, one thread often ran at half the other's speed for seconds, and with
 * equal cuts the fast one waited; alternated every 16 steps in one process against equal cuts,
 * the measured cuts of the layer phases decoded 0.99–1.21× as fast (medians of 60 pairs in each
 * of 14 processes, every dtype; 13 of the 14 above 1). The head (1–4 ms, the largest matrix) was
 * cut into eight chunks per thread shared out as the threads freed up, which had beaten one equal
 * chunk per thread by 3–12%; one measured cut per thread beat the eight by 1.002–1.038× (medians,
 * ten processes, every dtype), with fewer memory streams to start.
 * <pre>
 *   (caller)   h = RMSNorm(residual)
 *   IN         x, z = in_proj(h) for the worker's channels; u = silu(conv_step(x)) for them
 *   X          Δr, B, C = x_proj(u)                              rows of x_proj
 *   SCAN       Δ = dt_proj(Δr); y = scan_step(u, Δ, A, B, C, D) · silu(z)   the worker's channels
 *   OUT        residual += out_proj(y)                           rows of out_proj
 *   (after the last layer)  HEAD: logits = head(RMSNorm_f(residual))        rows of the head
 * </pre>
 * An instance holds the scratch of one state (batch B) and is used by one thread at a time (the
 * state's owner). The object itself is the pool's job, with the phase in a field.
 *
 * <p>Each phase and each step is a JDK Flight Recorder event ({@link DecodePhaseEvent},
 * {@link DecodeStepEvent}), off unless a recording enables it: {@code jmamba bench --phases} uses
 * them to show where a step's time goes (docs/benchmarks.md).
 */
final class Decoder implements WorkerPool.Task {
    private static final int IN = 0;
    private static final int X = 1;
    private static final int SCAN = 2;
    private static final int OUT = 3;
    private static final int HEAD = 4;
    /** The phases' names in {@link DecodePhaseEvent}s. */
    private static final String[] PHASE_NAMES = {"in", "x", "scan", "out", "head"};
    /** Channel ranges are split at multiples of this (whole vectors for the channel-wise kernels). */
    private static final int CHANNEL_ALIGN = 16;
    /** Row ranges of weight matrices are split at multiples of this (whole register tiles). */
    private static final int ROW_ALIGN = 8;

    private final MambaConfig c;
    private final int batch;
    private final float[] residual;
    private final float[] normed;
    private final float[] xz;
    private final float[] u;
    private final float[] dbc;
    private final float[] dt;
    private final float[] gated;
    private final float[] out;
    private final float[] logitsFlat; // batch > 1 only
    private final float[][] scratch;  // per thread of the pool, for the panel path of packed products
    private final int chunks;         // every phase is cut into this many chunks (one per thread), claimed by the threads
    private final SpeedSplit[] splits; // per phase (IN, X, SCAN, OUT, HEAD): where its chunks are cut

    // The job's arguments, set before each pool.run (read by the workers after the hand-off).
    private int phase;
    private LayerWeights lw;
    private float[] a;
    private float[] taps;
    private float[] conv;
    private float[] ssm;
    private PackedMatrix matrix;
    private float[] logitsOut;
    private int logitsLd;

    Decoder(MambaConfig c, int batch, int threads, InferenceWeights pw) {
        this.c = c;
        this.batch = batch;
        int B = batch;
        residual = new float[B * c.dModel()];
        normed = new float[B * c.dModel()];
        xz = new float[B * 2 * c.dInner()];
        u = new float[B * c.dInner()];
        dbc = new float[B * c.xProjOut()];
        dt = new float[B * c.dInner()];
        gated = new float[B * c.dInner()];
        out = new float[B * c.dModel()];
        logitsFlat = B > 1 ? new float[B * c.vocabSize()] : null;
        int s = pw.head.scratchFloats(B);
        for (int l = 0; l < c.nLayer(); l++) {
            LayerMatrices m = pw.layer(l);
            s = Math.max(s, Math.max(m.inProj().scratchFloats(B), m.xProj().scratchFloats(B)));
            s = Math.max(s, Math.max(m.dtProj().scratchFloats(B), m.outProj().scratchFloats(B)));
        }
        scratch = new float[threads][s];
        chunks = threads;
        splits = new SpeedSplit[HEAD + 1];
        for (int p = 0; p <= HEAD; p++) {
            splits[p] = new SpeedSplit(chunks);
        }
    }

    int batch() {
        return batch;
    }

    /** Where each phase (in, x, scan, out, head) is cut, for tests. */
    SpeedSplit[] splits() {
        return splits;
    }

    /**
     * Advances every sequence of the state by one token and writes the next-token logits into
     * {@code logits[b][0..V)}. Tokens must already be checked.
     */
    void step(WorkerPool pool, InferenceWeights pw, float[][] negA, float[][] convTaps, CpuMambaState s, int[] tokens,
              float[][] logits) {
        DecodeStepEvent stepEvent = new DecodeStepEvent();
        stepEvent.begin();
        int C = c.dModel();
        pw.embed(residual, tokens, batch);
        float eps = (float) c.normEps();
        for (int l = 0; l < c.nLayer(); l++) {
            lw = pw.vectors(l);
            a = negA[l];
            taps = convTaps[l];
            conv = s.conv[l];
            ssm = s.ssm[l];
            for (int b = 0; b < batch; b++) {
                Kernels.rmsnorm(normed, b * C, residual, b * C, lw.norm().data(), C, eps);
            }
            LayerMatrices m = pw.layer(l);
            run(pool, IN, l, m.inProj());
            run(pool, X, l, m.xProj());
            run(pool, SCAN, l, m.dtProj());
            run(pool, OUT, l, m.outProj());
        }
        for (int b = 0; b < batch; b++) {
            Kernels.rmsnorm(normed, b * C, residual, b * C, pw.normF(), C, eps);
        }
        if (batch == 1) {
            logitsOut = logits[0];
            logitsLd = c.vocabSize();
        } else {
            logitsOut = logitsFlat;
            logitsLd = c.vocabSize();
        }
        run(pool, HEAD, -1, pw.head);
        if (batch > 1) {
            int V = c.vocabSize();
            for (int b = 0; b < batch; b++) {
                System.arraycopy(logitsFlat, b * V, logits[b], 0, V);
            }
        }
        lw = null;
        a = taps = conv = ssm = null;
        matrix = null;
        logitsOut = null;
        if (stepEvent.shouldCommit()) {
            stepEvent.batch = batch;
            stepEvent.weightBytes = pw.decodeBytesPerToken();
            stepEvent.commit();
        }
    }

    /**
     * Runs phase {@code phase} of layer {@code layer} (-1: the head) over matrix {@code m}, one
     * chunk per thread, cut by the phase's {@link SpeedSplit}. The event is timed only while a
     * flight recording has it enabled; otherwise the JIT removes it (no allocation: DecoderTest).
     */
    private void run(WorkerPool pool, int phase, int layer, PackedMatrix m) {
        this.phase = phase;
        this.matrix = m;
        DecodePhaseEvent event = new DecodePhaseEvent();
        event.begin();
        pool.run(this, chunks);
        splits[phase].update();
        if (event.shouldCommit()) {
            event.phase = PHASE_NAMES[phase];
            event.layer = layer;
            event.batch = batch;
            event.weightBytes = m.bytes();
            event.commit();
        }
    }

    @Override
    public void run(int worker, int chunk, int chunks) {
        SpeedSplit split = splits[phase];
        long t0 = System.nanoTime();
        int units = runPhase(worker, chunk, split);
        split.record(chunk, worker, System.nanoTime() - t0, units);
    }

    /** Runs chunk {@code chunk} of the current phase, cut by {@code split}; returns how many channels or rows it covered. */
    private int runPhase(int worker, int chunk, SpeedSplit split) {
        int B = batch;
        int C = c.dModel();
        int D = c.dInner();
        int N = c.dState();
        int R = c.dtRank();
        int S = c.xProjOut();
        int K = c.dConv();
        float[] scr = scratch[worker];
        switch (phase) {
            case IN -> {
                int d0 = split.bound(D, chunk, CHANNEL_ALIGN);
                int d1 = split.bound(D, chunk + 1, CHANNEL_ALIGN);
                if (d0 == d1) {
                    return 0;
                }
                float[] bias = MambaBlock.data(lw.inProjBias());
                matrix.multiply(normed, 0, C, xz, 0, 2 * D, bias, 0, B, d0, d1, scr);         // x
                matrix.multiply(normed, 0, C, xz, 0, 2 * D, bias, 0, B, D + d0, D + d1, scr); // z
                float[] cb = MambaBlock.data(lw.convBias());
                for (int b = 0; b < B; b++) {
                    Kernels.convStep(u, b * D, xz, b * 2 * D, taps, cb, conv, b * (K - 1) * D, D, K, d0, d1);
                    Kernels.silu(u, b * D + d0, u, b * D + d0, d1 - d0);
                }
                return d1 - d0;
            }
            case X -> {
                int s0 = split.bound(S, chunk, ROW_ALIGN);
                int s1 = split.bound(S, chunk + 1, ROW_ALIGN);
                if (s0 < s1) {
                    matrix.multiply(u, 0, D, dbc, 0, S, null, 0, B, s0, s1, scr);
                }
                return s1 - s0;
            }
            case SCAN -> {
                int d0 = split.bound(D, chunk, CHANNEL_ALIGN);
                int d1 = split.bound(D, chunk + 1, CHANNEL_ALIGN);
                if (d0 == d1) {
                    return 0;
                }
                // dt_proj has no bias here: dt_bias is added inside the scan, before softplus.
                matrix.multiply(dbc, 0, S, dt, 0, D, null, 0, B, d0, d1, scr);
                float[] dtBias = lw.dtBias().data();
                float[] dSkip = lw.d().data();
                for (int b = 0; b < B; b++) {
                    Kernels.scanStep(gated, b * D, u, dt, dtBias, a, dbc, b * S + R, dbc, b * S + R + N, dSkip,
                            xz, b * 2 * D + D, ssm, b * D * N, D, N, d0, d1);
                }
                return d1 - d0;
            }
            case OUT -> {
                int c0 = split.bound(C, chunk, ROW_ALIGN);
                int c1 = split.bound(C, chunk + 1, ROW_ALIGN);
                if (c0 == c1) {
                    return 0;
                }
                matrix.multiply(gated, 0, D, out, 0, C, MambaBlock.data(lw.outProjBias()), 0, B, c0, c1, scr);
                for (int b = 0; b < B; b++) {
                    for (int i = b * C + c0; i < b * C + c1; i++) {
                        residual[i] += out[i];
                    }
                }
                return c1 - c0;
            }
            case HEAD -> {
                int V = c.vocabSize();
                int v0 = split.bound(V, chunk, ROW_ALIGN);
                int v1 = split.bound(V, chunk + 1, ROW_ALIGN);
                if (v0 < v1) {
                    matrix.multiply(normed, 0, C, logitsOut, 0, logitsLd, null, 0, B, v0, v1, scr);
                }
                return v1 - v0;
            }
            default -> throw new IllegalStateException("unknown phase " + phase);
        }
    }
}
