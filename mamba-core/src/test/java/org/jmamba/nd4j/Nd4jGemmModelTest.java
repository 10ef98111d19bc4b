package org.jmamba.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmamba.FloatTensor;
import org.jmamba.MambaWeights;
import org.jmamba.contract.Compare;
import org.jmamba.contract.TinyGolden;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.kernels.GemmProvider;
import org.junit.jupiter.api.Test;

/**
 * The golden tiny model with its matrix products on ND4J: every product kind is really sent there
 * (counted), and the logits (1e-5), loss (1e-5) and every gradient (1e-4) match the golden data and
 * the pure-Java path. A threshold keeps small products in Java, and the two mix correctly.
 */
class Nd4jGemmModelTest {

    /** Counts what the model hands to the wrapped provider. */
    private static final class Counting implements GemmProvider {
        final GemmProvider inner;
        final AtomicInteger nt = new AtomicInteger();
        final AtomicInteger nn = new AtomicInteger();
        final AtomicInteger tn = new AtomicInteger();

        Counting(GemmProvider inner) {
            this.inner = inner;
        }

        @Override
        public boolean accepts(int M, int N, int K) {
            return inner.accepts(M, N, K);
        }

        @Override
        public void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                           float[] bias, boolean accumulate, int M, int N, int K) {
            nt.incrementAndGet();
            inner.gemmNT(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, bias, accumulate, M, N, K);
        }

        @Override
        public void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                           boolean accumulate, int M, int N, int K) {
            nn.incrementAndGet();
            inner.gemmNN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, M, N, K);
        }

        @Override
        public void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                           boolean accumulate, int M, int N, int K) {
            tn.incrementAndGet();
            inner.gemmTN(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, M, N, K);
        }
    }

    @Test
    void everyProductOnNd4jMatchesGoldenLogitsLossAndGradients() {
        try (Nd4jGemm gemm = Nd4jGemm.create(2, 0)) {
            Counting counting = new Counting(gemm);
            check(counting);
            int nLayer = TinyGolden.Layout.HF_SAFETENSORS.weights().config().nLayer();
            // Forward: in_proj, x_proj, dt_proj, out_proj per layer and the head, twice (forward,
            // then lossAndGradients); backward: one NN and one TN per product.
            assertTrue(counting.nt.get() >= 2 * (4 * nLayer + 1), "NT products on ND4J: " + counting.nt);
            assertTrue(counting.nn.get() >= 4 * nLayer + 1, "NN products on ND4J: " + counting.nn);
            assertTrue(counting.tn.get() >= 4 * nLayer + 1, "TN products on ND4J: " + counting.tn);
        }
    }

    @Test
    void aThresholdSplitsProductsBetweenNd4jAndJava() {
        TinyGolden g = TinyGolden.get();
        int[] ids = g.inputIds()[0];
        var c = TinyGolden.Layout.HF_SAFETENSORS.weights().config();
        // Only products at least as large as the head's take the ND4J path.
        long headWork = (long) ids.length * c.vocabSize() * c.dModel();
        try (Nd4jGemm gemm = Nd4jGemm.create(2, headWork)) {
            Counting counting = new Counting(gemm);
            check(counting);
            assertTrue(counting.nt.get() > 0, "the head went to ND4J");
            assertTrue(counting.nt.get() < 2 * (4 * c.nLayer() + 1), "small products stayed in Java: " + counting.nt);
        }
    }

    private static void check(GemmProvider provider) {
        TinyGolden g = TinyGolden.get();
        int[][] ids = g.inputIds();
        int[][] targets = Compare.shiftedTargets(ids);
        MambaWeights w = TinyGolden.Layout.HF_SAFETENSORS.weights();
        MambaWeights gradsNd4j = MambaWeights.zeros(w.config());
        MambaWeights gradsJava = MambaWeights.zeros(w.config());
        try (CpuMamba nd4j = CpuMamba.create(w, new CpuOptions(2).withGemm(provider));
             CpuMamba java = CpuMamba.create(w, new CpuOptions(2))) {
            float[] logits = nd4j.forward(ids, false).logits().data();
            double e = Compare.relErr(logits, g.logits());
            assertTrue(e <= 1e-5, "golden logits rel err " + e);
            assertTrue(Compare.relErr(logits, java.forward(ids, false).logits().data()) <= 1e-5, "vs pure Java");
            double loss = nd4j.lossAndGradients(ids, targets, gradsNd4j);
            java.lossAndGradients(ids, targets, gradsJava);
            assertEquals(g.loss(), loss, 1e-5 * g.loss(), "golden loss");
            Map<String, FloatTensor> got = gradsNd4j.named();
            for (String name : g.gradientNames()) {
                double eg = Compare.relErr(got.get(name).data(), g.gradient(name));
                assertTrue(eg <= 1e-4, "grad." + name + " rel err " + eg);
                double ej = Compare.relErr(got.get(name).data(), gradsJava.named().get(name).data());
                assertTrue(ej <= 1e-4, "grad." + name + " vs pure Java rel err " + ej);
            }
        }
    }
}
