package org.jmamba.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.jmamba.FloatTensor;
import org.jmamba.Mamba;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;
import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.DType;
import org.jmamba.io.TokenIds;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.jmamba.io.safetensors.SafetensorsWriter;
import org.jmamba.kernels.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CpuMamba#forInference}: a bf16/int8 model that keeps no f32 master computes exactly what
 * the trainable model of the same weight type computes, refuses the training calls with a clear
 * message, and lets the master's large arrays be collected.
 */
class InferenceOnlyModelTest {

    @ParameterizedTest
    @EnumSource(WeightType.class)
    void givesTheSameLogitsAsTheTrainableModelOfItsWeightType(WeightType type) {
        Random rnd = new Random(71 + type.ordinal());
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        int[][] tokens = TestModels.randomTokens(rnd, 2, 9, c.vocabSize());
        CpuOptions options = new CpuOptions(2, type);
        try (CpuMamba trainable = CpuMamba.create(w, options);
             CpuMamba inference = CpuMamba.forInference(w, options)) {
            assertTrue(trainable.trainable());
            assertArrayEquals(trainable.forward(tokens, false).logits().data(),
                    inference.forward(tokens, false).logits().data(), type + " forward");
            MambaState s1 = trainable.newState(2);
            MambaState s2 = inference.newState(2);
            float[][] p1 = trainable.prefill(s1, tokens);
            float[][] p2 = inference.prefill(s2, tokens);
            for (int b = 0; b < 2; b++) {
                assertArrayEquals(p1[b], p2[b], type + " prefill row " + b);
            }
            for (int t = 0; t < 4; t++) {
                int[] next = {rnd.nextInt(c.vocabSize()), rnd.nextInt(c.vocabSize())};
                float[][] l1 = trainable.step(s1, next);
                float[][] l2 = inference.step(s2, next);
                for (int b = 0; b < 2; b++) {
                    assertArrayEquals(l1[b], l2[b], type + " step " + t + " row " + b);
                }
            }
        }
    }

    @Test
    void anF32ModelForInferenceStaysTrainable() {
        Random rnd = new Random(5);
        MambaWeights w = TestModels.randomWeights(TestModels.randomConfig(rnd), rnd);
        try (CpuMamba m = CpuMamba.forInference(w, new CpuOptions(1, WeightType.F32))) {
            assertTrue(m.trainable());
            assertSame(w, m.weights());
        }
    }

    @ParameterizedTest
    @EnumSource(value = WeightType.class, names = {"BF16", "INT8"})
    void refusesTheTrainingCallsNamingWhatIsMissing(WeightType type) {
        Random rnd = new Random(6);
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        try (CpuMamba m = CpuMamba.forInference(w, new CpuOptions(1, type))) {
            assertFalse(m.trainable());
            IllegalStateException e = assertThrows(IllegalStateException.class, m::weights);
            assertTrue(e.getMessage().contains("f32 master") && e.getMessage().contains(type.toString()), e.getMessage());
            int[][] tokens = TestModels.randomTokens(rnd, 1, 4, c.vocabSize());
            assertThrows(IllegalStateException.class,
                    () -> m.lossAndGradients(tokens, tokens, MambaWeights.zeros(c)));
            m.weightsUpdated(); // nothing to refresh: no failure
        }
    }

