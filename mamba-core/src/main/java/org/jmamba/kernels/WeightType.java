package org.jmamba.kernels;

import java.util.Locale;

/**
 * How the inference path stores the large matrices (the projections and the head). Computation is
 * always in f32; only storage, and therefore the bytes read per token, differs. Training always
 * uses the f32 master weights.
 */
public enum WeightType {
    /** 4 bytes per weight: the master weights themselves, no copy. */
    F32,
    /** 2 bytes per weight: bfloat16, round-to-nearest-even; widening back to f32 is exact. */
    BF16,
    /** 1 byte per weight plus one f32 scale per {@value Int8Blocks#BLOCK} weights (1.125 bytes per weight). */
    INT8;

    /** Parses {@code f32}, {@code bf16} or {@code int8} (any case), naming the bad value otherwise. */
    public static WeightType parse(String s) {
        if (s != null) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "f32", "fp32", "float32" -> {
                    return F32;
                }
                case "bf16", "bfloat16" -> {
                    return BF16;
                }
                case "int8", "q8", "q8_0" -> {
                    return INT8;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("unknown weight type '" + s + "': expected f32, bf16 or int8");
    }

    /** The lower-case name used on command lines and in reports. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
