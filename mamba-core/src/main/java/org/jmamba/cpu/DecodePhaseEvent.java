package org.jmamba.cpu;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A JDK Flight Recorder event for one phase of a decode step (see {@link Decoder}): the hand-off of
 * one weight matrix's product, and the work fused with it, to the thread pool, timed from the
 * hand-off to the last thread's finish. A step has four per layer and one for the head; the rest
 * of the step (embedding, the norms between layers) is what {@link DecodeStepEvent}'s duration
 * leaves over.
 *
 * <p>Disabled unless a recording names it, for example
 * {@code java -XX:StartFlightRecording:filename=decode.jfr,+org.jmamba.DecodePhase#enabled=true ...}
 * (the {@code +} adds a setting that the configuration file does not have), or
 * {@code jmamba bench --phases}. Off, it costs one check per phase and allocates nothing.
 */
@Name(DecodePhaseEvent.NAME)
@Label("Decode Phase")
@Category({"JMamba", "Decode"})
@Description("One phase of a decode step: a weight matrix's product and the work fused with it, on every thread of the pool")
@StackTrace(false)
@Enabled(false) // a recording that does not name it leaves it off (an event is on by default)
final class DecodePhaseEvent extends jdk.jfr.Event {
    static final String NAME = "org.jmamba.DecodePhase";

    @Label("Phase")
    @Description("in (in_proj, conv, SiLU), x (x_proj), scan (dt_proj and the selective scan step), out (out_proj and the residual), head")
    String phase;

    @Label("Layer")
    @Description("The layer, or -1 for the head")
    int layer;

    @Label("Batch")
    int batch;

    @Label("Weight Bytes")
    @Description("Bytes of weights (and int8 scales) the phase's product reads")
    @DataAmount
    long weightBytes;
}
