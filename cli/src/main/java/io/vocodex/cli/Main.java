package io.vocodex.cli;

import io.vocodex.VocodexException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;

/**
 * The {@code vocodex} command line: {@code encode}, {@code decode}, {@code inspect}, {@code import},
 * {@code bench} and {@code tokenize}.
 *
 * <p>Exit codes: 0 success, 1 a problem with the input (one line {@code vocodex: <message>} on
 * stderr; the stack trace only with {@code --verbose} or {@code VOCODEX_DEBUG=1}), 2 a usage error, 3
 * ({@code tokenize}) some inputs failed while the job itself completed.
 */
@Command(name = "vocodex",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Neural speech codec engine for the JVM: audio to discrete codes and back.",
        subcommands = {EncodeCommand.class, DecodeCommand.class, InspectCommand.class, ImportCommand.class,
                BenchCommand.class, TokenizeCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 bad input or failure (message on stderr), 2 usage error,",
                "3 (tokenize) the job finished but some inputs failed (listed in OUT/errors.jsonl).",
                "Set VOCODEX_DEBUG=1 (or pass --verbose) to see stack traces."})
public final class Main implements Runnable {
    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces with errors (same as VOCODEX_DEBUG=1).")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (encode, decode, inspect, import, bench, tokenize)");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line in-process with the JVM's stdout/stderr; returns the exit code. */
    public static int run(String... args) {
        return run(System.out, System.err, args);
    }

    /** Runs the command line in-process; returns the exit code (0, 1 or 2). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        boolean debug = Arrays.asList(args).contains("--verbose") || "1".equals(System.getenv("VOCODEX_DEBUG"));
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(o);
        cl.setErr(e);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof VocodexException) {
                e.println("vocodex: " + ex.getMessage());
            } else {
                e.println("vocodex: internal error: " + ex
                        + (debug ? "" : " (run with --verbose or VOCODEX_DEBUG=1 for the stack trace)"));
            }
            if (debug) {
                ex.printStackTrace(e);
            }
            e.flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError oom) {
            e.println("vocodex: out of memory (give the JVM more, e.g. VOCODEX_JAVA_OPTS=-Xmx8g)");
            return 1;
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** Version from the jar's Maven metadata ({@code dev} when run from classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"vocodex " + version(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
        }
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/io.vocodex/vocodex-cli/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "dev");
            }
        } catch (java.io.IOException ignored) {
            // fall through
        }
        return "dev";
    }
}
