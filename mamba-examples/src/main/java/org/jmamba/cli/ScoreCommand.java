package org.jmamba.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jmamba.generate.TokenScorer;
import org.jmamba.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jmamba score}: log-probabilities of given tokens, or the perplexity of a text file. Long
 * inputs go through the recurrent state chunk by chunk, so memory does not grow with their length.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score a token sequence (JSON log-probabilities and loss) or a text file (perplexity).",
                "Each token is predicted from all tokens before it; the first one is context only."})
public final class ScoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (config.json + weights).")
    Path model;

    static final class Input {
        @Option(names = "--tokens", paramLabel = "IDS", description = "Token ids, e.g. 3,1,4,1,5.")
        String tokens;

        @Option(names = "--text-file", paramLabel = "FILE", description = "UTF-8 text file to compute the perplexity of.")
        Path textFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json for --text-file (default: the one in the model folder).")
    Path tokenizerFile;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + TokenScorer.DEFAULT_CHUNK,
            description = "Tokens per model call (memory ~ N x vocabulary floats). Default: ${DEFAULT-VALUE}.")
    int chunk;

    @Mixin
    CpuModelOptions cpu;

    @Option(names = "--json", description = "For --text-file: print one JSON object instead of text.")
    boolean json;

    @Option(names = "--no-progress", description = "Do not draw a progress bar on stderr.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        if (chunk < 1) {
            throw new CliException("--chunk must be at least 1, got " + chunk);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (input.tokens != null) {
            int[] ids = CliSupport.parseIds(input.tokens, "--tokens");
            if (ids.length < 2) {
                throw new CliException("--tokens: give at least 2 tokens (the first one is context only)");
            }
            try (CliSupport.LoadedModel lm = cpu.load(model)) {
                CliSupport.checkIds(ids, lm.model().config().vocabSize(), "--tokens", "model's");
                TokenScorer.Score s = new TokenScorer(lm.model(), chunk).score(ids, true, null);
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("tokens", ids);
                doc.put("logprobs", s.logProbs());
                doc.put("loss", s.loss());
                out.println(Json.write(doc));
            }
            return 0;
        }

        String text = CliSupport.readUtf8(input.textFile);
        CliSupport.requireModelDir(model);
        Tokenizer tok = CliSupport.loadTokenizer(model, tokenizerFile, true);
        int[] ids = tok.encode(text);
        if (ids.length < 2) {
            throw new CliException(input.textFile + " has " + ids.length + " token(s): need at least 2 to score");
        }
        TokenScorer.Score s;
        try (CliSupport.LoadedModel lm = cpu.load(model)) {
            CliSupport.checkIds(ids, lm.model().config().vocabSize(), "--text-file", "model's");
            TokenScorer scorer = new TokenScorer(lm.model(), chunk);
            if (noProgress) {
                s = scorer.score(ids, false, null);
            } else {
                try (ProgressBar bar = new ProgressBar(err, "scoring", ids.length - 1, "tokens")) {
                    long[] last = {0};
                    s = scorer.score(ids, false, done -> {
                        bar.step(done - last[0]);
                        last[0] = done;
                    });
                }
            }
        }
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        // bits per byte: the text's total negative log-likelihood in bits over its UTF-8 size, which
        // compares models with different tokenizers (the first token is not scored).
        double bitsPerByte = -s.sumLogProb() / Math.log(2) / bytes;
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("file", input.textFile.toString());
            doc.put("bytes", bytes);
            doc.put("tokens", ids.length);
            doc.put("scored", s.count());
            doc.put("loss", s.loss());
            doc.put("perplexity", s.perplexity());
            doc.put("bits_per_byte", bitsPerByte);
            out.println(Json.write(doc));
        } else {
            out.printf(Locale.ROOT, "file        %s (%d bytes, %d tokens, %d scored)%n", input.textFile, bytes, ids.length,
                    s.count());
            out.printf(Locale.ROOT, "loss        %.6f nats/token%n", s.loss());
            out.printf(Locale.ROOT, "perplexity  %.4f%n", s.perplexity());
            out.printf(Locale.ROOT, "bits/byte   %.6f%n", bitsPerByte);
        }
        return 0;
    }
}
