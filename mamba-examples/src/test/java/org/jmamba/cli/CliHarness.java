package org.jmamba.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Runs the CLI in-process with captured streams, and stages test data into folders. */
final class CliHarness {
    private CliHarness() {
    }

    /** Exit code and captured output of one run. */
    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    /** Copies classpath resources {@code base/name} (from mamba-core's test jar) into {@code dir}. */
    static Path copyResources(Path dir, String base, String... names) {
        try {
            Files.createDirectories(dir);
            for (String n : names) {
                try (InputStream in = CliHarness.class.getResourceAsStream("/" + base + "/" + n)) {
                    if (in == null) {
                        throw new IllegalStateException("test resource /" + base + "/" + n + " is not on the classpath");
                    }
                    Files.copy(in, dir.resolve(n), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden tiny model (HF layout, F32) in {@code dir}, with its golden.json and golden.safetensors. */
    static Path tinyModel(Path dir) {
        return copyResources(dir, "golden/tiny", "config.json", "model.safetensors", "golden.json", "golden.safetensors");
    }

    /** The golden byte-level BPE tokenizer.json (1200 tokens, id 0 = <|endoftext|>) and its encodings. */
    static Path tokenizer(Path dir) {
        copyResources(dir, "golden/tokenizer", "tokenizer.json", "encodings.json");
        return dir.resolve("tokenizer.json");
    }
}
