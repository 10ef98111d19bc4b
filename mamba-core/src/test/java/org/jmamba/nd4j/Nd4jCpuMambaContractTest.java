package org.jmamba.nd4j;

import org.jmamba.MambaWeights;
import org.jmamba.SequenceModel;
import org.jmamba.contract.SequenceModelContract;
import org.jmamba.cpu.CpuMamba;
import org.jmamba.cpu.CpuOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole {@link SequenceModelContract} (golden logits, hidden states, loss and every gradient of
 * the tiny model; recurrent/parallel agreement; concurrency; bad input) for the pure-Java model
 * with ND4J's BLAS taking <em>every</em> matrix product (threshold 0), forward and backward.
 * {@link Nd4jGemmModelTest} checks that the products really go through ND4J.
 */
class Nd4jCpuMambaContractTest extends SequenceModelContract {
    private static Nd4jGemm gemm;

    @BeforeAll
    static void open() {
        gemm = Nd4jGemm.create(2, 0);
    }

    @AfterAll
    static void close() {
        gemm.close();
    }

    @Override
    protected SequenceModel create(MambaWeights weights) {
        return CpuMamba.create(weights, new CpuOptions(2).withGemm(gemm));
    }
}
