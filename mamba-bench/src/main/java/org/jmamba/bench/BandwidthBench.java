package org.jmamba.bench;

import java.util.concurrent.TimeUnit;
import org.jmamba.perf.BandwidthProbe;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The memory-bandwidth probe: one pass of a plain Java sum over 512 MiB on {@code threads}
 * threads. Bandwidth = 536.9 MB / score (ms) = 0.5369 / score GB/s. (The CLI's {@code bench --mode decode} runs the same probe
 * in the decode's own process and reports the fraction of the floor directly.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class BandwidthBench {
    /** 0 = one per available processor. */
    @Param({"0"})
    public int threads;

    private BandwidthProbe probe;

    @Setup(Level.Trial)
    public void setup() {
        probe = new BandwidthProbe(BandwidthProbe.DEFAULT_BYTES, threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    @Benchmark
    public double pass() {
        return probe.pass();
    }

    @org.openjdk.jmh.annotations.TearDown(Level.Trial)
    public void tearDown() {
        probe.close();
    }
}
