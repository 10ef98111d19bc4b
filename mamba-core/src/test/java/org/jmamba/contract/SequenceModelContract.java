package org.jmamba.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jmamba.FloatTensor;
import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.io.Checkpoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every {@link SequenceModel} must do, whatever runs it: the golden tiny model's logits, hidden
 * states, loss, gradients and greedy continuation (for every checkpoint layout), the recurrent and
 * parallel modes agreeing on fresh random models, prefill in chunks and ragged rows, state
 * copy/reset, concurrent use, {@code weightsUpdated}, and bad input rejected before anything changes.
 *
 * <p>A backend's test extends this class and implements {@link #create}; it may loosen
 * {@link #tolerances()} where it rounds on purpose. Random tests draw a new seed per test and name it
 * in every failure message, so a failure can be replayed.
 */
public abstract class SequenceModelContract {
    private static final Logger LOG = LoggerFactory.getLogger(SequenceModelContract.class);

    /** Gradients are added into the accumulator: a second call must add the same amount again. */
    private static final double ACCUMULATION_TOL = 1e-6;

    private long seed;
    private Random rnd;

    /**
     * The implementation under test over {@code weights} (fp32; the model may share them, and
     * {@link SequenceModel#weights()} must return the master copy it reads). The test closes it.
     */
    protected abstract SequenceModel create(MambaWeights weights);

    /** How close this implementation must come; the project's defaults unless overridden. */
    protected Tolerances tolerances() {
        return Tolerances.DEFAULT;
    }

    @BeforeEach
    protected final void drawSeed() {
        seed = System.nanoTime();
        rnd = new Random(seed);
    }

    // ---- golden data ----

    @ParameterizedTest(name = "{0}")
    @EnumSource(TinyGolden.Layout.class)
    public void goldenLogitsHiddenStatesAndLoss(TinyGolden.Layout layout) {
        TinyGolden g = TinyGolden.get();
        Tolerances tol = tolerances();
        MambaWeights w = layout.weights();
        MambaConfig c = w.config();
        int[][] ids = g.inputIds();
        int B = ids.length;
        int L = ids[0].length;
        try (SequenceModel m = create(w)) {
            ForwardResult r = m.forward(ids, true);
            assertTrue(r.logits().hasShape(B, L, c.vocabSize()), layout + ": logits shape " + Arrays.toString(r.logits().shape()));
            double e = Compare.relErr(r.logits().data(), g.logits());
            assertTrue(e <= tol.goldenLogits(), layout + ": logits rel err " + e);
            assertEquals(c.nLayer() + 1, g.hiddenStateCount(), "golden hidden states");
            assertEquals(g.hiddenStateCount(), r.hiddenStates().size(), layout + ": hidden states");
            for (int i = 0; i < g.hiddenStateCount(); i++) {
                FloatTensor h = r.hiddenStates().get(i);
                assertTrue(h.hasShape(B, L, c.dModel()), layout + ": hidden_states." + i + " shape " + Arrays.toString(h.shape()));
                double eh = Compare.relErr(h.data(), g.hiddenState(i));
                assertTrue(eh <= tol.goldenHidden(), layout + ": hidden_states." + i + " rel err " + eh);
            }
            // The loss as the interface defines it, from the logits in float64.
            double loss = Compare.crossEntropy(r.logits().data(), Compare.shiftedTargets(ids), c.vocabSize());
            assertEquals(g.loss(), loss, tol.goldenLoss() * g.loss(), layout + ": loss of the logits");

            ForwardResult plain = m.forward(ids, false);
            assertTrue(plain.hiddenStates().isEmpty(), layout + ": hidden states returned though not requested");
            assertClose(r.logits().data(), plain.logits().data(), tol.modes(), layout + ": logits without hidden states");
        }
    }

    @Test
    public void goldenLossAndGradients() {
        TinyGolden g = TinyGolden.get();
        Tolerances tol = tolerances();
        MambaWeights w = TinyGolden.Layout.HF_SAFETENSORS.weights();
        MambaWeights before = w.copy();
        int[][] ids = g.inputIds();
        MambaWeights grads = MambaWeights.zeros(w.config());
        double loss;
        try (SequenceModel m = create(w)) {
            loss = m.lossAndGradients(ids, Compare.shiftedTargets(ids), grads);
        }
        assertEquals(g.loss(), loss, tol.goldenLoss() * g.loss(), "loss");
        Map<String, FloatTensor> named = grads.named();
        assertEquals(g.gradientNames(), named.keySet(), "every parameter has a golden gradient, and only those");
        double worst = 0;
        for (Map.Entry<String, FloatTensor> e : named.entrySet()) {
            double err = Compare.relErr(e.getValue().data(), g.gradient(e.getKey()));
            worst = Math.max(worst, err);
            assertTrue(err <= tol.goldenGradients(), "grad." + e.getKey() + " rel err " + err);
        }
        LOG.info("{}: golden loss {} vs {}, worst gradient rel err {}", getClass().getSimpleName(), loss, g.loss(),
                String.format("%.2e", worst));
        for (Map.Entry<String, FloatTensor> e : before.named().entrySet()) {
            assertArrayEquals(e.getValue().data(), w.named().get(e.getKey()).data(),
                    "lossAndGradients changed the weights: " + e.getKey());
        }
    }

    @Test
    public void recurrentStepsMatchParallelAndGoldenLogits() {
        TinyGolden g = TinyGolden.get();
        Tolerances tol = tolerances();
        int[][] ids = g.inputIds();
        try (SequenceModel m = create(TinyGolden.Layout.HF_SAFETENSORS.weights())) {
            int B = ids.length;
            int L = ids[0].length;
            int V = m.config().vocabSize();
            float[] parallel = m.forward(ids, false).logits().data();
            float[] recurrent = new float[B * L * V];
            try (MambaState s = m.newState(B)) {
                for (int t = 0; t < L; t++) {
                    float[][] lg = m.step(s, column(ids, t));
                    for (int b = 0; b < B; b++) {
                        System.arraycopy(lg[b], 0, recurrent, (b * L + t) * V, V);
                    }
                }
                for (int b = 0; b < B; b++) {
                    assertEquals(L, s.position(b), "position of row " + b);
                }
            }
            assertClose(parallel, recurrent, tol.modes(), "recurrent vs parallel");
            double eg = Compare.relErr(recurrent, g.logits());
            assertTrue(eg <= tol.goldenLogits(), "recurrent vs golden rel err " + eg);
        }
    }

    @Test
    public void greedyDecodingReproducesGoldenContinuation() {
        TinyGolden g = TinyGolden.get();
        Checkpoint cp = TinyGolden.Layout.HF_SAFETENSORS.load();
        int eos = cp.ids().eos().orElseThrow(() -> new AssertionError("the golden config declares no eos_token_id"));
        int[] prompt = g.greedyPrompt();
        int[] expected = g.greedyOutput();
        assertEquals(eos, expected[expected.length - 1], "the golden continuation ends with EOS");
        try (SequenceModel m = create(cp.weights()); MambaState s = m.newState(1)) {
            List<Integer> out = new ArrayList<>();
            for (int t : prompt) {
                out.add(t);
            }
            float[] logits = m.prefill(s, new int[][] {prompt})[0];
            while (out.size() < expected.length + 5) { // a bound, so that a missing EOS cannot loop forever
                int next = argmax(logits);
                out.add(next);
                if (next == eos) {
                    break;
                }
                logits = m.step(s, new int[] {next})[0];
            }
            assertArrayEquals(expected, out.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    // ---- the two modes agree (fresh random models) ----

    @Test
    public void recurrentStepsMatchParallelOnRandomModels() {
        for (int trial = 0; trial < 4; trial++) {
            MambaConfig c = RandomMamba.config(rnd);
            int B = 1 + rnd.nextInt(3);
            int L = 1 + rnd.nextInt(12);
            int V = c.vocabSize();
            int[][] tokens = RandomMamba.tokens(rnd, B, L, V);
            MambaWeights w = RandomMamba.weights(c, rnd);
            try (SequenceModel m = create(w); MambaState s = m.newState(B)) {
                float[] par = m.forward(tokens, false).logits().data();
                double tol = modesTolerance(w, tokens, par);
                for (int t = 0; t < L; t++) {
                    float[][] lg = m.step(s, column(tokens, t));
                    for (int b = 0; b < B; b++) {
                        assertClose(row(par, L, V, b, t), lg[b], tol, c + " step t=" + t + " b=" + b);
                    }
                }
                for (int b = 0; b < B; b++) {
                    assertEquals(L, s.position(b), "position of row " + b + seedNote());
                }
            }
        }
    }

    @Test
    public void stepIntoCallerArraysMatchesStep() {
        MambaConfig c = RandomMamba.config(rnd);
        int B = 1 + rnd.nextInt(3);
        int L = 1 + rnd.nextInt(6);
        int V = c.vocabSize();
        int[][] tokens = RandomMamba.tokens(rnd, B, L, V);
        float sentinel = 12345f;
        try (SequenceModel m = create(RandomMamba.weights(c, rnd));
             MambaState s1 = m.newState(B);
             MambaState s2 = m.newState(B)) {
            float[][] buf = new float[B][V + 3]; // rows may be longer than the vocabulary
            for (int t = 0; t < L; t++) {
                for (float[] r : buf) {
                    Arrays.fill(r, sentinel);
                }
                float[][] want = m.step(s1, column(tokens, t));
                m.step(s2, column(tokens, t), buf);
                for (int b = 0; b < B; b++) {
                    assertRepeat(want[b], Arrays.copyOf(buf[b], V), "step into an array, t=" + t + " b=" + b);
                    for (int v = V; v < V + 3; v++) {
                        assertEquals(sentinel, buf[b][v], "wrote past the vocabulary in row " + b + seedNote());
                    }
                }
            }
            for (int b = 0; b < B; b++) {
                assertEquals(L, s2.position(b), "position of row " + b + seedNote());
            }
        }
    }

    @Test
    public void chunkedPrefillThenStepsMatchOneParallelPass() {
        for (int trial = 0; trial < 4; trial++) {
            MambaConfig c = RandomMamba.config(rnd);
            int B = 1 + rnd.nextInt(3);
            int L = 6 + rnd.nextInt(10);
            int V = c.vocabSize();
            int[][] tokens = RandomMamba.tokens(rnd, B, L, V);
            MambaWeights w = RandomMamba.weights(c, rnd);
            try (SequenceModel m = create(w); MambaState s = m.newState(B)) {
                float[] par = m.forward(tokens, false).logits().data();
                double tol = modesTolerance(w, tokens, par);
                // Chunks of 1, 2 and the rest-minus-2, then two steps.
                int[] cuts = {0, 1, 3, L - 2};
                for (int k = 0; k + 1 < cuts.length; k++) {
                    float[][] lg = m.prefill(s, slice(tokens, cuts[k], cuts[k + 1]));
                    for (int b = 0; b < B; b++) {
                        assertClose(row(par, L, V, b, cuts[k + 1] - 1), lg[b], tol, c + " prefill chunk " + k + " b=" + b);
                    }
                }
                for (int t = L - 2; t < L; t++) {
                    float[][] lg = m.step(s, column(tokens, t));
                    for (int b = 0; b < B; b++) {
                        assertClose(row(par, L, V, b, t), lg[b], tol, c + " step after prefill t=" + t);
                    }
                }
                for (int b = 0; b < B; b++) {
                    assertEquals(L, s.position(b), "position of row " + b + seedNote());
                }
            }
        }
    }

    @Test
    public void prefillAllInChunksMatchesOneParallelPass() {
        MambaConfig c = RandomMamba.config(rnd);
        int B = 1 + rnd.nextInt(3);
        int L = 4 + rnd.nextInt(10);
        int V = c.vocabSize();
        int[][] tokens = RandomMamba.tokens(rnd, B, L + 1, V);
        MambaWeights w = RandomMamba.weights(c, rnd);
        try (SequenceModel m = create(w); MambaState s = m.newState(B)) {
            float[] par = m.forward(tokens, false).logits().data();
            double tol = modesTolerance(w, tokens, par);
            int[] cuts = {0, 1, 2 + rnd.nextInt(L - 2), L};
            for (int k = 0; k + 1 < cuts.length; k++) {
                float[][][] part = m.prefillAll(s, slice(tokens, cuts[k], cuts[k + 1]));
                assertEquals(B, part.length, "rows" + seedNote());
                for (int b = 0; b < B; b++) {
                    assertEquals(cuts[k + 1] - cuts[k], part[b].length, "positions of chunk " + k + seedNote());
                    for (int t = cuts[k]; t < cuts[k + 1]; t++) {
                        assertClose(row(par, L + 1, V, b, t), part[b][t - cuts[k]], tol,
                                c + " prefillAll chunk " + k + " t=" + t + " b=" + b);
                    }
                }
            }
            for (int b = 0; b < B; b++) {
                assertEquals(L, s.position(b), "position of row " + b + seedNote());
            }
            float[][] last = m.step(s, column(tokens, L));
            for (int b = 0; b < B; b++) {
                assertClose(row(par, L + 1, V, b, L), last[b], tol, c + " step after prefillAll b=" + b);
            }
        }
    }

    @Test
    public void raggedPrefillMatchesEachRowAlone() {
        MambaConfig c = RandomMamba.config(rnd);
        int V = c.vocabSize();
        int[][] prompts = {RandomMamba.tokens(rnd, 1, 5, V)[0], new int[0], RandomMamba.tokens(rnd, 1, 9, V)[0],
            RandomMamba.tokens(rnd, 1, 5, V)[0]};
        MambaWeights w = RandomMamba.weights(c, rnd);
        try (SequenceModel m = create(w); MambaState s = m.newState(4)) {
            float[][] lg = m.prefill(s, prompts);
            assertNull(lg[1], "an empty row yields null logits" + seedNote());
            assertEquals(0, s.position(1), "an empty row leaves its sequence as it was" + seedNote());
            int[] next = {1 % V, 2 % V, 3 % V, 4 % V};
            float[][] after = m.step(s, next);
            for (int b = 0; b < 4; b++) {
                int[] seq = Arrays.copyOf(prompts[b], prompts[b].length + 1);
                seq[prompts[b].length] = next[b];
                float[] par = m.forward(new int[][] {seq}, false).logits().data();
                double tol = modesTolerance(w, new int[][] {seq}, par);
                if (prompts[b].length > 0) {
                    assertClose(row(par, seq.length, V, 0, seq.length - 2), lg[b], tol, c + " ragged prefill row " + b);
                }
                assertClose(row(par, seq.length, V, 0, seq.length - 1), after[b], tol, c + " step after ragged prefill row " + b);
                assertEquals(seq.length, s.position(b), "position of row " + b + seedNote());
            }
        }
    }

    // ---- states, threads, weights ----

    @Test
    public void stateCopyBranchesAndResetClears() {
        MambaConfig c = RandomMamba.config(rnd);
        int V = c.vocabSize();
        int[][] prompt = RandomMamba.tokens(rnd, 2, 4, V);
        int[] next = {1 % V, 2 % V};
        MambaWeights w = RandomMamba.weights(c, rnd);
        try (SequenceModel m = create(w); MambaState s = m.newState(2)) {
            m.prefill(s, prompt);
            MambaState branch = s.copy();
            MambaState other = s.copy();
            assertEquals(4, branch.position(0), "a copy keeps the positions" + seedNote());
            assertEquals(4, branch.position(1), "a copy keeps the positions" + seedNote());
            m.step(other, new int[] {3 % V, 4 % V}); // a copy that moves on must not disturb the others
            other.close();                           // nor must closing it
            float[][] a = m.step(s, next);
            float[][] b = m.step(branch, next);
            int[][] whole = {append(prompt[0], next[0]), append(prompt[1], next[1])};
            float[] par = m.forward(whole, false).logits().data();
            double tol = modesTolerance(w, whole, par);
            for (int r = 0; r < 2; r++) {
                assertRepeat(a[r], b[r], "original vs copy, row " + r);
                assertClose(row(par, 5, V, r, 4), a[r], tol, c + " step after copying, row " + r);
            }
            branch.close();
            s.reset(1);
            assertEquals(0, s.position(1), "reset row" + seedNote());
            assertEquals(5, s.position(0), "the other row" + seedNote());
            float[][] fresh = m.step(s, new int[] {3 % V, 3 % V});
            float[] alone = m.forward(new int[][] {{3 % V}}, false).logits().data();
            assertClose(alone, fresh[1], modesTolerance(w, new int[][] {{3 % V}}, alone), c + " first step after reset");
            assertTrue(s.sizeInBytes() > 0, "sizeInBytes" + seedNote());
            long before = s.sizeInBytes();
            m.step(s, new int[] {0, 0});
            assertEquals(before, s.sizeInBytes(), "state size does not grow with tokens" + seedNote());
        }
    }

    @Test
    public void concurrentUseMatchesSequential() throws Exception {
        MambaConfig c = new MambaConfig(24, 2, 50, 6, 4, 40, 3, false, true, 1e-5, true, true);
        MambaWeights w = RandomMamba.weights(c, rnd);
        int jobs = 8;
        List<int[][]> inputs = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            inputs.add(RandomMamba.tokens(rnd, 2, 20, c.vocabSize()));
        }
        try (SequenceModel m = create(w)) {
            List<float[]> sequential = new ArrayList<>();
            for (int[][] in : inputs) {
                sequential.add(mixedWorkload(m, in));
            }
            ExecutorService ex = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> fs = new ArrayList<>();
                for (int[][] in : inputs) {
                    fs.add(ex.submit(() -> mixedWorkload(m, in)));
                }
                for (int j = 0; j < jobs; j++) {
                    assertRepeat(sequential.get(j), fs.get(j).get(), "concurrent job " + j);
                }
            } finally {
                ex.shutdownNow();
            }
        }
    }

    /** A forward pass, a prefill of half, then steps over the rest: every logit, in one array. */
    private static float[] mixedWorkload(SequenceModel m, int[][] in) {
        int B = in.length;
        int L = in[0].length;
        int V = m.config().vocabSize();
        float[] all = m.forward(in, false).logits().data();
        float[] out = Arrays.copyOf(all, all.length + B * (L / 2) * V);
        int k = all.length;
        try (MambaState s = m.newState(B)) {
            m.prefill(s, slice(in, 0, L / 2));
            for (int t = L / 2; t < L; t++) {
                for (float[] r : m.step(s, column(in, t))) {
                    System.arraycopy(r, 0, out, k, V);
                    k += V;
                }
            }
        }
        return out;
    }

    @Test
    public void weightsUpdatedRefreshesEveryDerivedCopy() {
        MambaConfig c = RandomMamba.config(rnd);
        int V = c.vocabSize();
        int[][] tokens = RandomMamba.tokens(rnd, 2, 6, V);
        try (SequenceModel m = create(RandomMamba.weights(c, rnd))) {
            float[] before = m.forward(tokens, false).logits().data();
            try (MambaState s = m.newState(2)) { // warm whatever the recurrent path caches
                m.prefill(s, tokens);
                m.step(s, new int[] {0, 0});
            }
            // An optimiser step in place: every tensor moves, A_log (cached as A) the most.
            for (Map.Entry<String, FloatTensor> e : m.weights().named().entrySet()) {
                float[] a = e.getValue().data();
                double std = e.getKey().endsWith("A_log") ? 0.3 : 0.05;
                for (int i = 0; i < a.length; i++) {
                    a[i] += (float) (std * rnd.nextGaussian());
                }
            }
            m.weightsUpdated();
            try (SequenceModel fresh = create(m.weights().copy())) {
                float[] after = m.forward(tokens, false).logits().data();
                assertTrue(Compare.relErr(after, before) > 1e-3, "the update should change the logits" + seedNote());
                assertRepeat(fresh.forward(tokens, false).logits().data(), after, c + " forward after weightsUpdated");
                try (MambaState s = m.newState(2); MambaState sf = fresh.newState(2)) {
                    float[][] p = m.prefill(s, tokens);
                    float[][] pf = fresh.prefill(sf, tokens);
                    float[][] st = m.step(s, new int[] {1 % V, 2 % V});
                    float[][] stf = fresh.step(sf, new int[] {1 % V, 2 % V});
                    for (int b = 0; b < 2; b++) {
                        assertRepeat(pf[b], p[b], c + " prefill after weightsUpdated, row " + b);
                        assertRepeat(stf[b], st[b], c + " step after weightsUpdated, row " + b);
                    }
                }
            }
        }
    }

    @Test
    public void lossAndGradientsAgreeWithForwardAndAccumulate() {
        MambaConfig c = RandomMamba.config(rnd);
        int V = c.vocabSize();
        int B = 1 + rnd.nextInt(3);
        int L = 3 + rnd.nextInt(8);
        int[][] inputs = RandomMamba.tokens(rnd, B, L, V);
        int[][] targets = RandomMamba.tokens(rnd, B, L, V);
        targets[B - 1][L - 1] = -1; // ignored positions do not count
        targets[0][rnd.nextInt(L - 1)] = -1;
        try (SequenceModel m = create(RandomMamba.weights(c, rnd))) {
            double ce = Compare.crossEntropy(m.forward(inputs, false).logits().data(), targets, V);
            MambaWeights once = MambaWeights.zeros(c);
            double loss = m.lossAndGradients(inputs, targets, once);
            assertEquals(ce, loss, tolerances().modes() * Math.abs(ce), c + " loss vs cross-entropy of forward" + seedNote());
            MambaWeights twice = MambaWeights.zeros(c);
            double l1 = m.lossAndGradients(inputs, targets, twice);
            double l2 = m.lossAndGradients(inputs, targets, twice);
            assertEquals(loss, l1, tolerances().exactRepeats() ? 0 : tolerances().modes() * Math.abs(loss), "repeat" + seedNote());
            assertEquals(loss, l2, tolerances().exactRepeats() ? 0 : tolerances().modes() * Math.abs(loss), "repeat" + seedNote());
            for (Map.Entry<String, FloatTensor> e : once.named().entrySet()) {
                float[] doubled = e.getValue().data().clone();
                for (int i = 0; i < doubled.length; i++) {
                    doubled[i] *= 2;
                }
                float[] got = twice.named().get(e.getKey()).data();
                // A gradient can be exactly zero (A_log when only position 0 counts): then it must stay so.
                double err = isZero(doubled) ? (isZero(got) ? 0 : Double.POSITIVE_INFINITY) : Compare.relErr(got, doubled);
                assertTrue(err <= ACCUMULATION_TOL, c + " grad." + e.getKey() + " after two calls: rel err " + err
                        + " from twice one call's" + seedNote());
            }
        }
    }

    // ---- bad input ----

    @Test
    public void badInputIsRejectedBeforeAnythingChanges() {
        MambaConfig c = RandomMamba.config(rnd);
        MambaWeights w = RandomMamba.weights(c, rnd);
        int V = c.vocabSize();
        try (SequenceModel m = create(w); SequenceModel other = create(w.copy())) {
            rejects(() -> m.forward(new int[][] {{1, 2}, {1}}, false), "forward: ragged rows");
            rejects(() -> m.forward(new int[][] {{1, V}}, false), "forward: token == vocabSize");
            rejects(() -> m.forward(new int[][] {{-1}}, false), "forward: negative token");
            rejects(() -> m.newState(0), "newState(0)");
            try (MambaState s = m.newState(2)) {
                rejects(() -> m.step(s, new int[] {1}), "step: batch mismatch");
                rejects(() -> m.step(s, new int[] {1, V}), "step: token == vocabSize");
                rejects(() -> m.step(s, new int[] {-1, 1}), "step: negative token");
                rejects(() -> m.step(s, new int[] {1, 1}, new float[1][V]), "step: logits for a batch mismatch");
                rejects(() -> m.prefill(s, new int[][] {{1}}), "prefill: batch mismatch");
                rejects(() -> m.prefill(s, new int[][] {{1}, {V + 3}}), "prefill: token outside the vocabulary");
                rejects(() -> m.prefillAll(s, new int[][] {{1, 2}, {1}}), "prefillAll: ragged rows");
                rejects(() -> m.prefillAll(s, new int[][] {{1, 2}}), "prefillAll: batch mismatch");
                rejects(() -> m.prefillAll(s, new int[][] {{1, 2}, {1, -4}}), "prefillAll: negative token");
                rejects(() -> other.step(s, new int[] {1, 1}), "a state of another model");
                assertEquals(0, s.position(0), "rejected calls leave the state untouched" + seedNote());
                assertEquals(0, s.position(1), "rejected calls leave the state untouched" + seedNote());
                float[][] first = m.step(s, new int[] {1, 2});
                float[] alone = m.forward(new int[][] {{1}, {2}}, false).logits().data();
                double tol = modesTolerance(w, new int[][] {{1}, {2}}, alone);
                assertClose(Arrays.copyOfRange(alone, 0, V), first[0], tol, "first step after rejections, row 0");
                assertClose(Arrays.copyOfRange(alone, V, 2 * V), first[1], tol, "first step after rejections, row 1");
            }
            MambaWeights g = MambaWeights.zeros(c);
            rejects(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1}}, g), "targets shorter than inputs");
            rejects(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1, 2}, {1, 2}}, g), "more target rows");
            rejects(() -> m.lossAndGradients(new int[][] {{1, 2}}, new int[][] {{1, V}}, g), "target == vocabSize");
            rejects(() -> m.lossAndGradients(new int[][] {{1, V}}, new int[][] {{1, 2}}, g), "input == vocabSize");
            rejects(() -> m.lossAndGradients(new int[][] {{1, 2}, {1}}, new int[][] {{1, 2}, {1}}, g), "ragged inputs");
            rejects(() -> m.lossAndGradients(new int[][] {{1}}, new int[][] {{1}},
                    MambaWeights.zeros(MambaConfig.of(c.dModel() + 1, 1, V, 2, 2))), "gradients of another config");
            for (Map.Entry<String, FloatTensor> e : g.named().entrySet()) {
                for (float v : e.getValue().data()) {
                    assertEquals(0f, v, "a rejected call added to grad." + e.getKey() + seedNote());
                }
            }
            MambaState closed = m.newState(1);
            closed.close();
            assertThrows(IllegalStateException.class, () -> m.step(closed, new int[] {1}), "step on a closed state");
        }
        SequenceModel closed = create(w);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.forward(new int[][] {{1}}, false), "forward on a closed model");
    }

    private void rejects(Executable call, String what) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, what + seedNote());
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what + ": the exception should say what is wrong");
    }

    // ---- helpers ----

    /** " (seed N)": every random test's messages name the seed that replays it. */
    protected final String seedNote() {
        return " (seed " + seed + ")";
    }

    /**
     * How far apart two ways of computing a random model's logits on {@code tokens} may be, given
     * its {@code parallel} logits there (a forward pass of the unperturbed model):
     * {@link Tolerances#modes}, or ten times the model's own float32 noise where that is more.
     *
     * <p>Why: a few small random models are ill-conditioned. One (dModel 3, dState 1, 3 layers) moved
     * its parallel logits by 6.1e-6 when every weight was moved by at most one part in 2^23, and its
     * step and parallel logits differed by 1.6e-5, over a bound of 1e-5 with nothing wrong: such a
     * failure came about once in a few thousand runs of this class. The noise is the most that the
     * parallel logits move under three such perturbations of the weights. Over 100,000 random models
     * (step against parallel), the difference was at most 10.5 times that noise, and that only where
     * it was far below 1e-5; the one model whose modes differed by more than 1e-5 differed by 3.3
     * times its noise (a single perturbation underestimated the noise up to 15 times). A real fault,
     * a lost state or a wrong offset, moves logits far more than ten times the noise.
     */
    private double modesTolerance(MambaWeights w, int[][] tokens, float[] parallel) {
        Random perturb = new Random(seed ^ 0x9E3779B97F4A7C15L); // leaves the test's own draws alone
        double[] exact = Compare.toDouble(parallel);
        double noise = 0;
        for (int draw = 0; draw < 3; draw++) {
            MambaWeights p = w.copy();
            for (FloatTensor t : p.named().values()) {
                float[] d = t.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] *= (float) (1 + (2 * perturb.nextDouble() - 1) * 0x1p-23);
                }
            }
            try (SequenceModel q = create(p)) {
                noise = Math.max(noise, Compare.relErr(q.forward(tokens, false).logits().data(), exact));
            }
        }
        return Math.max(tolerances().modes(), 10 * noise);
    }

    private void assertClose(float[] expected, float[] actual, double tol, String what) {
        double e = Compare.relErr(actual, expected);
        assertTrue(e <= tol, what + ": rel err " + e + " > " + tol + seedNote());
    }

    /** The same computation twice: identical bits, or within {@code modes} where the implementation says so. */
    private void assertRepeat(float[] expected, float[] actual, String what) {
        if (tolerances().exactRepeats()) {
            assertArrayEquals(expected, actual, what + seedNote());
        } else {
            assertClose(expected, actual, tolerances().modes(), what);
        }
    }

    /** logits[b, t] of a parallel pass over [B, L] tokens. */
    private static float[] row(float[] logits, int L, int V, int b, int t) {
        return Arrays.copyOfRange(logits, (b * L + t) * V, (b * L + t + 1) * V);
    }

    private static int[] column(int[][] tokens, int t) {
        int[] col = new int[tokens.length];
        for (int b = 0; b < tokens.length; b++) {
            col[b] = tokens[b][t];
        }
        return col;
    }

    private static int[][] slice(int[][] tokens, int from, int to) {
        int[][] s = new int[tokens.length][];
        for (int b = 0; b < tokens.length; b++) {
            s[b] = Arrays.copyOfRange(tokens[b], from, to);
        }
        return s;
    }

    private static int[] append(int[] seq, int token) {
        int[] s = Arrays.copyOf(seq, seq.length + 1);
        s[seq.length] = token;
        return s;
    }

    private static boolean isZero(float[] v) {
        for (float x : v) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
