package org.jmamba.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jmamba.FloatTensor;
import org.jmamba.LayerWeights;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.DType;
import org.jmamba.io.FileRegion;
import org.jmamba.io.ParallelLoads;
import org.jmamba.io.TensorSource;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;

/**
 * Everything the inference paths (forward, prefill, step) read: the large matrices — every block's
 * in_proj, x_proj, dt_proj and out_proj, the embedding and the head — in the storage type chosen
 * at load time, and the small per-channel tensors (norms, conv taps, A_log, D, biases) in f32,
 * shared with the master weights.
 *
 * <p>With {@link WeightType#F32} the packed matrices wrap the master arrays (no copy, always in
 * sync); with the others they hold a rounded copy that {@link #update} refreshes from the master.
 * This object holds no reference to the master's large arrays in that case, so a model that drops
 * the master ({@link CpuMamba#forInference}) keeps only the packed bytes. Training always uses the
 * master.
 *
 * <p>Read from a checkpoint with an {@link OffHeapMatrices} store, the large matrices live off the
 * heap instead: copied into the store's native memory (or mapped) from the file where it stores them
 * in exactly the weight type, else converted into native memory. The small tensors stay on the heap
 * either way.
 */
public final class InferenceWeights {
    private final WeightType type;
    private final MambaConfig config;
    private final LayerMatrices[] layers;
    /** Per block: the master's small tensors; the projection fields are null (they are in {@link #layers}). */
    private final LayerWeights[] vectors;
    private final float[] normF;
    final PackedMatrix head;
    /** The embedding rows: the head itself when the config ties them. */
    private final PackedMatrix embedding;

