package org.jmamba.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.jmamba.MambaWeights;
import org.jmamba.io.Checkpoint;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.safetensors.SafetensorsFile;

/**
 * The tiny 2-layer golden model ({@code golden/tiny} among mamba-core's test resources, made with
 * Hugging Face in float64): its inputs, logits, hidden states, loss, gradients and greedy
 * continuation, and its weights in each stored layout.
 *
 * <p>Read once per JVM and never modified (every getter returns a copy). Works from mamba-core's own
 * test classes and from its test-jar on another module's classpath (the folder is then copied out of
 * the jar into a temporary directory, because the checkpoint readers map files).
 */
public final class TinyGolden {

    /** The same weights as each checkpoint layout stores them. */
    public enum Layout {
        HF_SAFETENSORS("hf model.safetensors"),
        SSM_SAFETENSORS("mamba_ssm model.safetensors"),
        SSM_PYTORCH("mamba_ssm pytorch_model.bin");

        private final String label;

        Layout(String label) {
            this.label = label;
        }

        /** A fresh load of the checkpoint (fresh weights each call: tests may change them). */
        public Checkpoint load() {
            Path tiny = get().dir;
            Path ssm = tiny.resolve("ssm-format");
            return switch (this) {
                case HF_SAFETENSORS -> Checkpoints.load(tiny);
                case SSM_SAFETENSORS -> Checkpoints.load(ssm.resolve("config.json"), ssm.resolve("model.safetensors"));
                case SSM_PYTORCH -> Checkpoints.load(ssm.resolve("config.json"), ssm.resolve("pytorch_model.bin"));
            };
        }

        public MambaWeights weights() {
            return load().weights();
        }

        @Override
        public String toString() {
            return label;
        }
    }

    private final Path dir;
    private final int[][] inputIds;
    private final double[] logits;
    private final List<double[]> hiddenStates;
    private final double loss;
    private final Map<String, double[]> gradients;
    private final int[] greedyPrompt;
    private final int[] greedyOutput;

    private static final class Holder {
        static final TinyGolden DATA = read();
    }

    private TinyGolden(Path dir, int[][] inputIds, double[] logits, List<double[]> hiddenStates, double loss,
                       Map<String, double[]> gradients, int[] greedyPrompt, int[] greedyOutput) {
        this.dir = dir;
        this.inputIds = inputIds;
        this.logits = logits;
        this.hiddenStates = hiddenStates;
        this.loss = loss;
        this.gradients = gradients;
        this.greedyPrompt = greedyPrompt;
        this.greedyOutput = greedyOutput;
    }

    /** The golden data, read on first use. */
    public static TinyGolden get() {
        return Holder.DATA;
    }

    /** The checkpoint folder (Hugging Face layout; {@code ssm-format/} inside holds the other). */
    public Path dir() {
        return dir;
    }

    /** {@code [batch][len]} input ids. */
    public int[][] inputIds() {
        int[][] c = new int[inputIds.length][];
        for (int b = 0; b < c.length; b++) {
            c[b] = inputIds[b].clone();
        }
        return c;
    }

    /** Logits {@code [batch, len, vocab]} flattened. */
    public double[] logits() {
        return logits.clone();
    }

    /** Hidden states ({@code nLayer + 1} of {@code [batch, len, dModel]}, Hugging Face convention). */
    public int hiddenStateCount() {
        return hiddenStates.size();
    }

    public double[] hiddenState(int i) {
        return hiddenStates.get(i).clone();
    }

    /** Mean next-token cross-entropy with Hugging Face's shifted labels ({@link Compare#shiftedTargets}). */
    public double loss() {
        return loss;
    }

    /** Names (Hugging Face naming) of the parameters whose gradient is stored. */
    public Set<String> gradientNames() {
        return gradients.keySet();
    }

    /** The gradient of {@link #loss()} with respect to parameter {@code name}. */
    public double[] gradient(String name) {
        double[] g = gradients.get(name);
        if (g == null) {
            throw new IllegalArgumentException("no golden gradient for " + name);
        }
        return g.clone();
    }

    public int[] greedyPrompt() {
        return greedyPrompt.clone();
    }

    /** The prompt followed by the greedy continuation, ending with the EOS token. */
    public int[] greedyOutput() {
        return greedyOutput.clone();
    }

    private static TinyGolden read() {
        Path dir = goldenDir();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            JsonNode json = new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
            long[] shape = f.info("input_ids").shape();
            int B = (int) shape[0];
            int L = (int) shape[1];
            int[] ids = f.readInts("input_ids");
            int[][] inputIds = new int[B][];
            for (int b = 0; b < B; b++) {
                inputIds[b] = Arrays.copyOfRange(ids, b * L, (b + 1) * L);
            }
            List<double[]> hidden = new ArrayList<>();
            for (int i = 0; f.contains("hidden_states." + i); i++) {
                hidden.add(f.readDoubles("hidden_states." + i));
            }
            Map<String, double[]> grads = new HashMap<>();
            for (String name : f.names()) {
                if (name.startsWith("grad.")) {
                    grads.put(name.substring("grad.".length()), f.readDoubles(name));
                }
            }
            return new TinyGolden(dir, inputIds, f.readDoubles("logits"), List.copyOf(hidden),
                    json.get("loss").asDouble(), Map.copyOf(grads), ints(json.get("greedy_prompt")),
                    ints(json.get("greedy_output")));
        } catch (IOException e) {
            throw new UncheckedIOException("reading the golden data in " + dir, e);
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] o = new int[arr.size()];
        for (int i = 0; i < o.length; i++) {
            o[i] = arr.get(i).asInt();
        }
        return o;
    }

    /** {@code golden/tiny} on the file system: the resource folder itself, or a copy out of a jar. */
    private static Path goldenDir() {
        URL url = TinyGolden.class.getResource("/golden/tiny/golden.json");
        if (url == null) {
            throw new IllegalStateException("test resource golden/tiny/golden.json is missing: "
                    + "mamba-core's test classes (or its test-jar) must be on the test classpath");
        }
        try {
            URI uri = url.toURI();
            if ("file".equals(uri.getScheme())) {
                return Path.of(uri).getParent();
            }
            return copyOutOfJar(uri);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad resource URL " + url, e);
        } catch (IOException e) {
            throw new UncheckedIOException("copying golden/tiny out of " + url, e);
        }
    }

    private static Path copyOutOfJar(URI uri) throws IOException {
        FileSystem fs;
        boolean opened;
        try {
            fs = FileSystems.newFileSystem(uri, Map.of());
            opened = true;
        } catch (FileSystemAlreadyExistsException e) {
            fs = FileSystems.getFileSystem(uri);
            opened = false;
        }
        try {
            Path src = fs.getPath("/golden/tiny");
            Path dst = Files.createTempDirectory("jmamba-golden-tiny");
            dst.toFile().deleteOnExit();
            List<Path> entries;
            try (Stream<Path> walk = Files.walk(src)) {
                entries = walk.toList(); // parents before children
            }
            for (Path p : entries) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
                target.toFile().deleteOnExit(); // runs in reverse order: children before parents
            }
            return dst;
        } finally {
            if (opened) {
                fs.close();
            }
        }
    }
}
