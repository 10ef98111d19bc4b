package org.jmamba.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jmamba.FloatTensor;
import org.jmamba.ForwardResult;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.TensorSource;
import org.jmamba.kernels.Kernels;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.WeightType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java fp32 Mamba-1 language model.
 *
 * <p>Thread-safe: the weights are only read, every call allocates its own scratch, and all calls
 * share the model's one thread pool. States are per caller.
 */
public final class CpuMamba implements SequenceModel {
    private static final Logger log = LoggerFactory.getLogger(CpuMamba.class);

    /**
     * The f32 master weights that training reads and updates; null for a model made by
     * {@link #forInference} with a bf16 or int8 weight type, or loaded with its weights off the
     * heap, which keeps only {@link #packed}.
     */
    private final MambaWeights master;
    private final MambaConfig config;
    private final Parallel par;
    /** What the inference paths read: the large matrices in the storage type (wrapping the master when f32). */
    private final InferenceWeights packed;
    /**
     * The native memory and file mappings of {@link #packed}'s matrices when they live off the heap
     * ({@link WeightMemory#OFF_HEAP}), freed by {@link #close()}; null when they are on the heap.
     */
    private final OffHeapMatrices offHeap;
    /** Where the large matrices live (HEAP exactly when {@link #offHeap} is null). */
    private final WeightMemory memory;
    /** Tables derived from the weights, rebuilt by {@link #weightsUpdated()}. */
    private volatile Derived derived;
    private volatile boolean closed;

    private CpuMamba(MambaWeights master, InferenceWeights packed, CpuOptions options) {
        this(master, packed, options, null, WeightMemory.HEAP);
    }

    private CpuMamba(MambaWeights master, InferenceWeights packed, CpuOptions options, OffHeapMatrices offHeap,
                     WeightMemory memory) {
        this.config = packed.config();
        this.packed = packed;
        this.master = master;
        this.offHeap = offHeap;
        this.memory = memory;
        this.derived = Derived.of(packed);
        this.par = new Parallel(options.threads(), options.gemm()); // last: nothing to shut down if the above fails
    }

    /**
     * A model over {@code weights} (shared, not copied) with its own pool of {@code options.threads()}.
     * It keeps the f32 master beside the packed matrices of a bf16 or int8 weight type, so that it
     * can be trained ({@link #weights()}, {@link #lossAndGradients}, {@link #weightsUpdated()}).
     */
    public static CpuMamba create(MambaWeights weights, CpuOptions options) {
        return create(weights, options, true);
    }

    /**
     * A model for inference only. With a bf16 or int8 weight type it keeps just the packed
     * matrices and the small f32 tensors, not the f32 master's large arrays: once the caller lets go
     * of {@code weights}, the heap holds about 2 (bf16) or 1.1 (int8) bytes per weight instead of 4
     * plus those. Such a model cannot be trained: {@link #weights()} and {@link #lossAndGradients}
     * throw {@link IllegalStateException}. With f32 it is the same as {@link #create}.
     */
    public static CpuMamba forInference(MambaWeights weights, CpuOptions options) {
        Objects.requireNonNull(options, "options");
        return create(weights, options, options.weightType() == WeightType.F32);
    }

