package org.jmamba.train;

import java.util.Map;
import org.jmamba.SequenceModel;

/** A periodic evaluation during training: named metrics ({@code val_loss}, {@code acc@256}, ...). */
@FunctionalInterface
public interface Evaluation {

    /** Evaluates the model as it is now; must not change it. Iteration order is the report order. */
    Map<String, Double> evaluate(SequenceModel model);
}
