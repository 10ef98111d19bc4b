package org.jmamba.bench;

import org.jmamba.tokenizer.BpeTokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Encoding throughput of {@link BpeTokenizer}, in bytes of UTF-8 input per second (the
 * {@code bytes} counter; ops/s times the input size says the same). Two sizes, 64 KiB and 1 MiB:
 * equal throughput at both means encoding time is linear in the input length.
 *
 * <pre>
 * java -jar mamba-bench/target/benchmarks.jar TokenizerBench -f 1 -wi 2 -i 3
 * java -jar mamba-bench/target/benchmarks.jar TokenizerBench -p tokenizer=/path/to/tokenizer.json
 * </pre>
 *
 * Inputs ({@code text}): {@code prose} is English-like text from a fixed word list (the word cache
 * hits almost always, as in real text); {@code mixed} adds random non-ASCII words, digits and
 * white space runs so that most words are new to the cache and go through BPE; {@code spaces} is
 * one white space run, a single long word for BPE. {@code encode} reuses one tokenizer (warm word
 * cache: at 64 KiB even the mixed text is then all cached, at 1 MiB it has more distinct words than
 * the cache keeps); {@code encodeColdCache} starts each call with an empty cache, which is the fair
 * comparison of the two sizes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBench {

    /** Input length in UTF-16 chars (about the same in UTF-8 bytes for these inputs). */
    @Param({"65536", "1048576"})
    public int size;

    @Param({"prose", "mixed", "spaces"})
    public String text;

    /** A tokenizer.json to use instead of the bundled one (the 1200-token golden test tokenizer). */
    @Param({""})
    public String tokenizer;

    private byte[] tokenizerJson;
    private BpeTokenizer tok;
    private String input;
    private long inputBytes;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        if (tokenizer.isEmpty()) {
            try (InputStream in = TokenizerBench.class.getResourceAsStream("tokenizer.json")) {
                tokenizerJson = in.readAllBytes();
            }
        } else {
            tokenizerJson = Files.readAllBytes(Path.of(tokenizer));
        }
        tok = load(tokenizerJson);
        input = switch (text) {
            case "prose" -> prose(size, new Random(1));
            case "mixed" -> mixed(size, new Random(2));
            case "spaces" -> " ".repeat(size);
            default -> throw new IllegalArgumentException("unknown text kind " + text);
        };
        inputBytes = input.getBytes(StandardCharsets.UTF_8).length;
    }

    private static BpeTokenizer load(byte[] json) throws IOException {
        return BpeTokenizer.load(new ByteArrayInputStream(json), "benchmark tokenizer.json");
    }

    /** Reports input bytes per second next to ops/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;
    }

    /** A tokenizer whose word cache is empty: loaded anew before each call (not timed). */
    @State(Scope.Thread)
    public static class Cold {
        BpeTokenizer tok;

        @Setup(Level.Invocation)
        public void reload(TokenizerBench bench) throws IOException {
            tok = load(bench.tokenizerJson);
        }
    }

    /** The same tokenizer call after call: its word cache is warm, as in a long-running service. */
    @Benchmark
    public int[] encode(Bytes counter) {
        counter.bytes += inputBytes;
        return tok.encode(input);
    }

    /** A fresh tokenizer each call: every word is new to the cache the first time it appears. */
    @Benchmark
    public int[] encodeColdCache(Bytes counter, Cold cold) {
        counter.bytes += inputBytes;
        return cold.tok.encode(input);
    }

    private static final String[] WORDS = (
            "the of and to in a is that for it as was with be by on not he this are or his from at which "
                    + "but have an had they you were their one all we can her has there been if more when will "
                    + "would who so no state space model sequence selective scan language token hidden layer "
                    + "recurrent linear attention transformer training inference memory constant time results "
                    + "However Moreover Figure Table Section we're don't it's they've").split(" ");
    private static final String[] PUNCT = {" ", " ", " ", " ", " ", ", ", ". ", ".\n", "; ", " (", ") ", ": "};

    static String prose(int size, Random r) {
        StringBuilder sb = new StringBuilder(size + 32);
        while (sb.length() < size) {
            sb.append(WORDS[r.nextInt(WORDS.length)]).append(PUNCT[r.nextInt(PUNCT.length)]);
            if (r.nextInt(50) == 0) {
                sb.append(1900 + r.nextInt(130)).append(' ');
            }
        }
        sb.setLength(size);
        return sb.toString();
    }

    static String mixed(int size, Random r) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzéüñßøåçЖжλπ你好世界日本語한국어";
        StringBuilder sb = new StringBuilder(size + 32);
        while (sb.length() < size) {
            switch (r.nextInt(6)) {
                case 0 -> sb.append(WORDS[r.nextInt(WORDS.length)]);
                case 1 -> sb.append(r.nextInt(1_000_000));
                case 2 -> sb.append(" ".repeat(1 + r.nextInt(8)));
                case 3 -> sb.append("\n\t");
                default -> {
                    int len = 1 + r.nextInt(10);
                    for (int i = 0; i < len; i++) {
                        sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
                    }
                }
            }
            sb.append(r.nextInt(3) == 0 ? "" : " ");
        }
        sb.setLength(size);
        if (Character.isHighSurrogate(sb.charAt(size - 1))) {
            sb.setCharAt(size - 1, 'x');
        }
        return sb.toString();
    }
}