    /**
     * A model for inference read straight from a checkpoint's tensors, its large matrices kept where
     * {@link CpuOptions#weightMemory()} says:
     * <ul>
     *   <li>{@link WeightMemory#OFF_HEAP} (the default, when {@link OffHeapMatrices#available()}:
     *       Java 22+ with the Vector API): the large matrices live in native memory that
     *       {@link #close()} frees: each matrix that the checkpoint stores in exactly the weight type
     *       (F32 or BF16 safetensors) is copied byte for byte from the file, others are converted
     *       tensor by tensor. Only the small tensors are on the heap, and the model is for inference
     *       only, f32 included. Where off-heap weights are unavailable, or an f32 model has a
     *       {@link CpuOptions#gemm() GEMM engine} (which reads arrays), it falls back to the heap
     *       (logged).</li>
     *   <li>{@link WeightMemory#MAPPED}: as OFF_HEAP, but the matrices stored in the weight type are
     *       memory-mapped from the file (zero copy) instead of copied.</li>
     *   <li>{@link WeightMemory#HEAP}: a bf16 or int8 model packs each large matrix as it is read
     *       ({@link InferenceWeights#read}), so loading never holds the fp32 model, only the packed
     *       one and the fp32 matrices being packed, which together stay within the largest one. An
     *       f32 model keeps the arrays it read as the trainable master, as
     *       {@link #forInference(MambaWeights, CpuOptions)} does.</li>
     * </ul>
     * The large matrices (every tensor, for an f32 model on the heap) are read and made by
     * {@link CpuOptions#threads()} threads of the load's own (at most one per available processor,
     * and four), each whole by one thread. All give the same logits, bit for bit, whatever the
     * thread count.
     *
     * @throws org.jmamba.io.CheckpointException if the tensors do not match {@code config}
     */
    public static CpuMamba forInference(TensorSource src, MambaConfig config, CpuOptions options) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(options, "options");
        WeightMemory memory = memoryFor(options);
        if (memory.offHeap()) {
            OffHeapMatrices store = OffHeapMatrices.open();
            try {
                InferenceWeights w = InferenceWeights.read(src, config, options.weightType(), store,
                        memory == WeightMemory.MAPPED, loadThreads(options));
                CpuMamba m = logged(new CpuMamba(null, w, options, store, memory), options);
                log.debug("{} weights off the heap: {} bytes mapped from {}, {} bytes of native memory",
                        options.weightType(), store.mappedBytes(), src.path(), store.allocatedBytes());
                return m;
            } catch (RuntimeException | Error e) {
                store.close(); // nothing stays mapped or allocated when loading fails
                throw e;
            }
        }
        if (options.weightType() == WeightType.F32) {
            return forInference(Checkpoints.readWeights(src, config, loadThreads(options)), options);
        }
        return logged(new CpuMamba(null, InferenceWeights.read(src, config, options.weightType(), loadThreads(options)),
                options), options);
    }

    /**
     * The most threads a load uses: two already did most of what threads gain here (first touches
     * of memory, docs/benchmarks.md, "Loading and memory"), and each thread converting a tensor holds
     * it as fp32 on the heap meanwhile (within one budget: {@link InferenceWeights#read}).
     */
    static final int MAX_LOAD_THREADS = 4;

    /** The threads that make a loaded model's matrices: the model's, at most one per processor and four. */
    static int loadThreads(CpuOptions options) {
        int processors = Math.max(1, Runtime.getRuntime().availableProcessors());
        return Math.min(Math.min(options.threads(), processors), MAX_LOAD_THREADS);
    }

    /** Where a model loaded with {@code options} keeps its large matrices: the request, or the heap where it cannot be met. */
    static WeightMemory memoryFor(CpuOptions options) {
        if (options.weightMemory() == WeightMemory.HEAP || !OffHeapMatrices.available()) {
            return WeightMemory.HEAP; // unavailable: OffHeapMatrices logged why, once
        }
        if (options.gemm() != null && options.weightType() == WeightType.F32) {
            log.info("f32 weights stay on the heap: the GEMM engine ({}) reads Java arrays",
                    options.gemm().getClass().getName());
            return WeightMemory.HEAP;
        }
        return options.weightMemory();
    }

    private static CpuMamba create(MambaWeights weights, CpuOptions options, boolean keepMaster) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(options, "options");
        InferenceWeights packed = new InferenceWeights(weights, options.weightType());
        return logged(new CpuMamba(keepMaster ? weights : null, packed, options), options);
    }

    private static CpuMamba logged(CpuMamba m, CpuOptions options) {
        log.debug("CPU Mamba model: {} layers, dModel {}, {} parameters, {} threads, {} weights on the {}{}",
                m.config.nLayer(), m.config.dModel(), m.config.parameterCount(), options.threads(),
                options.weightType(), m.offHeap != null ? "off-heap" : "heap", m.master != null ? "" : " (inference only)");
        int processors = Runtime.getRuntime().availableProcessors();
        if (options.threads() > processors) {
            // Not an error (a container may report fewer processors than it gets), but the pool's
            // workers spin between jobs, so threads beyond the cores mostly wait for one another.
            log.warn("{} threads for {} available processors: the model will run slower than with {}",
                    options.threads(), processors, processors);
        }
        return m;
    }

    /** A model with one thread per available processor. */
    public static CpuMamba create(MambaWeights weights) {
        return create(weights, CpuOptions.defaults());
    }

    /**
     * Per layer: A = -exp(A_log), and the conv weight in the tap-major layout of the decode step's
     * conv ({@link Kernels#convTaps}).
     */
    private record Derived(float[][] negA, float[][] convTaps) {
        static Derived of(InferenceWeights w) {
            MambaConfig c = w.config();
            float[][] a = new float[c.nLayer()][];
            float[][] taps = new float[c.nLayer()][];
            for (int l = 0; l < a.length; l++) {
                a[l] = MambaBlock.negExpA(w.vectors(l).aLog().data());
                taps[l] = Kernels.convTaps(w.vectors(l).convWeight().data(), c.dInner(), c.dConv());
            }
            return new Derived(a, taps);
        }
    }

    /** The master weights, or a clear failure for an inference-only model. */
    private MambaWeights master(String what) {
        if (master == null) {
            throw new IllegalStateException(what + " needs the f32 master weights, and this model keeps only its "
                    + packed.type() + " matrices" + (offHeap != null ? " off the heap" : "")
                    + " (made for inference); create it with CpuMamba.create"
                    + (offHeap != null ? ", or load it with f32 weights and WeightMemory.HEAP," : "") + " to train it");
        }
        return master;
    }

    @Override
    public MambaConfig config() {
        return config;
    }

    @Override
    public ForwardResult forward(int[][] tokens, boolean withHiddenStates) {
        checkOpen();
        int L = checkRectangular(tokens, "tokens");
        int B = tokens.length;
        int BT = checkedRows(B, L);
        int C = config.dModel();
        int V = config.vocabSize();
        checkFits("logits of tokens", (long) BT * V);
        int[] flat = flatten(tokens, L, "tokens");

        float[] residual = new float[BT * C];
        packed.embed(residual, flat, BT);
        List<FloatTensor> hidden = withHiddenStates ? new ArrayList<>() : null;
        runLayers(residual, B, L, null, null, hidden);
        float[] normed = new float[BT * C];
        RmsNorm.forward(normed, null, residual, packed.normF(), BT, C, config.normEps());
        if (hidden != null) {
            hidden.add(new FloatTensor(normed, B, L, C));
        }
        float[] logits = new float[BT * V];
        Linear.forward(par, logits, normed, 0, C, packed.head(), null, BT);
        return new ForwardResult(new FloatTensor(logits, B, L, V), hidden == null ? List.of() : hidden);
    }

    /**
     * The mean cross-entropy of {@code targets} given {@code inputs} over positions whose target is
     * not negative (NaN if there are none): {@link #lossAndGradients} without the gradients.
     */
    public double loss(int[][] inputs, int[][] targets) {
        checkOpen();
        int L = checkRectangular(inputs, "inputs");
        int Lt = checkRectangular(targets, "targets");
        if (targets.length != inputs.length || Lt != L) {
            throw new IllegalArgumentException("targets must have the shape of inputs [" + inputs.length + "][" + L
                    + "], got [" + targets.length + "][" + Lt + "]");
        }
        int[] flatTargets = new int[inputs.length * L];
        for (int b = 0; b < targets.length; b++) {
            for (int t = 0; t < L; t++) {
                int v = targets[b][t];
                if (v >= config.vocabSize()) {
                    throw new IllegalArgumentException("targets[" + b + "][" + t + "] = " + v
                            + " is outside [0, " + config.vocabSize() + ")");
                }
                flatTargets[b * L + t] = v;
            }
        }
        float[] logits = forward(inputs, false).logits().data();
        return CrossEntropy.forward(null, logits, flatTargets, inputs.length * L, config.vocabSize());
    }

    /** Runs every block over [B, L] rows of {@code residual}, in place. States may be null (zeros). */
    private void runLayers(float[] residual, int B, int L, float[][] conv, float[][] ssm, List<FloatTensor> hidden) {
        float[][] a = derived.negA();
        BlockActivations scratch = new BlockActivations(config, B, L, false);
        for (int l = 0; l < config.nLayer(); l++) {
            MambaBlock.forward(par, config, packed.vectors(l), packed.layer(l), a[l], residual, B, L, scratch,
                    conv == null ? null : conv[l], ssm == null ? null : ssm[l]);
            if (hidden != null) {
                hidden.add(new FloatTensor(residual.clone(), B, L, config.dModel()));
            }
        }
    }

    @Override
    public CpuMambaState newState(int batch) {
        checkOpen();
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        return new CpuMambaState(this, config, batch);
    }

    @Override
    public float[][] prefill(MambaState state, int[][] tokens) {
        checkOpen();
        CpuMambaState s = checkState(state);
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != s.batch) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " rows but the state's batch is " + s.batch);
        }
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b] == null) {
                throw new IllegalArgumentException("tokens[" + b + "] is null");
            }
            checkTokens(tokens[b], "tokens[" + b + "]");
        }
        // Rows of one length run together as one batch; ragged prompts become a few such groups.
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b].length > 0) {
                byLength.computeIfAbsent(tokens[b].length, k -> new ArrayList<>()).add(b);
            }
        }
        float[][] result = new float[s.batch][];
        for (Map.Entry<Integer, List<Integer>> e : byLength.entrySet()) {
            int[] rows = e.getValue().stream().mapToInt(Integer::intValue).toArray();
            float[][] logits = prefillRows(s, tokens, rows, e.getKey());
            for (int i = 0; i < rows.length; i++) {
                result[rows[i]] = logits[i];
                s.positions[rows[i]] += e.getKey();
            }
        }
        return result;
    }

    /**
     * The parallel path for scoring chunk by chunk: one pass over the chunk from the state, logits
     * at every position.
     */
    @Override
    public float[][][] prefillAll(MambaState state, int[][] tokens) {
        checkOpen();
        CpuMambaState s = checkState(state);
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != s.batch) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " rows but the state's batch is " + s.batch);
        }
        if (tokens[0] != null && tokens[0].length == 0 && Arrays.stream(tokens).allMatch(r -> r != null && r.length == 0)) {
            return new float[s.batch][0][];
        }
        int L = checkRectangular(tokens, "tokens");
        flatten(tokens, L, "tokens"); // checks every id before the state changes
        int B = s.batch;
        checkFits("logits of tokens", (long) B * L * config.vocabSize());
        int[] rows = new int[B];
        for (int b = 0; b < B; b++) {
            rows[b] = b;
        }
        float[][] flat = head(prefillResidual(s, tokens, rows, L), B * L);
        float[][][] out = new float[B][][];
        for (int b = 0; b < B; b++) {
            out[b] = Arrays.copyOfRange(flat, b * L, (b + 1) * L);
            s.positions[b] += L;
        }
        return out;
    }

    /** Prefills the given rows of the state (all with prompts of length L); returns their last logits. */
    private float[][] prefillRows(CpuMambaState s, int[][] tokens, int[] rows, int L) {
        int G = rows.length;
        int C = config.dModel();
        float[] residual = prefillResidual(s, tokens, rows, L);
        // Only the last position of each row is needed: the head is the largest product.
        float[] last = new float[G * C];
        for (int i = 0; i < G; i++) {
            System.arraycopy(residual, (i * L + L - 1) * C, last, i * C, C);
        }
        return head(last, G);
    }

    /**
     * Runs the given rows of the state (all with L tokens) through every block, advancing their conv
     * windows and SSM states; returns the final residual stream [rows.length * L, C].
     */
    private float[] prefillResidual(CpuMambaState s, int[][] tokens, int[] rows, int L) {
        int G = rows.length;
        int BT = checkedRows(G, L);
        int C = config.dModel();
        int D = config.dInner();
        int convRow = (config.dConv() - 1) * D;
        int ssmRow = D * config.dState();
        int nLayer = config.nLayer();
        boolean whole = G == s.batch; // every row in order: use the state's arrays directly
        for (int i = 0; i < G && whole; i++) {
            whole = rows[i] == i;
        }
        float[][] conv = whole ? s.conv : new float[nLayer][G * convRow];
        float[][] ssm = whole ? s.ssm : new float[nLayer][G * ssmRow];
        if (!whole) {
            for (int l = 0; l < nLayer; l++) {
                for (int i = 0; i < G; i++) {
                    System.arraycopy(s.conv[l], rows[i] * convRow, conv[l], i * convRow, convRow);
                    System.arraycopy(s.ssm[l], rows[i] * ssmRow, ssm[l], i * ssmRow, ssmRow);
                }
            }
        }
        int[] flat = new int[BT];
        for (int i = 0; i < G; i++) {
            System.arraycopy(tokens[rows[i]], 0, flat, i * L, L);
        }
        float[] residual = new float[BT * C];
        packed.embed(residual, flat, BT);
        runLayers(residual, G, L, conv, ssm, null);
        if (!whole) {
            for (int l = 0; l < nLayer; l++) {
                for (int i = 0; i < G; i++) {
                    System.arraycopy(conv[l], i * convRow, s.conv[l], rows[i] * convRow, convRow);
                    System.arraycopy(ssm[l], i * ssmRow, s.ssm[l], rows[i] * ssmRow, ssmRow);
                }
            }
        }
        return residual;
    }

    @Override
    public float[][] step(MambaState state, int[] tokens) {
        float[][] logits = new float[state == null ? 0 : state.batch()][config.vocabSize()];
        step(state, tokens, logits);
        return logits;
    }

    /**
     * The decode step without allocation: {@link Decoder} (scratch kept in the state) with the
     * inference weights. Same numbers as {@link #stepReference} up to float rounding.
     */
    @Override
    public void step(MambaState state, int[] tokens, float[][] logits) {
        checkOpen();
        CpuMambaState s = checkState(state);
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != s.batch) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " entries but the state's batch is " + s.batch);
        }
        checkTokens(tokens, "tokens");
        Objects.requireNonNull(logits, "logits");
        if (logits.length != s.batch) {
            throw new IllegalArgumentException("logits has " + logits.length + " rows but the state's batch is " + s.batch);
        }
        for (int b = 0; b < logits.length; b++) {
            if (logits[b] == null || logits[b].length < config.vocabSize()) {
                throw new IllegalArgumentException("logits[" + b + "] must hold " + config.vocabSize() + " values");
            }
        }
        if (s.decoder == null) {
            s.decoder = new Decoder(config, s.batch, par.threads(), packed);
        }
        Derived t = derived;
        s.decoder.step(par.pool(), packed, t.negA(), t.convTaps(), s, tokens, logits);
        for (int b = 0; b < s.batch; b++) {
            s.positions[b]++;
        }
    }

    /**
     * The readable recurrent step ({@link MambaBlock#step} per layer, f32 master weights), the
     * reference the decoder is tested against.
     */
    float[][] stepReference(MambaState state, int[] tokens) {
        checkOpen();
        MambaWeights weights = master("the reference step");
        CpuMambaState s = checkState(state);
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length != s.batch) {
            throw new IllegalArgumentException("tokens has " + tokens.length + " entries but the state's batch is " + s.batch);
        }
        checkTokens(tokens, "tokens");
        int B = s.batch;
        int C = config.dModel();
        float[] residual = new float[B * C];
        Embedding.forward(residual, tokens, weights.embedding().data(), B, C);
        float[][] a = derived.negA();
        MambaBlock.StepScratch scratch = new MambaBlock.StepScratch(config, B);
        for (int l = 0; l < config.nLayer(); l++) {
            MambaBlock.step(par, config, weights.layer(l), a[l], residual, B, scratch, s.conv[l], s.ssm[l]);
        }
        for (int b = 0; b < B; b++) {
            s.positions[b]++;
        }
        return head(residual, B);
    }

    /** norm_f then the head over [rows, C] final residuals: [rows][V] logits. */
    private float[][] head(float[] residual, int rows) {
        int C = config.dModel();
        int V = config.vocabSize();
        float[] normed = new float[rows * C];
        RmsNorm.forward(normed, null, residual, packed.normF(), rows, C, config.normEps());
        float[] logits = new float[rows * V];
        Linear.forward(par, logits, normed, 0, C, packed.head(), null, rows);
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(logits, r * V, (r + 1) * V);
        }
        return out;
    }

    /** Logits materialised at once by {@link #lossAndGradients}: the head runs over slabs of rows (~16 MB). */
    private static final int HEAD_SLAB_FLOATS = 1 << 22;

    /**
     * {@inheritDoc}
     *
     * <p>Runs the forward keeping each layer's activations (O(B·L·dInner) per layer; the scan's
     * [B, L, dInner, dState] states are never stored: its backward recomputes them chunk by chunk),
     * then the head and loss over slabs of rows, then every backward pass in reverse. The result is
     * the same bit for bit on every run and for any thread count. When no target is counted the loss
     * is NaN and {@code gradients} is left untouched.
     *
     * @throws IllegalArgumentException on ragged or mismatched arrays, a token or target outside the
     *                                  vocabulary, or gradients of another config
     */
    @Override
    public double lossAndGradients(int[][] inputs, int[][] targets, MambaWeights gradients) {
        checkOpen();
        MambaWeights weights = master("lossAndGradients");
        Objects.requireNonNull(gradients, "gradients");
        if (!gradients.config().equals(config)) {
            throw new IllegalArgumentException("gradients are for config " + gradients.config()
                    + " but the model's is " + config);
        }
        if (gradients == weights) {
            throw new IllegalArgumentException("gradients must not be the model's own weights");
        }
        int L = checkRectangular(inputs, "inputs");
        int B = inputs.length;
        int BT = checkedRows(B, L);
        int[] flat = flatten(inputs, L, "inputs");
        int[] flatTargets = checkedTargets(targets, B, L);
        int count = 0;
        for (int t : flatTargets) {
            if (t >= 0) {
                count++;
            }
        }
        if (count == 0) {
            return Double.NaN;
        }
        int C = config.dModel();
        int V = config.vocabSize();
        int nLayer = config.nLayer();
        float[][] a = derived.negA();

        // Forward, keeping every layer's activations.
        float[] residual = new float[BT * C];
        Embedding.forward(residual, flat, weights.embedding().data(), BT, C);
        BlockActivations[] acts = new BlockActivations[nLayer];
        for (int l = 0; l < nLayer; l++) {
            acts[l] = new BlockActivations(config, B, L, true);
            MambaBlock.forward(par, config, weights.layer(l), a[l], residual, B, L, acts[l], null, null);
        }
        float[] normed = new float[BT * C];
        float[] rstd = new float[BT];
        RmsNorm.forward(normed, rstd, residual, weights.normF().data(), BT, C, config.normEps());

        // Head, loss and their backward a slab of rows at a time: [BT, V] logits never exist at once.
        // The tied head's gradient lands in the embedding's, which the input side adds to below.
        float[] head = weights.head().data();
        float[] dHead = (config.tieEmbeddings() ? gradients.embedding() : gradients.untiedHead()).data();
        float[] dNormed = new float[BT * C];
        int slab = Math.max(1, Math.min(BT, HEAD_SLAB_FLOATS / V));
        float[] logits = new float[slab * V];
        float scale = 1f / count;
        double lossSum = 0;
        for (int r0 = 0; r0 < BT; r0 += slab) {
            int rows = Math.min(slab, BT - r0);
            Linear.forward(par, logits, normed, r0 * C, C, head, null, rows, C, V);
            lossSum += CrossEntropy.backward(par, logits, logits, flatTargets, r0, rows, V, scale); // in place
            Linear.backward(par, dNormed, r0 * C, C, dHead, null, logits, normed, r0 * C, C, head, rows, C, V);
        }

        // Backward through norm_f, the blocks in reverse, and the embedding.
        float[] dResidual = new float[BT * C];
        RmsNorm.backward(par, dResidual, gradients.normF().data(), dNormed, residual, rstd, weights.normF().data(), BT, C);
        BlockBackwardScratch scratch = new BlockBackwardScratch(config, B, L);
        for (int l = nLayer - 1; l >= 0; l--) {
            MambaBlock.backward(par, config, weights.layer(l), a[l], acts[l], dResidual, gradients.layer(l), scratch);
            acts[l] = null; // this layer's activations are dead: let the collector have them
        }
        Embedding.backward(par, gradients.embedding().data(), dResidual, flat, BT, C);
        return lossSum / count;
    }

    /** targets as one [B*L] array, checked against the inputs' shape and the vocabulary. */
    private int[] checkedTargets(int[][] targets, int B, int L) {
        Objects.requireNonNull(targets, "targets");
        if (targets.length != B) {
            throw new IllegalArgumentException("targets has " + targets.length + " rows but inputs has " + B);
        }
        int[] flat = new int[B * L];
        for (int b = 0; b < B; b++) {
            if (targets[b] == null || targets[b].length != L) {
                throw new IllegalArgumentException("targets[" + b + "] must have the inputs' length " + L + ", got "
                        + (targets[b] == null ? "null" : targets[b].length));
            }
            for (int t = 0; t < L; t++) {
                int v = targets[b][t];
                if (v >= config.vocabSize()) {
                    throw new IllegalArgumentException("targets[" + b + "][" + t + "] = " + v
                            + " is outside [0, " + config.vocabSize() + ")");
                }
                flat[b * L + t] = v;
            }
        }
        return flat;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException for a bf16 or int8 model made by {@link #forInference}, which
     *                               keeps no f32 master
     */
    @Override
    public MambaWeights weights() {
        return master("weights()");
    }

    /**
     * Whether this model keeps its f32 master weights (false for a bf16/int8 {@link #forInference},
     * and for any model loaded with its weights off the heap).
     */
    public boolean trainable() {
        return master != null;
    }

    /** The matrices the inference paths read, in the storage type of the options. */
    public InferenceWeights inferenceWeights() {
        return packed;
    }

    /**
     * Where the large matrices live: {@link WeightMemory#OFF_HEAP} or {@link WeightMemory#MAPPED} only
     * for a model loaded that way, where it was available.
     */
    public WeightMemory weightMemory() {
        return memory;
    }

    /**
     * Bytes of the large matrices held outside the heap: native memory allocated for them plus
     * checkpoint regions mapped (0 for heap weights). Mapped bytes take physical memory only as the
     * operating system pages them in, and are shared with other processes mapping the same file.
     */
    public long offHeapBytes() {
        return offHeap == null ? 0 : offHeap.allocatedBytes() + offHeap.mappedBytes();
    }

    /** Of {@link #offHeapBytes()}, the bytes mapped straight from the checkpoint (zero copy). */
    public long mappedBytes() {
        return offHeap == null ? 0 : offHeap.mappedBytes();
    }

    /** The model's thread count. */
    public int threads() {
        return par.threads();
    }

    /** Re-reads the master after an optimiser step; a model without a master has nothing to refresh. */
    @Override
    public void weightsUpdated() {
        if (master == null) {
            return;
        }
        derived = Derived.of(packed);
        packed.update(master);
    }

    /**
     * Shuts the thread pool down and frees off-heap weights (unmapping the checkpoint); later calls
     * throw {@link IllegalStateException}, as does a call still running on another thread that
     * reaches freed weights (it never reads freed memory).
     */
    @Override
    public void close() {
        closed = true;
        try {
            par.close();
        } finally {
            if (offHeap != null) {
                offHeap.close();
            }
        }
    }

    // ---- argument checks ----

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed" + (offHeap != null ? " (its off-heap weights are freed)" : ""));
        }
    }

    private CpuMambaState checkState(MambaState state) {
        Objects.requireNonNull(state, "state");
        if (!(state instanceof CpuMambaState s) || s.owner != this) {
            throw new IllegalArgumentException("state was not created by this model");
        }
        s.checkOpen();
        return s;
    }

    /** Checks a non-empty rectangular [rows][len] array and its token ids; returns len. */
    private int checkRectangular(int[][] tokens, String name) {
        Objects.requireNonNull(tokens, name);
        if (tokens.length == 0) {
            throw new IllegalArgumentException(name + " has no rows");
        }
        if (tokens[0] == null || tokens[0].length == 0) {
            throw new IllegalArgumentException(name + "[0] is " + (tokens[0] == null ? "null" : "empty"));
        }
        int L = tokens[0].length;
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b] == null) {
                throw new IllegalArgumentException(name + "[" + b + "] is null");
            }
            if (tokens[b].length != L) {
                throw new IllegalArgumentException(name + " is ragged: row 0 has " + L + " tokens, row " + b
                        + " has " + tokens[b].length);
            }
        }
        return L;
    }

    private int[] flatten(int[][] tokens, int L, String name) {
        int[] flat = new int[tokens.length * L];
        for (int b = 0; b < tokens.length; b++) {
            checkTokens(tokens[b], name + "[" + b + "]");
            System.arraycopy(tokens[b], 0, flat, b * L, L);
        }
        return flat;
    }

    private void checkTokens(int[] row, String name) {
        int V = config.vocabSize();
        for (int t = 0; t < row.length; t++) {
            if (row[t] < 0 || row[t] >= V) {
                throw new IllegalArgumentException(name + "[" + t + "] = " + row[t] + " is not a token id in [0, " + V + ")");
            }
        }
    }

    /** B*L rows, rejected when any per-row buffer of the pass would not fit one Java array. */
    private int checkedRows(int B, int L) {
        long bt = (long) B * L;
        long widest = Math.max(2L * config.dInner(), Math.max(config.dModel(), config.xProjOut()));
        checkFits("activations of tokens", bt * widest);
        return (int) bt;
    }

    private static void checkFits(String what, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(what + " would need " + n + " floats, more than one array holds; "
                    + "split the batch");
        }
    }
}