    /** The inference weights of {@code w} in {@code type} (f32 wraps the master's arrays). */
    public InferenceWeights(MambaWeights w, WeightType type) {
        this.type = type;
        this.config = w.config();
        MambaConfig c = config;
        layers = new LayerMatrices[c.nLayer()];
        vectors = new LayerWeights[c.nLayer()];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights lw = w.layer(l);
            layers[l] = LayerMatrices.of(c, lw, type);
            vectors[l] = vectorsOf(lw);
        }
        normF = w.normF().data();
        head = PackedMatrix.pack(w.head().data(), c.vocabSize(), c.dModel(), type);
        embedding = c.tieEmbeddings() ? head : PackedMatrix.pack(w.embedding().data(), c.vocabSize(), c.dModel(), type);
    }

    private InferenceWeights(MambaConfig config, WeightType type, LayerMatrices[] layers, LayerWeights[] vectors,
                             float[] normF, PackedMatrix head, PackedMatrix embedding) {
        this.config = config;
        this.type = type;
        this.layers = layers;
        this.vectors = vectors;
        this.normF = normF;
        this.head = head;
        this.embedding = embedding;
    }

    /**
     * Reads the inference weights of {@code config} from a checkpoint's tensors, packing each large
     * matrix into {@code type} as soon as it is read ({@link Checkpoints#visitEach}), on this thread:
     * the heap never holds more fp32 than the largest single matrix (the embedding), so a bf16 or
     * int8 model loads in about its packed size.
     *
     * @throws org.jmamba.io.CheckpointException if the tensors do not match the config
     */
    public static InferenceWeights read(TensorSource src, MambaConfig config, WeightType type) {
        return read(src, config, type, 1);
    }

    /**
     * {@link #read(TensorSource, MambaConfig, WeightType)} on {@code threads} threads: the large
     * matrices are read and packed by that many threads of the load's own, each matrix whole, so the
     * result is the same bits. The fp32 matrices being packed at once stay within the size of the
     * largest one, or within half the heap left free beside the packed model where that is more
     * ({@link ParallelLoads#ParallelLoads(int, long)}): more than one thread may then need the heap
     * of about one more matrix than a load on one thread, at its end.
     */
    public static InferenceWeights read(TensorSource src, MambaConfig config, WeightType type, int threads) {
        Objects.requireNonNull(type, "type");
        return read(src, config, type, threads, heapBudget(config, type, true), new MatrixMaker() {
            @Override
            public PackedMatrix make(String stored, int[] shape, Supplier<FloatTensor> data) {
                return pack(data.get(), type);
            }

            @Override
            public long heapTemporary(String stored, int[] shape) {
                return fp32Bytes(shape); // read as fp32, then packed
            }
        });
    }

    /**
     * {@link #read(TensorSource, MambaConfig, WeightType)} with the large matrices off the heap, in
     * {@code store} (which the caller owns and closes). A matrix the source stores in a file
     * ({@link TensorSource#fileRegion}) little-endian in exactly {@code type} (F32 as f32, BF16 as
     * bf16) is taken from the file's bytes as they are: mapped when {@code map} is true
     * ({@link WeightMemory#MAPPED}), else copied into the store ({@link WeightMemory#OFF_HEAP}). Any
     * other (F16 or F64 tensors, int8, torch checkpoints) is read as fp32 and converted into the
     * store, one tensor at a time. The result is the same bits as the heap form: the same rounding,
     * the same kernels' operation order.
     *
     * @throws org.jmamba.io.CheckpointException if the tensors do not match the config, or a
     *                                           tensor's data cannot be mapped or read
     */
    public static InferenceWeights read(TensorSource src, MambaConfig config, WeightType type, OffHeapMatrices store,
                                        boolean map) {
        return read(src, config, type, store, map, 1);
    }

    /**
     * {@link #read(TensorSource, MambaConfig, WeightType, OffHeapMatrices, boolean)} on {@code threads}
     * threads of the load's own, each large matrix made whole by one of them (the same bits). When it
     * throws, no thread of the load is still writing into {@code store}.
     */
    public static InferenceWeights read(TensorSource src, MambaConfig config, WeightType type, OffHeapMatrices store,
                                        boolean map, int threads) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(store, "store");
        return read(src, config, type, threads, heapBudget(config, type, false), new MatrixMaker() {
            @Override
            public PackedMatrix make(String stored, int[] shape, Supplier<FloatTensor> data) {
                return offHeap(src, stored, shape, data, type, store, map);
            }

            @Override
            public long heapTemporary(String stored, int[] shape) {
                return keptAsStored(src, stored, type) ? 0 : fp32Bytes(shape); // else read as fp32
            }
        });
    }

    /** Makes one large matrix of its name in the source, its validated shape and its (lazy) fp32 data. */
    private interface MatrixMaker {
        PackedMatrix make(String stored, int[] shape, Supplier<FloatTensor> data);

        /** The fp32 temporary that making it holds on the heap, in bytes (0: none). */
        long heapTemporary(String stored, int[] shape);
    }

    private static long fp32Bytes(int[] shape) {
        return 4L * shape[0] * shape[1];
    }

    /**
     * The heap that the fp32 temporaries of a load on several threads may take at once
     * ({@link ParallelLoads}): at least the largest fp32 matrix of {@code c} (what a load on one
     * thread holds beside the model), more only where the heap has room for it: half of what is
     * free now, less the packed matrices still to come when they go on the heap.
     */
    private static long heapBudget(MambaConfig c, WeightType type, boolean packedOnHeap) {
        long largest = 0;
        long weights = 0; // of the large matrices
        for (Map.Entry<String, int[]> e : MambaWeights.expectedShapes(c).entrySet()) {
            if (isLargeMatrix(e.getKey())) {
                long n = (long) e.getValue()[0] * e.getValue()[1];
                largest = Math.max(largest, n);
                weights += n;
            }
        }
        double bytesPerWeight = switch (type) {
            case F32 -> 4;
            case BF16 -> 2;
            case INT8 -> 1.125;
        };
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long room = (free - (packedOnHeap ? (long) (weights * bytesPerWeight) : 0)) / 2;
        return Math.max(4L * largest, room);
    }

    private static InferenceWeights read(TensorSource src, MambaConfig config, WeightType type, int threads,
                                         long heapBudget, MatrixMaker maker) {
        MambaConfig c = config;
        PackedMatrix[][] projections = new PackedMatrix[c.nLayer()][4];
        Map<String, FloatTensor> small = new HashMap<>();
        PackedMatrix[] embeddingAndHead = new PackedMatrix[2];
        try (ParallelLoads<PackedMatrix> loads = new ParallelLoads<>(threads, heapBudget)) {
            loads.visit(() -> Checkpoints.visitEach(src, c, (name, stored, shape, data) -> {
                int projection = PROJECTIONS.indexOf(projectionName(name));
                Consumer<PackedMatrix> sink;
                if (name.equals(EMBEDDING)) {
                    sink = m -> embeddingAndHead[0] = m;
                } else if (name.equals(HEAD)) {
                    sink = m -> embeddingAndHead[1] = m;
                } else if (projection >= 0) {
                    int layer = layerIndex(name);
                    sink = m -> projections[layer][projection] = m;
                } else {
                    small.put(name, data.get()); // the small tensors on this thread, meanwhile
                    return;
                }
                loads.submit(() -> maker.make(stored, shape, data), maker.heapTemporary(stored, shape), sink);
            }));
        }
        LayerMatrices[] layers = new LayerMatrices[c.nLayer()];
        LayerWeights[] vectors = new LayerWeights[c.nLayer()];
        for (int l = 0; l < layers.length; l++) {
            PackedMatrix[] p = projections[l];
            layers[l] = new LayerMatrices(p[0], p[1], p[2], p[3]);
            String n = LAYERS + l + ".";
            vectors[l] = new LayerWeights(small.get(n + "norm.weight"), null, small.get(n + "mixer.in_proj.bias"),
                    small.get(n + "mixer.conv1d.weight"), small.get(n + "mixer.conv1d.bias"), null, null,
                    small.get(n + "mixer.dt_proj.bias"), small.get(n + "mixer.A_log"), small.get(n + "mixer.D"), null,
                    small.get(n + "mixer.out_proj.bias"));
        }
        PackedMatrix embedding = embeddingAndHead[0];
        PackedMatrix head = c.tieEmbeddings() ? embedding : embeddingAndHead[1];
        return new InferenceWeights(c, type, layers, vectors, small.get("backbone.norm_f.weight").data(), head, embedding);
    }

    /**
     * One large matrix into {@code store}: mapped or copied byte for byte when the source stores it
     * in a file as exactly {@code type}, else read and converted.
     */
    private static PackedMatrix offHeap(TensorSource src, String stored, int[] shape, Supplier<FloatTensor> data,
                                        WeightType type, OffHeapMatrices store, boolean map) {
        int rows = shape[0];
        int cols = shape[1];
        if (keptAsStored(src, stored, type)) {
            FileRegion r = src.fileRegion(stored).orElseThrow();
            long want = (long) rows * cols * src.info(stored).dtype().byteSize();
            try {
                // The source checked the region when it opened the file; the file may have
                // changed since, and reading a mapping past its end would crash the JVM.
                long size = Files.size(r.file());
                if (r.length() != want || r.end() > size) {
                    throw CheckpointException.tensor(r.file(), stored, "data of " + r.length() + " bytes at "
                            + r.offset() + " (" + want + " expected) lies outside the file of " + size
                            + " bytes (was it changed while loading?)");
                }
                return map ? store.map(r.file(), r.offset(), rows, cols, type)
                        : store.copy(r.file(), r.offset(), rows, cols, type);
            } catch (IOException e) {
                throw CheckpointException.tensor(r.file(), stored, "cannot " + (map ? "map" : "read") + " its data: " + e, e);
            }
        }
        FloatTensor t = data.get();
        if (PackedMatrix.fasterOnHeap(type, cols)) {
            return PackedMatrix.pack(t.data(), rows, cols, type); // same bits, a third of the time
        }
        return store.pack(t.data(), rows, cols, type);
    }

    /**
     * Whether the source holds the tensor in a file in exactly {@code type}'s layout, so that it is
     * copied or mapped as it is rather than read as fp32 and converted.
     */
    private static boolean keptAsStored(TensorSource src, String stored, WeightType type) {
        return src.fileRegion(stored).isPresent() && storedAs(src.info(stored).dtype(), type);
    }

    /** Whether a tensor stored as {@code dtype} is already in {@code type}'s layout (little-endian f32, bf16). */
    private static boolean storedAs(DType dtype, WeightType type) {
        return (dtype == DType.F32 && type == WeightType.F32) || (dtype == DType.BF16 && type == WeightType.BF16);
    }

    private static final String EMBEDDING = "backbone.embeddings.weight";
    private static final String HEAD = "lm_head.weight";

    /** Whether the tensor of this (Hugging Face) name is a large matrix: packed, and made on the load's threads. */
    private static boolean isLargeMatrix(String name) {
        return name.equals(EMBEDDING) || name.equals(HEAD) || PROJECTIONS.contains(projectionName(name));
    }

    /** The packed projections of a block, in {@link LayerMatrices}' order, by their name after "mixer.". */
    private static final List<String> PROJECTIONS = List.of("in_proj.weight", "x_proj.weight", "dt_proj.weight",
            "out_proj.weight");
    private static final String LAYERS = "backbone.layers.";

    /** "in_proj.weight" for "backbone.layers.3.mixer.in_proj.weight"; "" for a tensor outside a mixer. */
    private static String projectionName(String name) {
        int i = name.indexOf(".mixer.");
        return name.startsWith(LAYERS) && i >= 0 ? name.substring(i + ".mixer.".length()) : "";
    }

    /** 3 for "backbone.layers.3.mixer.in_proj.weight" (names are validated before they get here). */
    private static int layerIndex(String name) {
        return Integer.parseInt(name.substring(LAYERS.length(), name.indexOf('.', LAYERS.length())));
    }

    private static PackedMatrix pack(FloatTensor t, WeightType type) {
        // heap: F32 wraps the array just read (no copy), the others copy and round it
        return PackedMatrix.pack(t.data(), t.shape()[0], t.shape()[1], type);
    }

    /** {@code lw}'s small tensors, shared; the projection fields are null. */
    private static LayerWeights vectorsOf(LayerWeights lw) {
        return new LayerWeights(lw.norm(), null, lw.inProjBias(), lw.convWeight(), lw.convBias(), null, null,
                lw.dtBias(), lw.aLog(), lw.d(), null, lw.outProjBias());
    }

    /** The model's config. */
    public MambaConfig config() {
        return config;
    }

    public WeightType type() {
        return type;
    }

    /** Block {@code l}'s projections. */
    public LayerMatrices layer(int l) {
        return layers[l];
    }

    /**
     * Block {@code l}'s small tensors (norm, biases, conv taps, A_log, D), shared with the master;
     * its projection fields are null: the projections are {@link #layer(int)}.
     */
    public LayerWeights vectors(int l) {
        return vectors[l];
    }

    /** The output head [vocabSize, dModel]. */
    public PackedMatrix head() {
        return head;
    }

    /** The embedding [vocabSize, dModel] (the same object as {@link #head()} when tied). */
    public PackedMatrix embedding() {
        return embedding;
    }

    /** The final norm's weight [dModel] (the master's array). */
    public float[] normF() {
        return normF;
    }

    /** Embeds {@code tokens[0..n)} (checked ids) into rows of {@code out} [n, dModel]. */
    void embed(float[] out, int[] tokens, int n) {
        int C = config.dModel();
        for (int i = 0; i < n; i++) {
            embedding.row(tokens[i], out, i * C);
        }
    }

    /** Re-reads the master weights after they changed in place (no-op for f32, which wraps them). */
    public void update(MambaWeights w) {
        if (type == WeightType.F32) {
            return;
        }
        for (int l = 0; l < layers.length; l++) {
            layers[l].update(w.layer(l));
        }
        head.update(w.head().data());
        if (embedding != head) {
            embedding.update(w.embedding().data());
        }
    }

    /** Bytes the packed matrices occupy in addition to the master weights (0 for f32). */
    public long extraBytes() {
        return type == WeightType.F32 ? 0 : matrixBytes();
    }

    /** Bytes of the packed matrices (all layers, the head and an untied embedding). */
    public long matrixBytes() {
        long b = head.bytes() + (embedding != head ? embedding.bytes() : 0);
        for (LayerMatrices m : layers) {
            b += m.bytes();
        }
        return b;
    }

    /**
     * Bytes of weights one decode step reads for one sequence: every packed matrix once, every
     * small f32 tensor of every block (norm, conv taps and bias, dt bias, A, D, biases), norm_f
     * and one embedding row. This is the traffic the memory-bandwidth floor is computed from (an
     * untied embedding is not read whole, so only its row counts).
     */
    public long decodeBytesPerToken() {
        MambaConfig c = config;
        long small = c.dModel()                                   // norm
                + (long) c.dInner() * c.dConv() + (c.convBias() ? c.dInner() : 0)
                + c.dInner()                                         // dt bias
                + (long) c.dInner() * c.dState()                     // A
                + c.dInner()                                         // D
                + (c.projBias() ? 2L * c.dInner() + c.dModel() : 0);
        long matrices = matrixBytes() - (embedding != head ? embedding.bytes() : 0);
        return matrices + embedding.bytes() / c.vocabSize() + 4L * (small * c.nLayer() + c.dModel());
    }
}
