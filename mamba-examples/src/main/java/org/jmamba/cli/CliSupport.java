package org.jmamba.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jmamba.Mamba;
import org.jmamba.SequenceModel;
import org.jmamba.cpu.CpuOptions;
import org.jmamba.cpu.WeightMemory;
import org.jmamba.io.ConfigJson;
import org.jmamba.io.Checkpoints;
import org.jmamba.io.TokenIds;
import org.jmamba.kernels.WeightType;
import org.jmamba.tokenizer.BpeTokenizer;
import org.jmamba.tokenizer.Tokenizer;

/** What several subcommands share: loading models and tokenizers, parsing id lists, reading text. */
public final class CliSupport {
    /** The tokenizer file looked for in a model folder. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private CliSupport() {
    }

    /**
     * A loaded model: the special token ids its checkpoint declares and the CPU model running it
     * (which, made for inference, is the only holder of the weights).
     */
    public record LoadedModel(TokenIds ids, SequenceModel model) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** Checks that {@code dir} is an existing folder, with a message naming the option. */
    public static Path requireModelDir(Path dir) {
        if (!Files.exists(dir)) {
            throw new CliException("model folder " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new CliException(dir + " is not a folder (--model takes the folder holding config.json and the weights)");
        }
        if (!Files.isRegularFile(dir.resolve(Checkpoints.CONFIG_FILE))) {
            throw new CliException("model folder " + dir + " has no " + Checkpoints.CONFIG_FILE);
        }
        return dir;
    }

    /**
     * Loads the checkpoint in {@code dir} onto the CPU model.
     *
     * @param threads worker threads, or 0 for one per processor
     */
    public static LoadedModel loadModel(Path dir, int threads) {
        return loadModel(dir, threads, "f32", "off-heap");
    }

    /**
     * Loads the checkpoint in {@code dir} onto the CPU model, its weights kept as {@code dtype}
     * (f32, bf16 or int8: see docs/benchmarks.md for what each costs in accuracy) in
     * {@code memory} ({@code heap} or {@code off-heap}: see docs/architecture.md).
     *
     * @param threads worker threads, or 0 for one per processor
     */
    public static LoadedModel loadModel(Path dir, int threads, String dtype, String memory) {
        requireModelDir(dir);
        CpuOptions options = (threads > 0 ? new CpuOptions(threads) : CpuOptions.defaults())
                .withWeightType(weightType(dtype)).withWeightMemory(weightMemory(memory));
        // Mamba.load reads the config again: a few hundred bytes, against one loading path for all.
        TokenIds ids = ConfigJson.read(dir.resolve(Checkpoints.CONFIG_FILE)).ids();
        return new LoadedModel(ids, Mamba.load(dir, options));
    }

    /** The weight type a {@code --dtype} value names (f32, bf16, int8), or a message naming the option. */
    public static WeightType weightType(String dtype) {
        try {
            return WeightType.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new CliException("--dtype: " + e.getMessage());
        }
    }

    /** Where a {@code --weight-memory} value keeps the weights (heap, off-heap), or a message naming the option. */
    public static WeightMemory weightMemory(String memory) {
        try {
            return WeightMemory.parse(memory);
        } catch (IllegalArgumentException e) {
            throw new CliException("--weight-memory: " + e.getMessage());
        }
    }

    /**
     * The tokenizer from {@code tokenizerFile} if given, else {@code tokenizer.json} in
     * {@code modelDir} (may be null).
     *
     * @param required whether a missing tokenizer is an error (else null is returned)
     */
    public static Tokenizer loadTokenizer(Path modelDir, Path tokenizerFile, boolean required) throws IOException {
        Path file = tokenizerFile;
        if (file == null) {
            Path inModel = modelDir == null ? null : modelDir.resolve(TOKENIZER_FILE);
            if (inModel != null && Files.isRegularFile(inModel)) {
                file = inModel;
            } else if (required) {
                throw new CliException(modelDir == null ? "no tokenizer given: use --tokenizer FILE"
                        : "model folder " + modelDir + " has no " + TOKENIZER_FILE + ": pass --tokenizer FILE");
            } else {
                return null;
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new CliException("tokenizer file " + file + " does not exist");
        }
        return BpeTokenizer.load(file);
    }

    /**
     * Parses a list of token ids such as {@code "3,1,4"} (commas and/or spaces).
     *
     * @param option the option name for messages
     */
    public static int[] parseIds(String text, String option) {
        return parseIds(text, option, false);
    }

    /** As {@link #parseIds(String, String)}; {@code allowEmpty} accepts an empty list. */
    public static int[] parseIds(String text, String option, boolean allowEmpty) {
        String t = text.strip();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1).strip(); // also accept a JSON array
        }
        if (t.isEmpty()) {
            if (allowEmpty) {
                return new int[0];
            }
            throw new CliException(option + ": no token ids given");
        }
        String[] parts = t.split("[,\\s]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new CliException(option + ": '" + parts[i] + "' is not a token id");
            }
            if (ids[i] < 0) {
                throw new CliException(option + ": token id " + ids[i] + " is negative");
            }
        }
        return ids;
    }

    /** Checks every id against a vocabulary size. */
    public static void checkIds(int[] ids, int vocabSize, String option, String whose) {
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new CliException(option + ": token id " + id + " is outside the " + whose + " vocabulary [0, "
                        + vocabSize + ")");
            }
        }
    }

    /** The UTF-8 text of {@code file}, byte for byte (no newline or BOM handling); malformed UTF-8 is an error. */
    public static String readUtf8(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CliException("text file " + file + " does not exist");
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (MalformedInputException e) {
            // the decoder leaves the buffer at the offending bytes
            throw new CliException(file + " is not valid UTF-8 text (bad byte at offset " + bytes.position() + ")", e);
        } catch (CharacterCodingException e) {
            throw new CliException(file + " is not valid UTF-8 text: " + e.getMessage(), e);
        }
    }
}
