package org.jmamba.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jmamba.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jmamba tokenize}: text to token ids, as {@code {"ids":[...]}}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode text with a tokenizer.json; prints {\"ids\":[...]}.")
public final class TokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    TokenizerSource source;

    static final class TokenizerSource {
        @Option(names = "--tokenizer", paramLabel = "FILE", description = "The tokenizer.json file.")
        Path file;

        @Option(names = "--model", paramLabel = "DIR", description = "Use DIR/tokenizer.json.")
        Path model;
    }

    static final class Text {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to encode.")
        String text;

        @Option(names = "--text-file", paramLabel = "FILE", description = "UTF-8 file to encode, byte for byte.")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Text input;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = load(source);
        String text = input.text != null ? input.text : CliSupport.readUtf8(input.file);
        spec.commandLine().getOut().println(Json.write(Map.of("ids", tok.encode(text))));
        return 0;
    }

    static Tokenizer load(TokenizerSource source) throws java.io.IOException {
        if (source.model != null) {
            CliSupport.requireModelDir(source.model);
        }
        return CliSupport.loadTokenizer(source.model, source.file, true);
    }
}
