package org.jmamba.train;

/**
 * The knobs of the reference initialisation ({@code mamba_ssm}'s {@code Mamba.__init__} and
 * {@code _init_weights}); {@link #reference()} gives its defaults.
 *
 * @param dtMin                   smallest initial Δ (0.001)
 * @param dtMax                   largest initial Δ (0.1)
 * @param dtInitFloor             initial Δ is floored here (1e-4)
 * @param dtScale                 scales the dt_proj weight bound {@code dtRank^-0.5} (1.0)
 * @param initializerRange        standard deviation of the embedding (0.02)
 * @param rescalePrenormResidual  divide out_proj by {@code sqrt(nLayer)} (true)
 */
public record InitOptions(double dtMin, double dtMax, double dtInitFloor, double dtScale,
                          double initializerRange, boolean rescalePrenormResidual) {

    public InitOptions {
        if (!(dtMin > 0) || !(dtMax >= dtMin) || Double.isInfinite(dtMax)) {
            throw new IllegalArgumentException("need 0 < dtMin <= dtMax < inf, got dtMin=" + dtMin + " dtMax=" + dtMax);
        }
        if (!(dtInitFloor > 0) || !(dtScale > 0) || !(initializerRange > 0)) {
            throw new IllegalArgumentException("dtInitFloor, dtScale and initializerRange must be positive");
        }
    }

    public static InitOptions reference() {
        return new InitOptions(0.001, 0.1, 1e-4, 1.0, 0.02, true);
    }
}
