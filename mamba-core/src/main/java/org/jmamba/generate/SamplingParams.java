package org.jmamba.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * How to pick each next token and when to stop. Immutable and validated on construction; build one
 * with {@link #builder()} or start from {@link #greedy(int)} and use the {@code with...} methods.
 *
 * <p>Decoding is greedy (arg max) when {@code temperature} is 0, the default; {@code topK},
 * {@code topP} and {@code minP} then have no effect. Otherwise the next-token distribution is
 * shaped in Hugging Face's order: repetition penalty, temperature, top-k, top-p, min-p.
 *
 * @param temperature       0 for greedy, else the softmax temperature (finite, positive)
 * @param topK              keep the {@code topK} most likely tokens; 0 disables
 * @param topP              keep the smallest set of most likely tokens whose mass reaches
 *                          {@code topP}, in (0, 1]; 1 disables
 * @param minP              drop tokens whose probability is below {@code minP} times the most likely
 *                          one's, in [0, 1]; 0 disables
 * @param repetitionPenalty CTRL/Hugging Face penalty on every token already seen (prompt included):
 *                          positive logits are divided by it, negative ones multiplied; 1 disables
 * @param seed              seed of the sampling RNG (same seed, same tokens); empty for a fresh one
 * @param maxNewTokens      most tokens to generate per sequence (the stopping token included)
 * @param stopTokenIds      tokens that end generation besides the end-of-sequence token
 * @param stopStrings       strings that end generation when they appear in the decoded output (also
 *                          across token boundaries); the stop string itself is not emitted
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        OptionalLong seed,
        int maxNewTokens,
        List<Integer> stopTokenIds,
        List<String> stopStrings) {

    /** Default budget of new tokens. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 256;

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 disables it), got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 disables it), got " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a finite number > 0 (1 disables it), got "
                    + repetitionPenalty);
        }
        if (seed == null) {
            throw new IllegalArgumentException("seed must not be null (use OptionalLong.empty())");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        stopTokenIds = List.copyOf(stopTokenIds);
        for (int id : stopTokenIds) {
            if (id < 0) {
                throw new IllegalArgumentException("stop token ids must be >= 0, got " + id);
            }
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens, no other stop conditions. */
    public static SamplingParams greedy(int maxNewTokens) {
        return builder().maxNewTokens(maxNewTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.seed = seed;
        b.maxNewTokens = maxNewTokens;
        b.stopTokenIds = new ArrayList<>(stopTokenIds);
        b.stopStrings = new ArrayList<>(stopStrings);
        return b;
    }

    /** Whether decoding takes the arg max (temperature 0). */
    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withTemperature(double t) {
        return toBuilder().temperature(t).build();
    }

    public SamplingParams withTopK(int k) {
        return toBuilder().topK(k).build();
    }

    public SamplingParams withTopP(double p) {
        return toBuilder().topP(p).build();
    }

    public SamplingParams withMinP(double p) {
        return toBuilder().minP(p).build();
    }

    public SamplingParams withRepetitionPenalty(double penalty) {
        return toBuilder().repetitionPenalty(penalty).build();
    }

    public SamplingParams withSeed(long s) {
        return toBuilder().seed(s).build();
    }

    public SamplingParams withMaxNewTokens(int n) {
        return toBuilder().maxNewTokens(n).build();
    }

    public SamplingParams withStopTokenIds(List<Integer> ids) {
        return toBuilder().stopTokenIds(ids).build();
    }

    public SamplingParams withStopStrings(List<String> strings) {
        return toBuilder().stopStrings(strings).build();
    }

    /** Mutable builder; {@link #build()} validates. Defaults: greedy, no filters, no penalty. */
    public static final class Builder {
        private double temperature = 0;
        private int topK = 0;
        private double topP = 1;
        private double minP = 0;
        private double repetitionPenalty = 1;
        private OptionalLong seed = OptionalLong.empty();
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private List<Integer> stopTokenIds = new ArrayList<>();
        private List<String> stopStrings = new ArrayList<>();

        private Builder() {
        }

        public Builder temperature(double t) {
            this.temperature = t;
            return this;
        }

        public Builder topK(int k) {
            this.topK = k;
            return this;
        }

        public Builder topP(double p) {
            this.topP = p;
            return this;
        }

        public Builder minP(double p) {
            this.minP = p;
            return this;
        }

        public Builder repetitionPenalty(double penalty) {
            this.repetitionPenalty = penalty;
            return this;
        }

        public Builder seed(long s) {
            this.seed = OptionalLong.of(s);
            return this;
        }

        public Builder seed(OptionalLong s) {
            this.seed = s;
            return this;
        }

        public Builder maxNewTokens(int n) {
            this.maxNewTokens = n;
            return this;
        }

        public Builder stopTokenIds(List<Integer> ids) {
            this.stopTokenIds = new ArrayList<>(ids);
            return this;
        }

        public Builder addStopTokenId(int id) {
            this.stopTokenIds.add(id);
            return this;
        }

        public Builder stopStrings(List<String> strings) {
            this.stopStrings = new ArrayList<>(strings);
            return this;
        }

        public Builder addStopString(String s) {
            this.stopStrings.add(s);
            return this;
        }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens,
                    stopTokenIds, stopStrings);
        }
    }
}
