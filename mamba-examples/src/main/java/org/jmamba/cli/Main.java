package org.jmamba.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code jmamba} command line: one picocli command with a subcommand per job.
 *
 * <p>Adding a subcommand is one line in {@link #SUBCOMMANDS}. Subcommands write to
 * {@code spec.commandLine().getOut()/getErr()} and report user errors by throwing
 * {@link CliException} (or {@link IllegalArgumentException}, {@link IOException}); this class turns
 * them into a one-line message and a non-zero exit code (see docs/cli.md).
 */
@Command(name = "jmamba", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run, score and train Mamba language models on the JVM.",
        subcommands = CommandLine.HelpCommand.class)
public final class Main implements Runnable {

    /** Every subcommand of {@code jmamba}. To add one, add its class here. */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            InfoCommand.class,
            ScoreCommand.class,
            GenerateCommand.class,
            TokenizeCommand.class,
            DetokenizeCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            BenchCommand.class);

    /** Exit code of a user error found while running (bad file, bad value). */
    public static final int EXIT_ERROR = 1;
    /** Exit code of a command line that does not parse (picocli's convention). */
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "On errors, print the stack trace too.")
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out),
                StandardCharsets.UTF_8), false);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err),
                StandardCharsets.UTF_8), true);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs {@code jmamba args} with the given streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(out, err);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The configured command line (streams, error handling, subcommands). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : SUBCOMMANDS) {
            cl.addSubcommand(c);
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionStrategy(Main::executeCatchingErrors);
        cl.setExecutionExceptionHandler(Main::handleExecutionException);
        cl.setParameterExceptionHandler(Main::handleParameterException);
        return cl;
    }

    /** Runs the chosen command; an out-of-memory error becomes an ordinary, reportable failure. */
    private static int executeCatchingErrors(ParseResult parseResult) {
        try {
            return new CommandLine.RunLast().execute(parseResult);
        } catch (OutOfMemoryError e) {
            CommandLine leaf = leaf(parseResult).commandSpec().commandLine();
            throw new CommandLine.ExecutionException(leaf, "out of memory (the input is too large for this "
                    + "heap: use a shorter prompt or smaller batch, or give Java more memory, e.g. "
                    + "JMAMBA_JAVA_OPTS=-Xmx16g)", e);
        }
    }

    /** A command line that does not parse: one line naming the problem, and where help is. */
    private static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        String msg = ex.getMessage() == null ? "bad command line" : ex.getMessage().strip().lines().findFirst().orElse("");
        err.println(prefix(cl) + msg + " (see '" + cl.getCommandSpec().qualifiedName() + " --help')");
        if (java.util.Arrays.asList(args).contains("--verbose")) {
            ex.printStackTrace(err);
        }
        err.flush();
        return EXIT_USAGE;
    }

    private static int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        Throwable cause = ex;
        if (ex instanceof CommandLine.ExecutionException && ex.getCause() instanceof OutOfMemoryError) {
            err.println(prefix(cl) + ex.getMessage());
            cause = ex.getCause();
        } else {
            err.println(prefix(cl) + describe(ex));
        }
        if (isVerbose(parseResult)) {
            cause.printStackTrace(err);
        } else if (!isUserError(ex)) {
            err.println(prefix(cl) + "(this looks like a bug; run again with --verbose for the stack trace)");
        }
        err.flush();
        return EXIT_ERROR;
    }

    private static String prefix(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName() + ": ";
    }

    /** Whether {@code ex} is an expected, user-caused failure (its message says it all). */
    static boolean isUserError(Throwable ex) {
        return ex instanceof CliException
                || ex instanceof IllegalArgumentException
                || ex instanceof org.jmamba.io.CheckpointException
                || ex instanceof IOException
                || ex instanceof UncheckedIOException
                || ex instanceof CommandLine.ExecutionException && ex.getCause() instanceof OutOfMemoryError;
    }

    /** The one-line message for an exception. */
    static String describe(Throwable ex) {
        if (ex instanceof UncheckedIOException u && u.getCause() != null) {
            ex = u.getCause();
        }
        String msg = ex.getMessage();
        if (ex instanceof NoSuchFileException e) {
            return "no such file: " + e.getFile();
        }
        if (ex instanceof AccessDeniedException e) {
            return "permission denied: " + e.getFile();
        }
        if (ex instanceof FileSystemException e && e.getReason() != null) {
            return e.getFile() + ": " + e.getReason();
        }
        if (msg == null || msg.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        String firstLine = msg.strip().lines().findFirst().orElse(msg);
        return isUserError(ex) ? firstLine : ex.getClass().getSimpleName() + ": " + firstLine;
    }

    /** Whether {@code --verbose} was given anywhere on the command line. */
    private static boolean isVerbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static ParseResult leaf(ParseResult pr) {
        ParseResult p = pr;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p;
    }

    /** {@code jmamba --version}: the version of the jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jmamba " + (v == null ? "(development build)" : v),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
