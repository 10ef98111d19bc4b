package org.jmamba.io;

import java.util.OptionalInt;

/**
 * Special token ids a checkpoint's config declares (Hugging Face {@code eos_token_id},
 * {@code bos_token_id}, {@code pad_token_id}); empty when the config does not say.
 */
public record TokenIds(OptionalInt eos, OptionalInt bos, OptionalInt pad) {

    /** No ids known (the {@code mamba_ssm} layout declares none). */
    public static final TokenIds NONE = new TokenIds(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());

    public TokenIds {
        java.util.Objects.requireNonNull(eos, "eos");
        java.util.Objects.requireNonNull(bos, "bos");
        java.util.Objects.requireNonNull(pad, "pad");
    }

    /** Ids from ints, where a negative value means "not set". */
    public static TokenIds of(int eos, int bos, int pad) {
        return new TokenIds(opt(eos), opt(bos), opt(pad));
    }

    private static OptionalInt opt(int v) {
        return v < 0 ? OptionalInt.empty() : OptionalInt.of(v);
    }
}
