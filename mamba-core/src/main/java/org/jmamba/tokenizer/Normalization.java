package org.jmamba.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * The normaliser of a tokenizer: a sequence of Unicode normalisation forms (usually just NFC),
 * applied with {@link java.text.Normalizer}, which is linear in the text length.
 */
record Normalization(List<Normalizer.Form> forms) {

    Normalization {
        forms = List.copyOf(forms);
    }

    static final Normalization NONE = new Normalization(List.of());

    String apply(String s) {
        for (Normalizer.Form f : forms) {
            if (!Normalizer.isNormalized(s, f)) {
                s = Normalizer.normalize(s, f);
            }
        }
        return s;
    }
}
