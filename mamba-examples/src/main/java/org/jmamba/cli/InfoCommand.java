package org.jmamba.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jmamba.MambaConfig;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.DType;
import org.jmamba.io.LoadedConfig;
import org.jmamba.io.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jmamba info}: a checkpoint's configuration and size, without loading its weights. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's configuration and parameter count (reads only the config and tensor headers).")
public final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (config.json + weights).")
    Path model;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CliSupport.requireModelDir(model);
        LoadedConfig cfg = ConfigJson.read(model.resolve(Checkpoints.CONFIG_FILE));
        MambaConfig c = cfg.config();
        Path weights = Checkpoints.findWeights(model);
        String format;
        String dtype;
        long stored = 0;
        try (TensorSource src = Checkpoints.openWeights(weights)) {
            Set<DType> types = EnumSet.noneOf(DType.class);
            for (String n : src.names()) {
                types.add(src.info(n).dtype());
                stored += src.info(n).numel();
            }
            dtype = types.stream().map(DType::safetensorsName).collect(Collectors.joining(","));
            String name = weights.getFileName().toString();
            format = name.endsWith(".index.json") ? Checkpoints.FORMAT_SHARDED_SAFETENSORS
                    : name.endsWith(".safetensors") ? Checkpoints.FORMAT_SAFETENSORS : Checkpoints.FORMAT_PYTORCH;
        }
        long stateBytes = 4L * c.nLayer() * ((long) c.dInner() * (c.dConv() - 1) + (long) c.dInner() * c.dState());
        Path tokenizer = model.resolve(CliSupport.TOKENIZER_FILE);

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("d_model", c.dModel());
        config.put("n_layer", c.nLayer());
        config.put("vocab_size", c.vocabSize());
        config.put("d_state", c.dState());
        config.put("d_conv", c.dConv());
        config.put("d_inner", c.dInner());
        config.put("dt_rank", c.dtRank());
        config.put("proj_bias", c.projBias());
        config.put("conv_bias", c.convBias());
        config.put("norm_eps", c.normEps());
        config.put("residual_in_fp32", c.residualInFp32());
        config.put("tie_embeddings", c.tieEmbeddings());

        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", model.toString());
        info.put("layout", cfg.layout());
        info.put("weights", weights.getFileName().toString());
        info.put("format", format);
        info.put("dtype", dtype);
        info.put("config", config);
        info.put("parameters", c.parameterCount());
        info.put("stored_elements", stored);
        info.put("eos_token_id", orNull(cfg.ids().eos()));
        info.put("bos_token_id", orNull(cfg.ids().bos()));
        info.put("pad_token_id", orNull(cfg.ids().pad()));
        info.put("tokenizer", Files.isRegularFile(tokenizer) ? tokenizer.getFileName().toString() : null);
        info.put("state_bytes_per_sequence", stateBytes);

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(info));
        } else {
            out.printf(Locale.ROOT, "model       %s (%s layout, %s %s: %s)%n", model, cfg.layout(), format, dtype,
                    weights.getFileName());
            out.printf(Locale.ROOT, "parameters  %,d (%s)%n", c.parameterCount(), human(c.parameterCount()));
            out.printf(Locale.ROOT, "layers      %d x Mamba block, d_model %d, d_inner %d%n", c.nLayer(), c.dModel(), c.dInner());
            out.printf(Locale.ROOT, "ssm         d_state %d, d_conv %d, dt_rank %d%n", c.dState(), c.dConv(), c.dtRank());
            out.printf(Locale.ROOT, "vocabulary  %d%s%n", c.vocabSize(), c.tieEmbeddings() ? " (head tied to the embedding)" : " (untied head)");
            out.printf(Locale.ROOT, "biases      in/out_proj %s, conv1d %s; norm eps %s%n", c.projBias() ? "yes" : "no",
                    c.convBias() ? "yes" : "no", c.normEps());
            out.printf(Locale.ROOT, "tokens      eos %s, bos %s, pad %s%n", str(cfg.ids().eos()), str(cfg.ids().bos()),
                    str(cfg.ids().pad()));
            out.printf(Locale.ROOT, "tokenizer   %s%n", Files.isRegularFile(tokenizer) ? tokenizer : "(none in the folder)");
            out.printf(Locale.ROOT, "state       %,d bytes per sequence (constant, whatever the length)%n", stateBytes);
        }
        return 0;
    }

    private static Integer orNull(OptionalInt v) {
        return v.isPresent() ? v.getAsInt() : null;
    }

    private static String str(OptionalInt v) {
        return v.isPresent() ? Integer.toString(v.getAsInt()) : "-";
    }

    static String human(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }
}
