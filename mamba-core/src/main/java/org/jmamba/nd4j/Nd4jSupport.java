package org.jmamba.nd4j;

/**
 * Whether ND4J is on the class path, found without loading it.
 *
 * <p>ND4J is an optional dependency of {@code mamba-core}: an application that wants
 * {@code INDArray} in and out, or ND4J's BLAS for the large matrix products, adds
 * {@code org.nd4j:nd4j-native} itself. The rest of the library never names an ND4J type, and the
 * classes of this package that do ({@link Nd4jArrays}, {@link Nd4jModels}, {@link Nd4jGemm}) are
 * loaded only when called, so a program without ND4J never meets a {@link NoClassDefFoundError}
 * unless it calls them; {@link #requireAvailable()} turns that into a clear message first.
 *
 * <p>This class itself names no ND4J type: it is safe to load and call anywhere.
 */
public final class Nd4jSupport {
    /** The class whose presence means "ND4J is on the class path". */
    static final String ND4J_CLASS = "org.nd4j.linalg.factory.Nd4j";

    private Nd4jSupport() {
    }

    /**
     * Whether ND4J's API is on the class path of this library. Looks the class up without
     * initialising it, so this neither loads ND4J's native code nor logs anything.
     */
    public static boolean available() {
        return present(Nd4jSupport.class.getClassLoader());
    }

    /** {@link #available()} for classes seen by {@code loader}. */
    static boolean present(ClassLoader loader) {
        try {
            Class.forName(ND4J_CLASS, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Throws unless ND4J is on the class path, with a message saying what to add.
     *
     * @throws IllegalStateException when ND4J is absent
     */
    public static void requireAvailable() {
        if (!available()) {
            throw new IllegalStateException("ND4J is not on the class path: org.jmamba.nd4j needs the optional "
                    + "dependency org.nd4j:nd4j-native (see docs/nd4j.md); the rest of JMamba works without it");
        }
    }
}
