package org.jmamba.kernels;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the SIMD kernels ({@code jdk.incubator.vector}) can be used in this JVM.
 *
 * <p>The Vector API is an incubator module: it is present only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}. This class never touches a class of that module
 * itself; it asks the boot layer whether the module is there, and only then lets
 * {@link VectorProbe} (the first class that does reference it) be loaded. Without the module every
 * kernel runs its scalar twin, with the same results up to rounding.
 *
 * <p>The system property {@value #PROPERTY}{@code =false} forces the scalar kernels (to compare the
 * two paths, or to rule the SIMD code out when chasing a bug).
 */
public final class VectorSupport {
    /** System property: {@code false} disables the SIMD kernels. */
    public static final String PROPERTY = "jmamba.vector";

    private static final Logger LOG = LoggerFactory.getLogger(VectorSupport.class);
    private static final boolean ENABLED = detect();

    private VectorSupport() {
    }

    /** True when the SIMD kernels are in use. Decided once per JVM. */
    public static boolean enabled() {
        return ENABLED;
    }

    /** Whether the incubator module is in the boot layer (regardless of the property). */
    public static boolean modulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** A one-line description for logs and benchmark reports, e.g. {@code "vector 512-bit (16 floats)"}. */
    public static String describe() {
        return ENABLED ? "vector " + VectorProbe.preferredBits() + "-bit (" + VectorProbe.preferredFloats() + " floats)"
                : modulePresent() ? "scalar (disabled by -D" + PROPERTY + "=false or no usable SIMD)"
                : "scalar (module jdk.incubator.vector absent: add --add-modules jdk.incubator.vector)";
    }

    private static boolean detect() {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"))) {
            LOG.info("SIMD kernels disabled by -D{}=false", PROPERTY);
            return false;
        }
        if (!modulePresent()) {
            LOG.info("jdk.incubator.vector not present: using scalar kernels "
                    + "(start the JVM with --add-modules jdk.incubator.vector for the SIMD ones)");
            return false;
        }
        try {
            // Fewer than 4 float lanes means no useful SIMD unit: the API would run in its slow
            // pure-Java fallback, worse than plain loops.
            boolean ok = VectorProbe.preferredFloats() >= 4;
            if (!ok) {
                LOG.info("preferred vector holds {} floats: using scalar kernels", VectorProbe.preferredFloats());
            }
            return ok;
        } catch (LinkageError e) {
            LOG.warn("jdk.incubator.vector present but unusable ({}): using scalar kernels", e.toString());
            return false;
        }
    }
}
