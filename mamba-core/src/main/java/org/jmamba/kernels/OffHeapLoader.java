package org.jmamba.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the Java 22 implementation of {@link OffHeapMatrices} ({@value #IMPLEMENTATION}, compiled
 * from {@code src/main/java22}) once per JVM. The class is named only as a string: on Java 21 it
 * is never loaded (its class file version is 22's), and no class here refers to
 * {@code java.lang.foreign}.
 */
final class OffHeapLoader {
    /** The one entry point of the Java 22 layer: a public no-argument constructor making a store. */
    static final String IMPLEMENTATION = "org.jmamba.kernels.SegmentStore";
    /** The first Java release where {@code java.lang.foreign} is final. */
    static final int FEATURE = 22;

    private static final Logger LOG = LoggerFactory.getLogger(OffHeapLoader.class);
    private static final State STATE = detect();

    /** The constructor of the implementation, or null and the reason why there is none. */
    private record State(MethodHandle ctor, String reason) {
    }

    private OffHeapLoader() {
    }

    static boolean available() {
        return STATE.ctor() != null;
    }

    static String reason() {
        return STATE.reason();
    }

    static OffHeapMatrices open() {
        MethodHandle ctor = STATE.ctor();
        if (ctor == null) {
            throw new UnsupportedOperationException("off-heap weights are not available: " + reason());
        }
        try {
            return (OffHeapMatrices) ctor.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot create an off-heap weight store", e);
        }
    }

    /** Decides once; logs one info line when off-heap weights are unavailable, saying why. */
    private static State detect() {
        String reason = null;
        MethodHandle ctor = null;
        int feature = Runtime.version().feature();
        if ("false".equalsIgnoreCase(System.getProperty(OffHeapMatrices.PROPERTY, "true"))) {
            reason = "disabled by -D" + OffHeapMatrices.PROPERTY + "=false";
        } else if (feature < FEATURE) {
            reason = "Java " + feature + " has no final java.lang.foreign (Java " + FEATURE + "+ needed)";
        } else if (!VectorSupport.enabled()) {
            reason = "the SIMD kernels are off (" + VectorSupport.describe() + ")";
        } else {
            try {
                Class<?> c = Class.forName(IMPLEMENTATION, true, OffHeapLoader.class.getClassLoader());
                ctor = MethodHandles.lookup().findConstructor(c, MethodType.methodType(void.class))
                        .asType(MethodType.methodType(Object.class));
            } catch (ReflectiveOperationException | LinkageError e) {
                reason = "the Java " + FEATURE + " classes are missing or unusable (" + e + ")";
            }
        }
        if (ctor == null) {
            LOG.info("weights stay on the Java heap: {}", reason);
        }
        return new State(ctor, reason);
    }
}
