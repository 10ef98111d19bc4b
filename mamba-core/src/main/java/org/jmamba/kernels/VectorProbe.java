package org.jmamba.kernels;

import jdk.incubator.vector.FloatVector;

/** The first class to reference the Vector API; loaded only after {@link VectorSupport} saw the module. */
final class VectorProbe {
    private VectorProbe() {
    }

    static int preferredFloats() {
        return FloatVector.SPECIES_PREFERRED.length();
    }

    static int preferredBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }
}
