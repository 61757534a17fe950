package io.vocodex.corpus;

import java.io.PrintWriter;

/**
 * Progress of a job on stderr: on a terminal one line redrawn in place (a bar, files, hours of
 * audio, real-time factor, ETA); otherwise a plain log line every {@code interval} seconds.
 */
final class Progress {
    private final PrintWriter err;
    private final boolean tty;
    private final long intervalNanos;
    private final int total;
    private final long t0 = System.nanoTime();
    private long last = t0;
    private int lastWidth;

    Progress(PrintWriter err, boolean tty, double intervalSeconds, int total) {
        this.err = err;
        this.tty = tty;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
        this.total = total;
    }

    double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    void update(int done, int failed, double audioSeconds) {
        long now = System.nanoTime();
        if (now - last < (tty ? 200_000_000L : intervalNanos)) {
            return;
        }
        last = now;
        String line = line(done, failed, audioSeconds);
        if (tty) {
            String pad = line.length() < lastWidth ? " ".repeat(lastWidth - line.length()) : "";
            err.print("\r" + line + pad);
            lastWidth = line.length();
        } else {
            err.println("tokenize: " + line);
        }
        err.flush();
    }

    String line(int done, int failed, double audioSeconds) {
        double el = elapsed();
        int processed = done + failed;
        String eta = processed == 0 || processed >= total ? "--" : clock(el / processed * (total - processed));
        String rtf = audioSeconds > 0 ? String.format("%.4f", el / audioSeconds) : "--";
        StringBuilder s = new StringBuilder();
        if (tty) {
            int w = 24;
            int fill = total == 0 ? w : (int) ((long) w * processed / total);
            s.append('[').append("#".repeat(fill)).append(".".repeat(w - fill)).append("] ");
        }
        s.append(String.format("%d/%d files", processed, total));
        if (failed > 0) {
            s.append(" (").append(failed).append(" failed)");
        }
        s.append(String.format(", %.3f h audio, RTF %s, elapsed %s, ETA %s", audioSeconds / 3600, rtf, clock(el), eta));
        return s.toString();
    }

    /** Clears the progress line (terminal) and prints {@code summary}. */
    void finish(String summary) {
        if (tty && lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
        }
        err.println(summary);
        err.flush();
    }

    static String clock(double s) {
        long t = Math.round(s);
        return String.format("%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    }
}
