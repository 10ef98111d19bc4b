package org.jmamba.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.kernels.WeightType;
import org.jmamba.perf.BenchShapes;
import org.jmamba.perf.CpuBenchmark;
import org.jmamba.perf.LoadBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jmamba bench}: CPU throughput on a random-weight model of a named shape. Decode is also
 * reported as a fraction of the memory-bandwidth floor measured in the same process. The JSON form
 * is a contract for scripts: one object with at least {@code tokens_per_s}, {@code mode},
 * {@code dtype} and {@code threads} (see docs/benchmarks.md for every field). {@code --mode load}
 * times loading a checkpoint and reports the heap it takes instead of a throughput.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure CPU decode, prefill or training throughput on random weights of a model shape, "
                + "or the time and heap that loading a checkpoint takes (--mode load).")
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--shape", defaultValue = "130m", paramLabel = "NAME",
            description = "Model shape: 130m, 370m, 790m, 1.4b (the released Mamba sizes), small, tiny. Default: ${DEFAULT-VALUE}.")
    String shape;

    @Option(names = "--mode", defaultValue = "decode", paramLabel = "MODE",
            description = "decode, prefill, train or load. Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Load mode: a checkpoint folder to load (default: a random checkpoint of --shape, written to a temporary folder).")
    java.nio.file.Path model;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "TYPE",
            description = "Weight storage for decode/prefill: f32, bf16, int8. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--weight-memory", paramLabel = "WHERE",
            description = "heap, off-heap or mapped. Decode/prefill (default heap): heap packs the random weights in "
                    + "memory; off-heap and mapped write them to a temporary checkpoint and load it into native memory, "
                    + "as generate does on Java 22+, or memory-mapped. Load mode: only this one (default: all three).")
    String weightMemory;

    @Option(names = "--threads", paramLabel = "N", description = "Threads (default: available processors).")
    Integer threads;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B", description = "Sequences per step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--len", defaultValue = "512", paramLabel = "L",
            description = "Prompt length (prefill) or sequence length (train). Default: ${DEFAULT-VALUE}.")
    int len;

    @Option(names = "--tokens", defaultValue = "64", paramLabel = "T",
            description = "Decode steps per repetition. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--repeat", defaultValue = "5", paramLabel = "R",
            description = "Timed repetitions after a warm-up; the median is reported. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--no-probe", description = "Skip the memory-bandwidth probe (decode).")
    boolean noProbe;

    @Option(names = "--probe-mb", defaultValue = "512", paramLabel = "MB",
            description = "Buffer of the bandwidth probe, far larger than the caches. Default: ${DEFAULT-VALUE}.")
    int probeMb;

    @Option(names = "--phases",
            description = "Decode: after the timed runs, run as many steps again under a flight recording and report "
                    + "where a step's time goes, phase by phase (in_proj, x_proj, scan, out_proj, head, other).")
    boolean phases;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights and tokens. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (!BenchShapes.names().contains(shape.toLowerCase(java.util.Locale.ROOT))) {
            throw new CliException("--shape: unknown shape '" + shape + "'; expected one of " + BenchShapes.names());
        }
        WeightType w = CliSupport.weightType(dtype);
        if (mode.equalsIgnoreCase("load")) {
            return load(t, w);
        }
        if (model != null) {
            throw new CliException("--model applies to --mode load only");
        }
        if (phases && !mode.equalsIgnoreCase("decode")) {
            throw new CliException("--phases applies to --mode decode only");
        }
        CpuBenchmark.Mode m;
        try {
            m = CpuBenchmark.Mode.parse(mode);
        } catch (IllegalArgumentException e) {
            throw new CliException("--mode: " + e.getMessage());
        }
        CpuBenchmark.Options o;
        try {
            o = new CpuBenchmark.Options(shape, m, w, t, batch, len, tokens, repeat,
                    noProbe ? 0 : (long) probeMb << 20, seed,
                    weightMemory == null ? WeightMemory.HEAP : CliSupport.weightMemory(weightMemory), phases);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        err.println("bench: " + shape + " " + m.name().toLowerCase(java.util.Locale.ROOT) + " " + w.label() + ", "
                + t + " threads, batch " + batch + (m == CpuBenchmark.Mode.DECODE ? "" : ", len " + len)
                + " (random weights, " + o.memory().label() + "; warm-up, then " + repeat + " timed runs)");
        err.flush();
        print(CpuBenchmark.run(o));
        return 0;
    }

    private int load(int t, WeightType w) {
        if (model != null) {
            CliSupport.requireModelDir(model);
        }
        LoadBenchmark.Options o;
        try {
            o = new LoadBenchmark.Options(shape, model, w, t, repeat, seed,
                    weightMemory == null ? null : CliSupport.weightMemory(weightMemory));
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        err.println("bench: load " + (model != null ? model.toString() : "a random " + shape + " checkpoint") + " as "
                + w.label() + ", " + repeat + " times" + (o.memory() == null ? "" : ", " + o.memory().label() + " only"));
        err.flush();
        print(LoadBenchmark.run(o));
        return 0;
    }

    private void print(Map<String, Object> r) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(r));
        } else {
            for (Map.Entry<String, Object> e : r.entrySet()) {
                out.println(e.getKey() + ": " + e.getValue());
            }
        }
        out.flush();
    }
}
