package org.jmamba.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the commands that run a model put it on the CPU: {@code --threads}, {@code --dtype} and {@code --weight-memory}
 * (a picocli mixin, so each such command declares them the same way).
 */
final class CpuModelOptions {
    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Weight storage: f32, bf16 or int8 (blocks of 32). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "CPU threads (0: one per core).")
    int threads;

    @Option(names = "--weight-memory", paramLabel = "WHERE", defaultValue = "off-heap",
            description = "Where the large matrices live: off-heap (native memory; Java 22+, the heap elsewhere), "
                    + "mapped (memory-mapped from the checkpoint where it stores them in the weight type: zero copy, "
                    + "decode may be slower) or heap. Default: ${DEFAULT-VALUE}.")
    String weightMemory;

    /** The checkpoint in {@code dir} on the CPU model, with these options. */
    CliSupport.LoadedModel load(Path dir) {
        return CliSupport.loadModel(dir, threads, dtype, weightMemory);
    }
}
