package io.vocodex.cli;

import io.vocodex.Device;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** What every subcommand shares: its picocli spec, output streams and small helpers. */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The CPU device with {@code threads} workers (all processors when null). */
    Device device(Integer threads) {
        if (threads == null) {
            return Device.cpu();
        }
        if (threads < 1) {
            throw usage("--threads must be >= 1, got " + threads);
        }
        return Device.cpu(threads);
    }

    /** A usage error (exit code 2). */
    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** A number without a trailing {@code .0}. */
    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
