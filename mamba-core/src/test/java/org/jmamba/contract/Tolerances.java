package org.jmamba.contract;

/**
 * How close an implementation must come in {@link SequenceModelContract}. All errors are relative,
 * ‖a − b‖ / ‖b‖. The {@link #DEFAULT}s are the project's: 1e-5 for logits, hidden states and the
 * loss against the golden data, 1e-4 for gradients; an implementation that rounds on purpose (a bf16
 * mode) overrides {@link SequenceModelContract#tolerances()} with looser values and says why.
 *
 * @param goldenLogits    logits against the golden data
 * @param goldenHidden    every hidden state against the golden data
 * @param goldenLoss      the loss against the golden loss
 * @param goldenGradients every parameter's gradient against the golden gradients
 * @param modes           one computation done two ways (recurrent vs parallel, chunked vs whole,
 *                        ragged vs one row, forward's cross-entropy vs lossAndGradients' loss)
 * @param exactRepeats    whether the very same computation done twice (on a copied state, from
 *                        several threads, into a caller's array) must give identical bits; when
 *                        false it must agree within {@code modes}
 */
public record Tolerances(double goldenLogits, double goldenHidden, double goldenLoss, double goldenGradients,
                         double modes, boolean exactRepeats) {

    public static final Tolerances DEFAULT = new Tolerances(1e-5, 1e-5, 1e-5, 1e-4, 1e-5, true);

    public Tolerances {
        check("goldenLogits", goldenLogits);
        check("goldenHidden", goldenHidden);
        check("goldenLoss", goldenLoss);
        check("goldenGradients", goldenGradients);
        check("modes", modes);
    }

    private static void check(String name, double tol) {
        // The golden data itself is only ~1e-7 exact: a tighter bound would test its noise.
        if (!(tol >= 1e-6 && tol < 1)) {
            throw new IllegalArgumentException(name + " must be in [1e-6, 1), got " + tol);
        }
    }

    public Tolerances withGoldenLogits(double t) {
        return new Tolerances(t, goldenHidden, goldenLoss, goldenGradients, modes, exactRepeats);
    }

    public Tolerances withGoldenHidden(double t) {
        return new Tolerances(goldenLogits, t, goldenLoss, goldenGradients, modes, exactRepeats);
    }

    public Tolerances withGoldenLoss(double t) {
        return new Tolerances(goldenLogits, goldenHidden, t, goldenGradients, modes, exactRepeats);
    }

    public Tolerances withGoldenGradients(double t) {
        return new Tolerances(goldenLogits, goldenHidden, goldenLoss, t, modes, exactRepeats);
    }

    public Tolerances withModes(double t) {
        return new Tolerances(goldenLogits, goldenHidden, goldenLoss, goldenGradients, t, exactRepeats);
    }

    public Tolerances withExactRepeats(boolean exact) {
        return new Tolerances(goldenLogits, goldenHidden, goldenLoss, goldenGradients, modes, exact);
    }
}
