package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import io.vocodex.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the job in a child JVM, kills it (SIGKILL) at random moments several times, checks after
 * each kill that every shard under a final name is committed and whole, then finishes in-process
 * and checks that every input was tokenized exactly once (codes equal to an uninterrupted run).
 */
class TokenizeKillResumeTest {
    @TempDir
    Path tmp;

    static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Test
    void killedAtRandomMomentsAndResumedEveryInputExactlyOnce() throws Exception {
        Path corpus = tmp.resolve("corpus");
        Corpus.Made made = Corpus.make(corpus, 70, 2, 0.6, 7);
        Path out = tmp.resolve("out");
        String[] args = {"tokenize", "-m", Corpus.model().toString(), corpus.toString(), "-o", out.toString(),
            "--shard-size", "4", "--batch-size", "3", "--decode-threads", "1", "--threads", "1", "--log-interval", "100"};
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rng = new Random(2024);
        int kills = 0;
        for (int attempt = 0; attempt < 6 && kills < 4; attempt++) {
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", classpath(),
                    Main.class.getName()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("child" + attempt + ".log").toFile()).start();
            long waitMs = 400 + rng.nextInt(2200);
            if (p.waitFor(waitMs, TimeUnit.MILLISECONDS)) {
                break; // finished before the kill
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            kills++;
            checkVisibleShardsAreCommittedAndWhole(out);
            System.out.printf("kill %d after %d ms: %d commits%n", kills, waitMs, Corpus.lines(out.resolve("manifest.jsonl")).size());
        }
        assertTrue(kills >= 1, "the child finished before any kill; see " + tmp);

        PrintStream quiet = new PrintStream(new java.io.ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        int code = Main.run(quiet, quiet, args);
        assertEquals(3, code);

        List<String> dups = new ArrayList<>();
        Map<String, JsonNode> rows = Corpus.jsonlRows(out, dups);
        assertEquals(List.of(), dups, "tokenized twice");
        assertEquals(new HashSet<>(made.good()), rows.keySet());
        Set<String> errs = new HashSet<>();
        for (JsonNode e : Corpus.lines(out.resolve("errors.jsonl"))) {
            assertTrue(errs.add(e.get("id").asText()), "twice in errors.jsonl: " + e);
        }
        assertEquals(new HashSet<>(made.broken()), errs);

        // same codes as an uninterrupted run
        Path clean = tmp.resolve("clean");
        args[5] = clean.toString();
        assertEquals(3, Main.run(quiet, quiet, args));
        Map<String, JsonNode> ref = Corpus.jsonlRows(clean, dups);
        for (String id : made.good()) {
            assertArrayEquals(Corpus.codes(ref.get(id)), Corpus.codes(rows.get(id)), id);
        }
        try (var s = Files.list(out)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList());
        }
    }

    /** Every shard-* under a final name is named by a complete manifest line and parses whole. */
    static void checkVisibleShardsAreCommittedAndWhole(Path out) throws IOException {
        if (!Files.exists(out.resolve("manifest.jsonl"))) {
            return;
        }
        String log = Files.readString(out.resolve("manifest.jsonl"));
        Set<String> committed = new HashSet<>();
        int end = log.lastIndexOf('\n');
        for (String l : (end < 0 ? "" : log.substring(0, end)).split("\n")) {
            if (!l.isBlank()) {
                JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
                if (!n.get("shard").isNull()) {
                    committed.add(n.get("shard").asText());
                    if (Files.exists(out.resolve(n.get("shard").asText()))) {
                        assertEquals(n.get("rows").asInt(), Corpus.lines(out.resolve(n.get("shard").asText())).size());
                    }
                }
            }
        }
        File[] files = out.toFile().listFiles();
        for (File f : files == null ? new File[0] : files) {
            if (f.getName().startsWith("shard-")) {
                assertTrue(committed.contains(f.getName()), f + " visible but not committed");
            }
        }
    }
}
