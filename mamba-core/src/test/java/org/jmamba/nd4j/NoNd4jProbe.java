package org.jmamba.nd4j;

import java.util.Random;
import java.util.concurrent.Callable;
import org.jmamba.FloatTensor;
import org.jmamba.MambaConfig;
import org.jmamba.contract.RandomMamba;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;

/**
 * Run by {@link Nd4jSupportTest} inside a class loader without ND4J: everything a user without
 * ND4J touches must work, and the ND4J entry points must fail with a clear message, not a
 * {@link NoClassDefFoundError}. Names no ND4J type itself.
 */
public final class NoNd4jProbe implements Callable<String> {
    @Override
    public String call() {
        if (Nd4jSupport.available()) {
            throw new AssertionError("ND4J is visible in the isolated loader");
        }
        try {
            Nd4jSupport.requireAvailable();
            throw new AssertionError("requireAvailable did not throw");
        } catch (IllegalStateException e) {
            if (!e.getMessage().contains("org.nd4j:nd4j-native")) {
                throw new AssertionError("unclear message: " + e.getMessage());
            }
        }
        try {
            Nd4jGemm.create(1);
            throw new AssertionError("Nd4jGemm.create did not throw");
        } catch (IllegalStateException e) {
            if (!e.getMessage().contains("ND4J is not on the class path")) {
                throw new AssertionError("unclear message: " + e.getMessage());
            }
        }
        Random r = new Random(3);
        MambaConfig c = RandomMamba.config(r);
        try (CpuMamba m = CpuMamba.create(RandomMamba.weights(c, r), new CpuOptions(2))) {
            FloatTensor logits = m.forward(RandomMamba.tokens(r, 2, 5, c.vocabSize()), false).logits();
            if (!logits.hasShape(2, 5, c.vocabSize())) {
                throw new AssertionError("logits " + logits);
            }
        }
        return "ok";
    }
}
