package org.jmamba.perf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import jdk.jfr.Category;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import jdk.jfr.StackTrace;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a decode step's time goes: runs some steps under a JDK Flight Recorder recording of the
 * decoder's {@code org.jmamba.DecodePhase} and {@code org.jmamba.DecodeStep} events and sums them
 * per phase. Each phase is the pool's hand-off of one product (with the work fused into it) and its
 * wait for the last thread, so the phases and "other" (the step outside them: embedding, the norms
 * between layers) add up to the step.
 *
 * <p>Recording costs a little (an event per phase, about a hundred per step of a 24-layer model),
 * so the benchmark runs it after its timed repetitions, not during them. Starting a recording also
 * makes the JIT recompile the code that commits the events, so the recording first runs warm-up
 * steps, whose events are left out: those that start before a {@link Mark} the recording holds
 * between the warm-up and the measured steps. (The mark's own time, not {@code Instant.now()}: JFR
 * converts its ticks to wall-clock time with an offset of its own, and a cut by {@code Instant.now()}
 * once dropped the first measured step but kept its phases.)
 */
final class DecodePhaseProfile {
    static final String PHASE_EVENT = "org.jmamba.DecodePhase";
    static final String STEP_EVENT = "org.jmamba.DecodeStep";
    /** The phases in step order (the decoder's names). */
    static final String[] PHASES = {"in", "x", "scan", "out", "head"};
    static final String MARK_EVENT = "org.jmamba.DecodeProfileMark";

    /** Committed between the warm-up and the measured steps: where the counted events begin. */
    @Name(MARK_EVENT)
    @Label("Decode Profile Mark")
    @Category({"JMamba", "Decode"})
    @StackTrace(false)
    @Enabled(false) // as the decoder's events: only the profile's own recording enables it
    static final class Mark extends Event {
    }

    private DecodePhaseProfile() {
    }

    /**
     * Runs {@code warmUp} and then {@code steps} under a recording and returns, over the events of
     * {@code steps}: per phase and for "other", the time per step in µs and its share of the step,
     * and for a phase the bytes of weights it reads per step and the rate at which it read them;
     * then the time of a step and the number of steps.
     */
    static Map<String, Object> record(Runnable warmUp, Runnable steps) {
        Path file = null;
        try (Recording recording = new Recording()) {
            recording.setName("jmamba-decode-phases");
            recording.enable(PHASE_EVENT).withThreshold(Duration.ZERO).withoutStackTrace();
            recording.enable(STEP_EVENT).withThreshold(Duration.ZERO).withoutStackTrace();
            recording.enable(Mark.class).withThreshold(Duration.ZERO).withoutStackTrace();
            recording.setToDisk(true);
            recording.start();
            warmUp.run();
            new Mark().commit();
            steps.run();
            recording.stop();
            file = Files.createTempFile("jmamba-phases", ".jfr");
            recording.dump(file);
            List<RecordedEvent> all = RecordingFile.readAllEvents(file);
            Instant from = null;
            for (RecordedEvent e : all) {
                if (e.getEventType().getName().equals(MARK_EVENT)) {
                    from = e.getStartTime();
                }
            }
            if (from == null) {
                throw new IllegalStateException("the phase recording lost its mark between warm-up and measured steps");
            }
            List<RecordedEvent> events = new ArrayList<>();
            for (RecordedEvent e : all) {
                if (!e.getStartTime().isBefore(from) && !e.getEventType().getName().equals(MARK_EVENT)) {
                    events.add(e);
                }
            }
            return summarise(events);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write or read the phase recording", e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temporary file is no reason to lose the measurement
                }
            }
        }
    }

    static Map<String, Object> summarise(Iterable<RecordedEvent> events) {
        Map<String, long[]> byPhase = new LinkedHashMap<>(); // name -> {nanos, bytes}
        for (String p : PHASES) {
            byPhase.put(p, new long[2]);
        }
        long steps = 0;
        long stepNanos = 0;
        long phaseNanos = 0;
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            long nanos = e.getDuration().toNanos();
            if (type.equals(STEP_EVENT)) {
                steps++;
                stepNanos += nanos;
            } else if (type.equals(PHASE_EVENT)) {
                long[] t = byPhase.get(e.getString("phase"));
                if (t == null) {
                    throw new IllegalStateException("unknown decode phase '" + e.getString("phase") + "' in the recording");
                }
                t[0] += nanos;
                t[1] += e.getLong("weightBytes");
                phaseNanos += nanos;
            }
        }
        if (steps == 0) {
            throw new IllegalStateException("the recording holds no decode step: was the decoder's event disabled?");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> p : byPhase.entrySet()) {
            long nanos = p.getValue()[0];
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("us_per_step", CpuBenchmark.round(nanos / 1e3 / steps));
            m.put("share", CpuBenchmark.round((double) nanos / stepNanos));
            m.put("weight_bytes_per_step", p.getValue()[1] / steps);
            m.put("weight_gb_s", nanos == 0 ? 0.0 : CpuBenchmark.round((double) p.getValue()[1] / nanos));
            r.put(p.getKey(), m);
        }
        Map<String, Object> other = new LinkedHashMap<>();
        other.put("us_per_step", CpuBenchmark.round((stepNanos - phaseNanos) / 1e3 / steps));
        other.put("share", CpuBenchmark.round((double) (stepNanos - phaseNanos) / stepNanos));
        r.put("other", other);
        r.put("step_us", CpuBenchmark.round(stepNanos / 1e3 / steps));
        r.put("steps", steps);
        return r;
    }
}
