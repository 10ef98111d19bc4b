package org.jmamba.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the commands that run a model put it on the CPU: {@code --threads} and {@code --dtype}
 * (a picocli mixin, so each such command declares them the same way).
 */
final class CpuModelOptions {
    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Weight storage: f32, bf16 or int8 (blocks of 32). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "CPU threads (0: one per core).")
    int threads;

    /** The checkpoint in {@code dir} on the CPU model, with these options. */
    CliSupport.LoadedModel load(Path dir) {
        return CliSupport.loadModel(dir, threads, dtype);
    }
}
