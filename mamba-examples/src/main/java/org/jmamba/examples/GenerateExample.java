package org.jmamba.examples;

import java.io.IOException;
import java.nio.file.Path;

import org.jmamba.Mamba;
import org.jmamba.SequenceModel;
import org.jmamba.generate.GenerationResult;
import org.jmamba.generate.Generator;
import org.jmamba.generate.SamplingParams;
import org.jmamba.tokenizer.BpeTokenizer;
import org.jmamba.tokenizer.Tokenizer;

/**
 * The smallest complete use of the library, as shown in the README: load a checkpoint folder
 * (e.g. {@code state-spaces/mamba-130m-hf} downloaded by the user), stream a sampled continuation
 * of a prompt to stdout, and print the speed.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp mamba-examples/target/jmamba.jar \
 *     org.jmamba.examples.GenerateExample mamba-130m-hf "Mamba is"</pre>
 */
public final class GenerateExample {
    private GenerateExample() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: GenerateExample MODEL_DIR PROMPT");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        try (SequenceModel model = Mamba.load(dir)) {
            Tokenizer tokenizer = BpeTokenizer.load(dir.resolve("tokenizer.json"));
            Generator generator = new Generator(model, tokenizer);
            SamplingParams params = SamplingParams.builder()
                    .temperature(0.8).topP(0.95).seed(42).maxNewTokens(50).build();
            GenerationResult result = generator.generate(args[1], params, token -> {
                System.out.print(token.text());
                System.out.flush();
                return true; // false would stop generation here
            });
            System.out.println();
            System.out.println(result.stats());
        }
    }
}
