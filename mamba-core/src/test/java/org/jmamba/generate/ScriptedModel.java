package org.jmamba.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;

/**
 * A stand-in model whose k-th prediction for row r is {@code scripts[r][k]} whatever the input (the
 * last entry repeats): it lets generator logic (stopping, text, cancellation, chunking) be tested
 * against exactly known token sequences. Records the model calls it receives.
 */
final class ScriptedModel implements SequenceModel {
    private final MambaConfig config;
    private final int[][] scripts;
    final AtomicInteger steps = new AtomicInteger();
    final List<int[]> prefillChunkLengths = new ArrayList<>();
    volatile Runnable onStep = () -> { };

    ScriptedModel(int vocab, int[]... scripts) {
        this.config = MambaConfig.of(4, 1, vocab, 2, 2);
        this.scripts = scripts;
    }

    final class State implements MambaState {
        final int batch;
        final long[] positions;
        final int[] predicted; // predictions made so far per row
        boolean closed;

        State(int batch) {
            this.batch = batch;
            this.positions = new long[batch];
            this.predicted = new int[batch];
        }

        @Override
        public int batch() {
            return batch;
        }

        @Override
        public long position(int row) {
            return positions[row];
        }

        @Override
        public void reset(int row) {
            positions[row] = 0;
            predicted[row] = 0;
        }

        @Override
        public MambaState copy() {
            State s = new State(batch);
            System.arraycopy(positions, 0, s.positions, 0, batch);
            System.arraycopy(predicted, 0, s.predicted, 0, batch);
            return s;
        }

        @Override
        public long sizeInBytes() {
            return 16L * batch;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    final List<State> states = new ArrayList<>();

    @Override
    public MambaConfig config() {
        return config;
    }

    @Override
    public ForwardResult forward(int[][] tokens, boolean withHiddenStates) {
        throw new UnsupportedOperationException("the scripted model only serves the recurrent path");
    }

    @Override
    public MambaState newState(int batch) {
        State s = new State(batch);
        states.add(s);
        return s;
    }

    private float[] logitsFor(int row, int k) {
        int[] script = scripts[row];
        float[] l = new float[config.vocabSize()];
        l[script[Math.min(k, script.length - 1)]] = 10f;
        return l;
    }

    @Override
    public float[][] prefill(MambaState state, int[][] tokens) {
        State s = (State) state;
        prefillChunkLengths.add(Arrays.stream(tokens).mapToInt(t -> t.length).toArray());
        float[][] out = new float[s.batch][];
        for (int r = 0; r < s.batch; r++) {
            if (tokens[r].length > 0) {
                s.positions[r] += tokens[r].length;
                out[r] = logitsFor(r, 0);
            }
        }
        return out;
    }

    @Override
    public float[][] step(MambaState state, int[] tokens) {
        State s = (State) state;
        if (s.closed) {
            throw new IllegalStateException("step on a closed state");
        }
        steps.incrementAndGet();
        onStep.run();
        float[][] out = new float[s.batch][];
        for (int r = 0; r < s.batch; r++) {
            s.positions[r]++;
            out[r] = logitsFor(r, ++s.predicted[r]);
        }
        return out;
    }

    @Override
    public double lossAndGradients(int[][] inputs, int[][] targets, MambaWeights gradients) {
        throw new UnsupportedOperationException("the scripted model does not train");
    }

    @Override
    public MambaWeights weights() {
        throw new UnsupportedOperationException("the scripted model has no weights");
    }

    @Override
    public void weightsUpdated() {
    }

    @Override
    public void close() {
    }
}
