package org.jmamba.nd4j;

import org.nd4j.linalg.factory.Nd4j;

/** ND4J's thread counts, which are settings of the whole process (ND4J's, not ours). */
final class Nd4jThreads {
    private Nd4jThreads() {
    }

    /**
     * Sets OpenBLAS's thread count (the matrix products) and libnd4j's OpenMP threads (its other
     * operations) to {@code threads}. The environment variable {@code OMP_NUM_THREADS}, read when
     * ND4J loads, sets the same before any call.
     */
    static void set(int threads) {
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /** OpenBLAS's current thread count. */
    static int blasThreads() {
        return Nd4j.factory().blas().getMaxThreads();
    }
}
