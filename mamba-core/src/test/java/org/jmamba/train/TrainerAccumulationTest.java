package org.jmamba.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jmamba.MambaConfig;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.junit.jupiter.api.Test;

/**
 * With the real model: an update from two accumulated micro-batches equals one from the same
 * sequences in one batch, even when the micro-batches score different numbers of tokens (the
 * token-weighted mean).
 */
class TrainerAccumulationTest {
    private static final MambaConfig CFG = MambaConfig.of(16, 1, 16, 8, 4);

    /** Micro-batch i scores only the last i+1 positions of each row: unequal token counts. */
    private static final class Uneven implements BatchSource {
        private final int len;
        private int calls;
        private final boolean merged;

        Uneven(int len, boolean merged) {
            this.len = len;
            this.merged = merged;
        }

        private Batch part(Rng rng, int scored) {
            int[][] in = new int[2][len];
            int[][] tg = new int[2][len];
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < len; t++) {
                    in[b][t] = rng.nextInt(16);
                    tg[b][t] = t >= len - scored ? rng.nextInt(16) : -1;
                }
            }
            return new Batch(in, tg);
        }

        @Override
        public Batch next(Rng rng) {
            if (!merged) {
                return part(rng, 1 + 4 * (calls++ % 2));
            }
            Batch a = part(rng, 1);
            Batch b = part(rng, 5);
            return new Batch(new int[][] {a.inputs()[0], a.inputs()[1], b.inputs()[0], b.inputs()[1]},
                    new int[][] {a.targets()[0], a.targets()[1], b.targets()[0], b.targets()[1]});
        }

        @Override
        public int vocabSize() {
            return 16;
        }

        @Override
        public int batchSize() {
            return merged ? 4 : 2;
        }

        @Override
        public int seqLen() {
            return len;
        }
    }

    @Test
    void accumulatedUpdateEqualsTheLargeBatchUpdate() {
        TrainerConfig two = new TrainerConfig(1, 2, CosineSchedule.constant(1e-3), AdamWConfig.paperDefaults(), 0, 0, 0, 0, 3);
        TrainerConfig one = new TrainerConfig(1, 1, CosineSchedule.constant(1e-3), AdamWConfig.paperDefaults(), 0, 0, 0, 0, 3);
        try (CpuMamba a = CpuMamba.create(ModelInit.initialize(CFG, 1), new CpuOptions(1));
             CpuMamba b = CpuMamba.create(ModelInit.initialize(CFG, 1), new CpuOptions(1))) {
            Trainer ta = Trainer.builder(a, new Uneven(24, false), two).build();
            Trainer tb = Trainer.builder(b, new Uneven(24, true), one).build();
            ta.run();
            tb.run();
            double la = ta.history().get(0).loss();
            double lb = tb.history().get(0).loss();
            assertEquals(lb, la, 1e-6 * lb);
            double na = ta.history().get(0).gradNorm();
            double nb = tb.history().get(0).gradNorm();
            assertEquals(nb, na, 1e-5 * nb);
        }
    }
}
