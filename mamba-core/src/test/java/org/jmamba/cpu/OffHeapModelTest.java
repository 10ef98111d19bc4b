package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jmamba.Mamba;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.DType;
import org.jmamba.io.FileRegion;
import org.jmamba.io.GoldenFiles;
import org.jmamba.io.TensorInfo;
import org.jmamba.io.TensorSource;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.jmamba.io.safetensors.SafetensorsWriter;
import org.jmamba.kernels.OffHeapMatrices;
import org.jmamba.kernels.PackedMatrix;
import org.jmamba.kernels.WeightType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models loaded with their weights off the heap ({@link WeightMemory#OFF_HEAP}, {@link WeightMemory#MAPPED}: copied or mapped from the
 * checkpoint, or converted into native memory) compute exactly the logits of the same checkpoint
 * loaded on the heap, for every weight type and every checkpoint kind; a closed one refuses to run;
 * bad checkpoints fail as on the heap; the heap stays selectable, and is what a JVM without the Java
 * 22 layer gets.
 */
class OffHeapModelTest {
    private static final Path TINY = GoldenFiles.tiny();

    @BeforeEach
    void needsTheJava22Layer() {
        assumeTrue(OffHeapMatrices.available(), "off-heap weights unavailable: " + OffHeapMatrices.unavailableReason());
    }

    private static CpuOptions options(WeightType type, WeightMemory memory) {
        return new CpuOptions(2, type).withWeightMemory(memory);
    }

    private static CpuMamba load(Path dir, WeightType type, WeightMemory memory) {
        return (CpuMamba) Mamba.load(dir, options(type, memory));
    }

    /** Token rows long enough that forward and prefill take the panel product (more than 16 rows). */
    private static int[][] tokens(Random rnd, int batch, int len, int vocab) {
        int[][] t = new int[batch][len];
        for (int[] row : t) {
            for (int i = 0; i < len; i++) {
                row[i] = rnd.nextInt(vocab);
            }
        }
        return t;
    }

    /** forward (many rows), prefill and decode steps at batch 1 and 3 (the fused kernels): all bit-equal. */
    private static void assertSameBits(CpuMamba heap, CpuMamba off, String what) {
        Random rnd = new Random(11);
        int V = heap.config().vocabSize();
        int[][] t = tokens(rnd, 2, 13, V);
        assertArrayEquals(heap.forward(t, true).logits().data(), off.forward(t, true).logits().data(), what + " forward");
        for (int batch : new int[] {1, 3}) {
            int[][] prompt = tokens(rnd, batch, 7, V);
            try (MambaState s1 = heap.newState(batch); MambaState s2 = off.newState(batch)) {
                float[][] p1 = heap.prefill(s1, prompt);
                float[][] p2 = off.prefill(s2, prompt);
                for (int b = 0; b < batch; b++) {
                    assertArrayEquals(p1[b], p2[b], what + " prefill, batch " + batch + " row " + b);
                }
                for (int step = 0; step < 3; step++) {
                    int[] next = tokens(rnd, 1, batch, V)[0];
                    float[][] l1 = heap.step(s1, next);
                    float[][] l2 = off.step(s2, next);
                    for (int b = 0; b < batch; b++) {
                        assertArrayEquals(l1[b], l2[b], what + " step " + step + ", batch " + batch + " row " + b);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightType.class)
    void theGoldenTinyModelGivesTheSameBitsOnAndOffTheHeap(WeightType type) {
        for (WeightMemory memory : new WeightMemory[] {WeightMemory.OFF_HEAP, WeightMemory.MAPPED}) {
            try (CpuMamba heap = load(TINY, type, WeightMemory.HEAP); CpuMamba off = load(TINY, type, memory)) {
                assertEquals(WeightMemory.HEAP, heap.weightMemory());
                assertEquals(0, heap.offHeapBytes());
                assertEquals(memory, off.weightMemory());
                assertFalse(off.trainable(), "off-heap weights are for inference only");
                long matrices = off.inferenceWeights().matrixBytes();
                // the f32 checkpoint holds f32: as f32 every matrix is mapped (MAPPED) or copied
                // (OFF_HEAP); as bf16/int8 converted into native memory
                boolean mapped = type == WeightType.F32 && memory == WeightMemory.MAPPED;
                assertEquals(mapped ? matrices : 0, off.mappedBytes(), memory + " " + type);
                assertEquals(matrices, off.offHeapBytes());
                assertSameBits(heap, off, type + " " + memory);
            }
        }
    }

    /**
     * The large matrices are made on the load's own threads, one matrix per thread at a time
     * ({@link org.jmamba.io.ParallelLoads}): any thread count gives the same bits, on the heap and off it.
     */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void theThreadsThatLoadAModelDoNotChangeItsBits(WeightType type) {
        for (WeightMemory memory : WeightMemory.values()) {
            try (CpuMamba one = (CpuMamba) Mamba.load(TINY, new CpuOptions(1, type).withWeightMemory(memory));
                 CpuMamba three = (CpuMamba) Mamba.load(TINY, new CpuOptions(3, type).withWeightMemory(memory))) {
                assertEquals(one.offHeapBytes(), three.offHeapBytes(), type + " " + memory);
                assertEquals(one.mappedBytes(), three.mappedBytes(), type + " " + memory);
                assertSameBits(one, three, type + " " + memory + ", loaded on 1 and 3 threads");
            }
        }
    }

    /** A bf16 checkpoint loaded as bf16: the zero-copy mapping of bf16 bit patterns. */
    @Test
    void aBf16CheckpointIsMappedAsItIsStored(@TempDir Path dir) throws IOException {
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(TINY.resolve("model-bf16.safetensors"), dir.resolve(Checkpoints.SAFETENSORS_FILE));
        try (CpuMamba heap = load(dir, WeightType.BF16, WeightMemory.HEAP);
             CpuMamba mapped = load(dir, WeightType.BF16, WeightMemory.MAPPED);
             CpuMamba copied = load(dir, WeightType.BF16, WeightMemory.OFF_HEAP)) {
            assertEquals(mapped.inferenceWeights().matrixBytes(), mapped.mappedBytes());
            assertEquals(mapped.mappedBytes(), mapped.offHeapBytes(), "nothing converted");
            assertSameBits(heap, mapped, "bf16 file as bf16, mapped");
            assertEquals(0, copied.mappedBytes());
            assertEquals(copied.inferenceWeights().matrixBytes(), copied.offHeapBytes(), "copied into native memory");
            assertSameBits(heap, copied, "bf16 file as bf16, copied");
        }
        // the same file into f32 and int8: widened / quantised into native memory, same bits as the heap
        for (WeightType type : new WeightType[] {WeightType.F32, WeightType.INT8}) {
            try (CpuMamba heap = load(dir, type, WeightMemory.HEAP); CpuMamba off = load(dir, type, WeightMemory.MAPPED)) {
                assertEquals(0, off.mappedBytes());
                assertSameBits(heap, off, "bf16 file as " + type);
            }
        }
    }

    /** mamba_ssm safetensors, pytorch_model.bin (converted) and sharded safetensors (mapped from the shards). */
    @ParameterizedTest
    @EnumSource(value = WeightType.class, names = {"F32", "BF16"})
    void everyCheckpointKindLoadsOffTheHeap(WeightType type, @TempDir Path dir) throws IOException {
        Path ssm = TINY.resolve("ssm-format");
        MambaConfig ssmConfig = ConfigJson.read(ssm.resolve("config.json")).config();
        for (Path weights : List.of(ssm.resolve("model.safetensors"), ssm.resolve("pytorch_model.bin"))) {
            try (TensorSource a = Checkpoints.openWeights(weights); TensorSource b = Checkpoints.openWeights(weights);
                 CpuMamba heap = CpuMamba.forInference(a, ssmConfig, options(type, WeightMemory.HEAP));
                 CpuMamba off = CpuMamba.forInference(b, ssmConfig, options(type, WeightMemory.MAPPED))) {
                boolean torch = weights.getFileName().toString().endsWith(".bin");
                assertEquals(torch || type != WeightType.F32 ? 0 : off.inferenceWeights().matrixBytes(), off.mappedBytes(),
                        weights + ": a torch zip is converted, an f32 safetensors file mapped");
                assertSameBits(heap, off, weights.getFileName() + " as " + type);
            }
        }
        // sharded: the golden model split in two shards
        Map<String, String> weightMap = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(TINY.resolve("model.safetensors"))) {
            SafetensorsWriter first = new SafetensorsWriter();
            SafetensorsWriter second = new SafetensorsWriter();
            List<String> names = f.names();
            for (int i = 0; i < names.size(); i++) {
                String n = names.get(i);
                boolean one = i < names.size() / 2;
                (one ? first : second).addFloats(n, DType.F32, f.readFloats(n), f.info(n).intShape(f.path()));
                weightMap.put(n, one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            }
            first.write(dir.resolve("model-00001-of-00002.safetensors"));
            second.write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        List<String> entries = new ArrayList<>();
        weightMap.forEach((k, v) -> entries.add("\"" + k + "\": \"" + v + "\""));
        Files.writeString(dir.resolve(Checkpoints.SAFETENSORS_INDEX_FILE),
                "{\"metadata\": {}, \"weight_map\": {" + String.join(", ", entries) + "}}");
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        try (CpuMamba heap = load(dir, type, WeightMemory.HEAP); CpuMamba off = load(dir, type, WeightMemory.MAPPED);
             CpuMamba copied = load(dir, type, WeightMemory.OFF_HEAP)) {
            assertEquals(type == WeightType.F32 ? off.inferenceWeights().matrixBytes() : 0, off.mappedBytes());
            assertSameBits(heap, off, "sharded as " + type + ", mapped");
            assertEquals(0, copied.mappedBytes());
            assertSameBits(heap, copied, "sharded as " + type + ", copied");
        }
    }

    /**
     * int8 rows of one block or one and a half (dt_proj at d_model 512 or 768) stay on the heap,
     * where the array kernel takes them 16 at a time ({@link PackedMatrix#fasterOnHeap}); the bits
     * are the same either way. Where that kernel does not run (not 16 lanes), nothing stays.
     */
    @ParameterizedTest
    @ValueSource(ints = {32, 48})
    void shortInt8RowsStayOnTheHeap(int dtRank, @TempDir Path dir) {
        Random rnd = new Random(dtRank);
        MambaConfig c = new MambaConfig(64, 2, 300, 16, 4, 128, dtRank, false, true, 1e-5, true, true);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        SafetensorsWriter out = new SafetensorsWriter();
        w.named().forEach((n, t) -> out.addFloats(n, DType.F32, t.data(), t.shape()));
        Path st = dir.resolve("model.safetensors");
        out.write(st);
        try (TensorSource src = SafetensorsFile.open(st);
             CpuMamba heap = CpuMamba.forInference(src, c, options(WeightType.INT8, WeightMemory.HEAP));
             CpuMamba off = CpuMamba.forInference(src, c, options(WeightType.INT8, WeightMemory.OFF_HEAP))) {
            long dtProj = 0;
            for (int l = 0; l < c.nLayer(); l++) {
                dtProj += off.inferenceWeights().layer(l).dtProj().bytes();
            }
            long kept = PackedMatrix.fasterOnHeap(WeightType.INT8, dtRank) ? dtProj : 0;
            assertEquals(off.inferenceWeights().matrixBytes() - kept, off.offHeapBytes(), "dt_rank " + dtRank);
            assertSameBits(heap, off, "int8, dt_rank " + dtRank);
        }
    }

    /** A tied head stored beside the embedding is still checked against it, and then loads. */
    @Test
    void aStoredTiedHeadIsCheckedOffTheHeapToo(@TempDir Path dir) {
        Random rnd = new Random(4);
        MambaConfig r = TestModels.randomConfig(rnd);
        MambaConfig c = new MambaConfig(r.dModel(), r.nLayer(), r.vocabSize(), r.dState(), r.dConv(), r.dInner(),
                r.dtRank(), r.projBias(), r.convBias(), r.normEps(), r.residualInFp32(), true);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        for (boolean same : new boolean[] {true, false}) {
            SafetensorsWriter out = new SafetensorsWriter();
            w.named().forEach((n, t) -> out.addFloats(n, DType.F32, t.data(), t.shape()));
            float[] head = w.embedding().data().clone();
            if (!same) {
                head[3] += 1f;
            }
            out.addFloats("lm_head.weight", DType.F32, head, c.vocabSize(), c.dModel());
            Path st = dir.resolve("model-" + same + ".safetensors");
            out.write(st);
            try (TensorSource src = SafetensorsFile.open(st)) {
                if (same) {
                    try (CpuMamba off = CpuMamba.forInference(src, c, options(WeightType.F32, WeightMemory.OFF_HEAP));
                         CpuMamba heap = CpuMamba.create(w, new CpuOptions(2))) {
                        assertSameBits(heap, off, "tied head stored");
                    }
                } else {
                    CheckpointException e = assertThrows(CheckpointException.class,
                            () -> CpuMamba.forInference(src, c, options(WeightType.F32, WeightMemory.OFF_HEAP)));
                    assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("differs"), e.getMessage());
                }
            }
        }
    }

    @Test
    void aClosedModelThrowsIllegalStateExceptionAndNeverReadsFreedMemory() {
        CpuMamba m = load(TINY, WeightType.BF16, WeightMemory.OFF_HEAP);
        MambaState s = m.newState(1);
        m.step(s, new int[] {1});
        PackedMatrix inProj = m.inferenceWeights().layer(0).inProj();
        m.close();
        int[][] t = {{1, 2, 3}};
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(t, false));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> m.newState(1));
        assertThrows(IllegalStateException.class, () -> m.step(s, new int[] {1}));
        assertThrows(IllegalStateException.class, () -> m.prefill(s, t));
        // a matrix kept from the model is freed with it: it throws rather than reading freed memory
        float[] in = new float[inProj.cols()];
        float[] out = new float[inProj.rows()];
        e = assertThrows(IllegalStateException.class,
                () -> inProj.multiply(in, 0, in.length, out, 0, out.length, null, 0, 1, 0, out.length, null));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        m.close(); // idempotent
    }

    @Test
    void theHeapStaysSelectableAndAnF32ModelThereStaysTrainable() {
        try (CpuMamba m = load(TINY, WeightType.F32, WeightMemory.HEAP)) {
            assertEquals(WeightMemory.HEAP, m.weightMemory());
            assertTrue(m.trainable());
            assertEquals(0, m.offHeapBytes());
        }
        assertEquals(WeightMemory.OFF_HEAP, new CpuOptions(1).weightMemory(), "off the heap by default");
        assertEquals(WeightMemory.OFF_HEAP, WeightMemory.parse("off-heap"));
        assertEquals(WeightMemory.MAPPED, WeightMemory.parse("Mapped"));
        assertEquals(WeightMemory.HEAP, WeightMemory.parse("HEAP"));
        assertThrows(IllegalArgumentException.class, () -> WeightMemory.parse("disk"));
        // models made from weights in memory always use the heap (training reads the master)
        Random rnd = new Random(3);
        MambaWeights w = TestModels.randomWeights(TestModels.randomConfig(rnd), rnd);
        try (CpuMamba m = CpuMamba.create(w, new CpuOptions(1).withWeightMemory(WeightMemory.OFF_HEAP))) {
            assertEquals(WeightMemory.HEAP, m.weightMemory());
            assertTrue(m.trainable());
        }
        try (CpuMamba off = load(TINY, WeightType.F32, WeightMemory.OFF_HEAP)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, off::weights);
            assertTrue(e.getMessage().contains("WeightMemory.HEAP"), e.getMessage());
        }
    }

    /** A JVM where the layer is off (here by the property; on Java 21 by its version) loads onto the heap and says why. */
    @Test
    void withoutTheLayerLoadingFallsBackToTheHeapAndLogsWhy() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "-D" + OffHeapMatrices.PROPERTY + "=false"));
        // the vector width must be this JVM's for the bits to be comparable (e.g. -XX:UseAVX=2)
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:UseAVX") || arg.startsWith("-XX:MaxVectorSize")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), OffHeapFallbackMain.class.getName(),
                TINY.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("memory=HEAP"), out);
        assertTrue(out.contains("weights stay on the Java heap: disabled by -D" + OffHeapMatrices.PROPERTY + "=false"), out);
        try (CpuMamba heap = load(TINY, WeightType.F32, WeightMemory.HEAP)) {
            float[] logits = heap.forward(new int[][] {OffHeapFallbackMain.TOKENS}, false).logits().data();
            assertTrue(out.contains("logits=" + OffHeapFallbackMain.hex(logits)), "the fallback computes the heap model's bits");
        }
    }

    // ---- bad input gives the heap path's clear CheckpointException

    @ParameterizedTest
    @EnumSource(WeightMemory.class)
    void tensorDataOutsideTheFileIsRejectedNamingTheFile(WeightMemory memory, @TempDir Path dir) throws IOException {
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        byte[] all = Files.readAllBytes(TINY.resolve("model.safetensors"));
        Path st = dir.resolve(Checkpoints.SAFETENSORS_FILE);
        Files.write(st, java.util.Arrays.copyOf(all, all.length - 100)); // the last tensor ends past the end
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(dir, WeightType.F32, memory));
        assertTrue(e.getMessage().contains(st.toString()), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(WeightMemory.class)
    void anIntegerTensorIsRejectedNamingIt(WeightMemory memory, @TempDir Path dir) throws IOException {
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter out = new SafetensorsWriter();
        String bad = "backbone.layers.1.mixer.in_proj.weight";
        try (SafetensorsFile f = SafetensorsFile.open(TINY.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                int[] shape = f.info(n).intShape(f.path());
                if (n.equals(bad)) {
                    out.addInts(n, new int[f.readFloats(n).length], shape);
                } else {
                    out.addFloats(n, DType.F32, f.readFloats(n), shape);
                }
            }
        }
        out.write(dir.resolve(Checkpoints.SAFETENSORS_FILE));
        for (WeightType type : WeightType.values()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> load(dir, type, memory));
            assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("integer dtype"), e.getMessage());
        }
    }

    /** The mapping re-checks the region against the file (it may have changed since it was opened). */
    @Test
    void aRegionBeyondTheFileIsACheckpointExceptionNotACrash() {
        MambaConfig c = ConfigJson.read(TINY.resolve("config.json")).config();
        String bad = "backbone.layers.0.mixer.out_proj.weight";
        try (SafetensorsFile f = SafetensorsFile.open(TINY.resolve("model.safetensors"))) {
            TensorSource lying = new Lying(f, bad);
            for (WeightMemory memory : new WeightMemory[] {WeightMemory.OFF_HEAP, WeightMemory.MAPPED}) {
                CheckpointException e = assertThrows(CheckpointException.class,
                        () -> CpuMamba.forInference(lying, c, options(WeightType.F32, memory)));
                assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("outside the file"), e.getMessage());
            }
        }
    }

    /** A source whose file region for one tensor lies past the end of its file. */
    private record Lying(SafetensorsFile f, String bad) implements TensorSource {
        @Override
        public Path path() {
            return f.path();
        }

        @Override
        public List<String> names() {
            return f.names();
        }

        @Override
        public boolean contains(String name) {
            return f.contains(name);
        }

        @Override
        public TensorInfo info(String name) {
            return f.info(name);
        }

        @Override
        public InputStream openRaw(String name) {
            return f.openRaw(name);
        }

        @Override
        public Optional<FileRegion> fileRegion(String name) {
            FileRegion r = f.fileRegion(name).orElseThrow();
            return Optional.of(name.equals(bad) ? new FileRegion(r.file(), r.offset() + 1_000_000, r.length()) : r);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void heapFallbackOfAnF32ModelWithAGemmEngine() {
        // An engine reads Java arrays: f32 weights stay on the heap even when off-heap is asked for.
        CpuOptions o = new CpuOptions(1, WeightType.F32).withGemm(new org.jmamba.kernels.GemmProvider() {
            @Override
            public boolean accepts(int m, int n, int k) {
                return false;
            }

            @Override
            public void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                               float[] bias, boolean accumulate, int m, int n, int k) {
                throw new AssertionError();
            }

            @Override
            public void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                               boolean accumulate, int m, int n, int k) {
                throw new AssertionError();
            }

            @Override
            public void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                               boolean accumulate, int m, int n, int k) {
                throw new AssertionError();
            }
        });
        assertEquals(WeightMemory.HEAP, CpuMamba.memoryFor(o));
        assertEquals(WeightMemory.OFF_HEAP, CpuMamba.memoryFor(o.withWeightType(WeightType.BF16)));
    }
}
