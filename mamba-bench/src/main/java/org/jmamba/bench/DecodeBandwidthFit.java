package org.jmamba.bench;

import java.util.Objects;

/**
 * A two-part model of a decode step, fitted to repetitions taken at different memory bandwidths:
 * {@code step time = fixed + weight bytes / (efficiency · bandwidth)}.
 *
 * <p>{@code fixed} is the part of a step that does not shrink when memory gets faster (the scan's
 * arithmetic, the conv's waits, the hand-overs between threads); {@code efficiency} is the share of
 * the probe's bandwidth at which the products stream the weights. Both come from an ordinary
 * least-squares line through (floor time, step time), the floor time being {@code weight bytes /
 * bandwidth}: its intercept is {@code fixed} and its slope {@code 1 / efficiency}. The fraction of
 * the floor then follows for any bandwidth, {@code floor time / step time}, and falls as the
 * bandwidth rises: this is why the same build reads 0.95 of the floor on slow memory and 0.7 on
 * fast (docs/benchmarks.md, "Decode against memory bandwidth").
 *
 * @param fixedSeconds      the intercept: seconds of every step that do not depend on the bandwidth
 * @param efficiency        1 / slope: the share of the probe's bandwidth the weights stream at
 * @param r2                the coefficient of determination of the line (1: every point on it)
 * @param points            how many repetitions were fitted
 * @param weightBytes       bytes of weights one step reads
 */
public record DecodeBandwidthFit(double fixedSeconds, double efficiency, double r2, int points, double weightBytes) {

    /**
     * Fits the model to repetitions {@code i}: {@code bandwidth[i]} bytes/s measured by the probe
     * just before {@code stepsPerSecond[i]} decode steps per second (tokens/s ÷ batch).
     */
    public static DecodeBandwidthFit fit(double weightBytes, double[] bandwidth, double[] stepsPerSecond) {
        Objects.requireNonNull(bandwidth, "bandwidth");
        Objects.requireNonNull(stepsPerSecond, "stepsPerSecond");
        if (!(weightBytes > 0)) {
            throw new IllegalArgumentException("weightBytes must be positive, got " + weightBytes);
        }
        int n = bandwidth.length;
        if (stepsPerSecond.length != n) {
            throw new IllegalArgumentException(n + " bandwidths but " + stepsPerSecond.length + " speeds");
        }
        if (n < 3) {
            throw new IllegalArgumentException("a fit needs at least 3 repetitions, got " + n);
        }
        double[] x = new double[n];
        double[] y = new double[n];
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            if (!(bandwidth[i] > 0) || !(stepsPerSecond[i] > 0) || Double.isInfinite(bandwidth[i])
                    || Double.isInfinite(stepsPerSecond[i])) {
                throw new IllegalArgumentException("repetition " + i + ": bandwidth " + bandwidth[i]
                        + " and speed " + stepsPerSecond[i] + " must be positive and finite");
            }
            x[i] = weightBytes / bandwidth[i];
            y[i] = 1 / stepsPerSecond[i];
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
            syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx <= 1e-12 * mx * mx * n) {
            throw new IllegalArgumentException("the bandwidths are all the same: nothing to fit a line to");
        }
        double slope = sxy / sxx;
        double intercept = my - slope * mx;
        double r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return new DecodeBandwidthFit(intercept, 1 / slope, r2, n, weightBytes);
    }

    /** The fraction of the floor the model predicts at {@code bandwidth} bytes/s. */
    public double fraction(double bandwidth) {
        double floor = weightBytes / bandwidth;
        return floor / (fixedSeconds + floor / efficiency);
    }

    /**
     * The bandwidth (bytes/s) above which the model falls below {@code target} of the floor:
     * infinite if it never does (no fixed part), NaN if it never reaches it (efficiency at or
     * below the target).
     */
    public double bandwidthAtFraction(double target) {
        if (efficiency <= target) {
            return Double.NaN;
        }
        if (fixedSeconds <= 0) {
            return Double.POSITIVE_INFINITY;
        }
        // floor / (fixed + floor / e) = t  ⇔  floor = t·fixed / (1 − t / e)
        double floor = target * fixedSeconds / (1 - target / efficiency);
        return weightBytes / floor;
    }
}
