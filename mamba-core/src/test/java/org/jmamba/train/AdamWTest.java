package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final MambaConfig CFG = new MambaConfig(8, 2, 11, 4, 4, 16, 1, true, true, 1e-5, true, false);

    static MambaWeights random(MambaConfig c, long seed, double scale) {
        MambaWeights w = MambaWeights.zeros(c);
        Rng r = new Rng(seed);
        for (FloatTensor t : w.named().values()) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) (scale * r.nextGaussian());
            }
        }
        return w;
    }

    /** PyTorch's AdamW in float64, written from its documented update, as the twin. */
    private static final class Twin {
        final Map<String, double[]> p = new HashMap<>();
        final Map<String, double[]> m = new HashMap<>();
        final Map<String, double[]> v = new HashMap<>();
        final AdamWConfig c;
        int t;

        Twin(MambaWeights w, AdamWConfig c) {
            this.c = c;
            w.named().forEach((k, x) -> {
                double[] d = new double[x.size()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = x.data()[i];
                }
                p.put(k, d);
                m.put(k, new double[d.length]);
                v.put(k, new double[d.length]);
            });
        }

        void step(MambaWeights g, double lr) {
            t++;
            g.named().forEach((k, gt) -> {
                double[] pp = p.get(k);
                double[] mm = m.get(k);
                double[] vv = v.get(k);
                boolean decay = AdamW.decays(k, gt);
                for (int i = 0; i < pp.length; i++) {
                    double gi = gt.data()[i];
                    if (decay) {
                        pp[i] *= 1 - lr * c.weightDecay();
                    }
                    mm[i] = c.beta1() * mm[i] + (1 - c.beta1()) * gi;
                    vv[i] = c.beta2() * vv[i] + (1 - c.beta2()) * gi * gi;
                    double mHat = mm[i] / (1 - Math.pow(c.beta1(), t));
                    double vHat = vv[i] / (1 - Math.pow(c.beta2(), t));
                    pp[i] -= lr * mHat / (Math.sqrt(vHat) + c.eps());
                }
            });
        }
    }

    @Test
    void matchesAFloat64TwinOverSeveralSteps() {
        AdamWConfig cfg = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
        MambaWeights w = random(CFG, 1, 0.5);
        Twin twin = new Twin(w, cfg);
        AdamW opt = new AdamW(cfg, w);
        double[] lrs = {1e-3, 5e-3, 2e-2, 1e-2, 1e-3, 3e-3};
        for (int s = 0; s < lrs.length; s++) {
            MambaWeights g = random(CFG, 100 + s, 0.1 * (s + 1));
            opt.step(w, g, lrs[s]);
            twin.step(g, lrs[s]);
        }
        assertEquals(lrs.length, opt.stepCount());
        w.named().forEach((k, x) -> {
            double[] ref = twin.p.get(k);
            double num = 0;
            double den = 0;
            for (int i = 0; i < ref.length; i++) {
                num += Math.pow(x.data()[i] - ref[i], 2);
                den += ref[i] * ref[i];
            }
            assertTrue(Math.sqrt(num / den) < 1e-6, k + ": relative error " + Math.sqrt(num / den));
        });
    }

    @Test
    void weightDecaySkipsALogDNormsAndBiases() {
        AdamWConfig cfg = new AdamWConfig(0.9, 0.999, 1e-8, 0.5);
        MambaWeights w = random(CFG, 2, 1.0);
        MambaWeights before = w.copy();
        AdamW opt = new AdamW(cfg, w);
        opt.step(w, MambaWeights.zeros(CFG), 0.1); // zero gradient: only the decay moves anything
        for (Map.Entry<String, FloatTensor> e : w.named().entrySet()) {
            String k = e.getKey();
            float[] b = before.named().get(k).data();
            boolean expectDecay = !(k.endsWith("A_log") || k.endsWith(".D") || k.endsWith("norm.weight")
                    || k.endsWith("norm_f.weight") || k.endsWith(".bias"));
            assertEquals(expectDecay, AdamW.decays(k, e.getValue()), k);
            for (int i = 0; i < b.length; i++) {
                float expected = expectDecay ? b[i] * (float) (1 - 0.1 * 0.5) : b[i];
                assertEquals(expected, e.getValue().data()[i], Math.abs(expected) * 1e-6, k);
            }
        }
        assertTrue(AdamW.decays("backbone.layers.0.mixer.in_proj.weight", w.layer(0).inProj()));
        assertTrue(AdamW.decays("backbone.embeddings.weight", w.embedding()));
        assertFalse(AdamW.decays("backbone.layers.1.mixer.A_log", w.layer(1).aLog()));
        assertFalse(AdamW.decays("backbone.layers.1.mixer.dt_proj.bias", w.layer(1).dtBias()));
    }

    @Test
    void restoredStateContinuesBitForBit() {
        AdamWConfig cfg = AdamWConfig.paperDefaults();
        MambaWeights w1 = random(CFG, 3, 0.5);
        AdamW a = new AdamW(cfg, w1);
        for (int s = 0; s < 3; s++) {
            a.step(w1, random(CFG, 10 + s, 0.2), 1e-2);
        }
        MambaWeights w2 = w1.copy();
        Map<String, FloatTensor> saved = new HashMap<>();
        a.stateTensors().forEach((k, x) -> saved.put(k, x.copy()));
        AdamW b = new AdamW(cfg, w2);
        b.restore(saved, a.stepCount());
        for (int s = 3; s < 6; s++) {
            MambaWeights g = random(CFG, 10 + s, 0.2);
            a.step(w1, g, 1e-2);
            b.step(w2, g, 1e-2);
        }
        w1.named().forEach((k, x) -> assertArrayEquals(x.data(), w2.named().get(k).data(), k));
    }

    @Test
    void minimisesAQuadratic() {
        // f(θ) = 0.5 Σ (θ - c)^2: AdamW without decay must walk every parameter to c.
        AdamWConfig cfg = new AdamWConfig(0.9, 0.99, 1e-8, 0.0);
        MambaWeights w = random(CFG, 4, 1.0);
        MambaWeights c = random(CFG, 5, 1.0);
        MambaWeights g = MambaWeights.zeros(CFG);
        AdamW opt = new AdamW(cfg, w);
        CosineSchedule lr = new CosineSchedule(0.05, 1e-4, 20, 600);
        for (int s = 0; s < 600; s++) {
            w.named().forEach((k, x) -> {
                float[] gd = g.named().get(k).data();
                float[] cd = c.named().get(k).data();
                for (int i = 0; i < gd.length; i++) {
                    gd[i] = x.data()[i] - cd[i];
                }
            });
            opt.step(w, g, lr.lr(s));
        }
        w.named().forEach((k, x) -> {
            float[] cd = c.named().get(k).data();
            for (int i = 0; i < cd.length; i++) {
                assertEquals(cd[i], x.data()[i], 1e-2, k);
            }
        });
    }

    @Test
    void rejectsMismatchedTensorsAndBadState() {
        AdamW opt = new AdamW(AdamWConfig.paperDefaults(), MambaWeights.zeros(CFG));
        MambaConfig other = MambaConfig.of(8, 1, 11, 4, 4);
        assertThrows(IllegalArgumentException.class,
                () -> opt.step(MambaWeights.zeros(other), MambaWeights.zeros(other), 1e-3));
        assertThrows(IllegalArgumentException.class,
                () -> opt.step(MambaWeights.zeros(CFG), MambaWeights.zeros(CFG), Double.NaN));
        Map<String, FloatTensor> partial = new HashMap<>(opt.stateTensors());
        partial.remove(partial.keySet().iterator().next());
        assertThrows(IllegalArgumentException.class, () -> opt.restore(partial, 1));
        assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(1.0, 0.9, 1e-8, 0));
    }
}
