package org.jmamba.cpu;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A JDK Flight Recorder event for one whole decode step ({@link Decoder#step}): every sequence of
 * the batch advanced by one token. Its duration less that of the step's {@link DecodePhaseEvent}s is
 * the time spent outside the pool's phases. Disabled unless a recording names it
 * ({@code +org.jmamba.DecodeStep#enabled=true}; see {@link DecodePhaseEvent}).
 */
@Name(DecodeStepEvent.NAME)
@Label("Decode Step")
@Category({"JMamba", "Decode"})
@Description("One decode step: every sequence of the batch advanced by one token")
@StackTrace(false)
@Enabled(false) // a recording that does not name it leaves it off (an event is on by default)
final class DecodeStepEvent extends jdk.jfr.Event {
    static final String NAME = "org.jmamba.DecodeStep";

    @Label("Batch")
    int batch;

    @Label("Weight Bytes")
    @Description("Bytes of weights (and int8 scales) the step reads")
    @DataAmount
    long weightBytes;
}
