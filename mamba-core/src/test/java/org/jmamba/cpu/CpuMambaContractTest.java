package org.jmamba.cpu;

import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.contract.SequenceModelContract;
import org.junit.jupiter.api.Nested;

/**
 * The {@link SequenceModelContract} for the pure-Java model, on one thread (everything inline on the
 * caller) and on a pool of three (uneven splits of every range; more workers than a 2-core machine has).
 */
class CpuMambaContractTest extends SequenceModelContract {

    @Override
    protected SequenceModel create(MambaWeights weights) {
        return CpuMamba.create(weights, new CpuOptions(1));
    }

    @Nested
    class ThreeThreads extends SequenceModelContract {
        @Override
        protected SequenceModel create(MambaWeights weights) {
            return CpuMamba.create(weights, new CpuOptions(3));
        }
    }
}
