package org.jmamba.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jmamba.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jmamba detokenize}: token ids to text. */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = "Decode token ids with a tokenizer.json; prints the text (or {\"text\":...} with --json).")
public final class DetokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    TokenizeCommand.TokenizerSource source;

    @Option(names = "--ids", required = true, paramLabel = "IDS", description = "Token ids, e.g. 3,1,4.")
    String ids;

    @Option(names = "--json", description = "Print {\"text\":...} instead of the bare text.")
    boolean json;

    @Option(names = {"-n", "--no-newline"}, description = "Do not end the text with a newline.")
    boolean noNewline;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = TokenizeCommand.load(source);
        int[] parsed = CliSupport.parseIds(ids, "--ids", true);
        CliSupport.checkIds(parsed, tok.vocabSize(), "--ids", "tokenizer's");
        String text = tok.decode(parsed);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(Map.of("text", text)));
        } else if (noNewline) {
            out.print(text);
        } else {
            out.println(text);
        }
        return 0;
    }
}
