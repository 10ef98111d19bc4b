package org.jmamba.io;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Paths of the golden reference files among the test resources. */
public final class GoldenFiles {
    private GoldenFiles() {
    }

    /** {@code rel} under {@code src/test/resources/golden/}, e.g. {@code "tiny/config.json"}. */
    public static Path golden(String rel) {
        URL u = GoldenFiles.class.getResource("/golden/" + rel);
        if (u == null) {
            throw new IllegalStateException("test resource golden/" + rel + " not found");
        }
        try {
            return Path.of(u.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tiny model's directory (HF layout). */
    public static Path tiny() {
        return golden("tiny/config.json").getParent();
    }
}
