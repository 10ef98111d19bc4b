package org.jmamba.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * ND4J is optional: with it on the class path (as in these tests) {@link Nd4jSupport} says so; in a
 * class loader that sees JMamba, SLF4J and Jackson but not ND4J, the model loads and runs, the
 * detection says "absent" without an error, and asking for ND4J gives a clear message.
 */
class Nd4jSupportTest {

    @Test
    void detectsNd4jOnThisClassPath() {
        assertTrue(Nd4jSupport.available());
        Nd4jSupport.requireAvailable();
    }

    @Test
    void withoutNd4jTheCoreRunsAndTheDetectionSaysAbsent() throws Exception {
        List<URL> urls = List.of(
                codeSource(Nd4jSupport.class),          // mamba-core's classes
                codeSource(Nd4jSupportTest.class),      // its test classes (the probe below)
                codeSource(org.slf4j.LoggerFactory.class),
                codeSource(com.fasterxml.jackson.databind.ObjectMapper.class),
                codeSource(com.fasterxml.jackson.core.JsonFactory.class),
                codeSource(com.fasterxml.jackson.annotation.JsonProperty.class));
        // Parent: the platform loader, which has the JDK (and jdk.incubator.vector) but no class path.
        try (URLClassLoader isolated = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertFalse(Nd4jSupport.present(isolated), "ND4J visible through the isolated loader");
            Class<?> probe = Class.forName(NoNd4jProbe.class.getName(), true, isolated);
            assertEquals(isolated, probe.getClassLoader());
            @SuppressWarnings("unchecked")
            Callable<String> call = (Callable<String>) probe.getDeclaredConstructor().newInstance();
            try {
                assertEquals("ok", call.call());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        } catch (InvocationTargetException e) {
            throw new AssertionError(e.getCause());
        }
    }

    private static URL codeSource(Class<?> c) {
        return c.getProtectionDomain().getCodeSource().getLocation();
    }
}