    /** The point of the mode: nothing in the model keeps the master's large arrays reachable. */
    @ParameterizedTest
    @EnumSource(value = WeightType.class, names = {"BF16", "INT8"})
    void doesNotKeepTheMastersLargeArraysReachable(WeightType type) throws InterruptedException {
        Random rnd = new Random(8);
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        WeakReference<float[]> inProj = new WeakReference<>(w.layer(0).inProj().data());
        WeakReference<float[]> embedding = new WeakReference<>(w.embedding().data());
        try (CpuMamba m = CpuMamba.forInference(w, new CpuOptions(1, type))) {
            w = null; // the caller lets go, as Mamba.load does
            for (int i = 0; i < 20 && (inProj.get() != null || embedding.get() != null); i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertNull(inProj.get(), "in_proj's f32 array is still reachable");
            assertNull(embedding.get(), "the embedding's f32 array is still reachable");
            // and the model still runs
            assertTrue(m.forward(new int[][] {{1, 2, 3}}, false).logits().data().length == 3 * c.vocabSize());
        }
    }

    /**
     * Loading a checkpoint straight into bf16/int8 (each matrix packed as it is read) gives the
     * model that packing the fully loaded fp32 weights gives, bit for bit.
     */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void loadingTensorByTensorGivesTheSameModelAsPackingTheLoadedWeights(WeightType type, @TempDir Path dir) {
        Random rnd = new Random(90 + type.ordinal());
        MambaConfig c = TestModels.randomConfig(rnd);
        MambaWeights w = TestModels.randomWeights(c, rnd);
        Checkpoints.save(dir, w, TokenIds.NONE);
        int[][] tokens = TestModels.randomTokens(rnd, 2, 7, c.vocabSize());
        CpuOptions options = new CpuOptions(2, type);
        try (CpuMamba fromWeights = CpuMamba.forInference(Checkpoints.load(dir).weights(), options);
             SequenceModel loaded = Mamba.load(dir, options)) {
            assertArrayEquals(fromWeights.forward(tokens, false).logits().data(),
                    loaded.forward(tokens, false).logits().data(), type.toString());
            MambaState s1 = fromWeights.newState(2);
            MambaState s2 = loaded.newState(2);
            float[][] p1 = fromWeights.prefill(s1, tokens);
            float[][] p2 = loaded.prefill(s2, tokens);
            float[][] l1 = fromWeights.step(s1, new int[] {1, 2});
            float[][] l2 = loaded.step(s2, new int[] {1, 2});
            for (int b = 0; b < 2; b++) {
                assertArrayEquals(p1[b], p2[b]);
                assertArrayEquals(l1[b], l2[b]);
            }
            // an f32 model loaded onto the heap keeps its arrays as a trainable master; off the heap it is inference-only
            CpuMamba m = (CpuMamba) loaded;
            assertTrue(m.trainable() == (type == WeightType.F32 && m.weightMemory() == WeightMemory.HEAP));
        }
    }

    /** Both checkpoint layouts of the golden tiny model load tensor by tensor into the same model. */
    @ParameterizedTest
    @EnumSource(value = WeightType.class, names = {"BF16", "INT8"})
    void bothLayoutsLoadTensorByTensorIntoTheSameModel(WeightType type) {
        Path hf = ScanGoldenTest.resource("tiny");
        Path ssm = hf.resolve("ssm-format");
        int[][] tokens = {{1, 5, 9, 200, 3, 77}};
        CpuOptions options = new CpuOptions(1, type);
        try (SequenceModel a = Mamba.load(hf, options); SequenceModel b = Mamba.load(ssm, options);
             SequenceModel f32 = Mamba.load(hf, new CpuOptions(1))) {
            float[] la = a.forward(tokens, false).logits().data();
            assertArrayEquals(la, b.forward(tokens, false).logits().data(), type.toString());
            double err = TestModels.relErr(la, f32.forward(tokens, false).logits().data());
            assertTrue(err > 0 && err < 3e-2, type + " logits against f32: rel err " + err);
        }
    }

    /** The tensor-by-tensor loader validates as the fp32 loader does: a bad tensor is named. */
    @Test
    void loadingTensorByTensorRejectsAWrongShapeNamingTheTensor(@TempDir Path dir) throws IOException {
        Random rnd = new Random(91);
        MambaConfig c = TestModels.randomConfig(rnd);
        Checkpoints.save(dir, TestModels.randomWeights(c, rnd), TokenIds.NONE);
        Path st = dir.resolve(Checkpoints.SAFETENSORS_FILE);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(st)) {
            for (String n : f.names()) {
                tensors.put(n, f.readFloats(n));
                shapes.put(n, f.info(n).shape());
            }
        }
        SafetensorsWriter out = new SafetensorsWriter();
        for (String n : tensors.keySet()) {
            float[] data = tensors.get(n);
            boolean bad = n.equals("backbone.layers.1.mixer.x_proj.weight");
            int[] shape = bad ? new int[] {data.length} : toInts(shapes.get(n));
            out.addFloats(n, DType.F32, data, shape);
        }
        Files.delete(st);
        out.write(st);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Mamba.load(dir, new CpuOptions(1, WeightType.INT8)));
        assertTrue(e.getMessage().contains("backbone.layers.1.mixer.x_proj.weight"), e.getMessage());
    }

    private static int[] toInts(long[] shape) {
        int[] r = new int[shape.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (int) shape[i];
        }
        return r;
    }
}
