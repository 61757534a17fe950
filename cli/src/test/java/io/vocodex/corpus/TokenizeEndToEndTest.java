package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.audio.AudioLoader;
import io.vocodex.audio.Npy;
import io.vocodex.audio.ResampleMode;
import io.vocodex.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vocodex tokenize} on a generated corpus of ~200 files (WAV of 7 rates, 1-3 channels,
 * 16/24-bit and float; FLAC, MP3, Ogg Vorbis; 9 broken files): every good file is in exactly one
 * shard with the codes {@link Codec#encode} gives it alone after the same loading, every broken one
 * is in errors.jsonl, and the exit code is 3.
 */
class TokenizeEndToEndTest {
    @TempDir
    static Path tmp;
    static Path corpus;
    static Corpus.Made made;
    static Codec codec;
    static final Map<String, int[][]> expected = new HashMap<>();

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void makeCorpus() {
        corpus = tmp.resolve("corpus");
        made = Corpus.make(corpus, 160, 5, 0.8, 42);
        codec = Codec.load(Corpus.model(), Device.cpu(2));
    }

    @AfterAll
    static void close() {
        if (codec != null) {
            codec.close();
        }
    }

    static int[][] expectedCodes(String id) {
        return expected.computeIfAbsent(id, k -> codec.encode(AudioLoader.load(corpus.resolve(k), 24000, ResampleMode.RESAMPLE), 6).codes());
    }

    @Test
    void everyGoodFileOnceWithItsSoloCodesEveryBrokenOneInErrors() throws IOException {
        assertTrue(made.good().size() + made.broken().size() >= 190, "corpus size");
        Path out = tmp.resolve("out_jsonl");
        // --chunk-seconds 0.4: the longer half of the files go through the streaming encoder
        Result r = run("tokenize", "-m", Corpus.model().toString(), corpus.toString(), "-o", out.toString(),
                "--shard-size", "37", "--batch-size", "8", "--decode-threads", "2", "--threads", "2",
                "--chunk-seconds", "0.4", "--log-interval", "0.5");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().strip().lines().reduce((a, b) -> b).orElse("").startsWith("tokenized " + made.good().size() + " files"), r.err());
        List<String> dups = new ArrayList<>();
        Map<String, JsonNode> rows = Corpus.jsonlRows(out, dups);
        assertEquals(List.of(), dups);
        assertEquals(new HashSet<>(made.good()), rows.keySet());
        for (String id : made.good()) {
            JsonNode row = rows.get(id);
            int[][] want = expectedCodes(id);
            assertArrayEquals(want, Corpus.codes(row), id);
            assertEquals(id, row.get("path").asText());
            assertEquals(want[0].length, row.get("frames").asInt());
            assertEquals("encodec_24khz_tiny_random", row.get("model").asText());
            assertEquals(6.0, row.get("bandwidth").asDouble());
            assertTrue(row.get("duration").asDouble() > 0);
        }
        assertEquals("flac", rows.get("compressed/1_flac_16k_mono_s16.bin").get("format").asText());
        assertEquals(2, rows.get("compressed/0_mp3_44k_stereo.mp3").get("source_channels").asInt());

        List<JsonNode> errors = Corpus.lines(out.resolve("errors.jsonl"));
        Set<String> errIds = new HashSet<>();
        for (JsonNode e : errors) {
            assertTrue(errIds.add(e.get("path").asText()), "twice in errors: " + e);
            assertFalse(e.get("reason").asText().isBlank());
        }
        assertEquals(new HashSet<>(made.broken()), errIds);
        Map<String, String> reasons = new HashMap<>();
        errors.forEach(e -> reasons.put(e.get("path").asText(), e.get("reason").asText()));
        assertTrue(reasons.get("broken/absurd_rate.wav").contains("implausible sample rate 5 Hz"), reasons.toString());
        assertTrue(reasons.get("broken/zero.wav").contains("empty file"), reasons.toString());
        assertTrue(reasons.get("broken/notes.txt").contains("not a supported audio file"), reasons.toString());
        assertTrue(reasons.get("broken/broken_truncated.flac").contains("truncated"), reasons.toString());

        // shards hold 37 rows each but the last; names are consecutive
        List<JsonNode> commits = Corpus.lines(out.resolve("manifest.jsonl"));
        int shards = (int) commits.stream().filter(c -> !c.get("shard").isNull()).count();
        assertEquals((made.good().size() + 36) / 37, shards);
        for (int i = 0; i < shards; i++) {
            assertTrue(Files.isRegularFile(out.resolve(String.format("shard-%06d.jsonl", i))));
        }
        try (var s = Files.list(out)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList(),
                    "no temporaries left");
        }

        // a re-run has nothing to do, and says so; still exit 3 (the job has failed inputs)
        Result again = run("tokenize", "-m", Corpus.model().toString(), corpus.toString(), "-o", out.toString(),
                "--shard-size", "37", "--threads", "2");
        assertEquals(3, again.code(), again.err());
        assertTrue(again.err().contains("tokenized 0 files") && again.err().contains(made.good().size() + made.broken().size() + " already done"), again.err());
        assertEquals(commits.size(), Corpus.lines(out.resolve("manifest.jsonl")).size());

        // other settings on the same output folder are refused
        Result other = run("tokenize", "-m", Corpus.model().toString(), corpus.toString(), "-o", out.toString(), "-b", "3");
        assertEquals(1, other.code(), other.err());
        assertTrue(other.err().contains("bandwidth"), other.err());
    }

    @Test
    void manifestInputNpyAndParquetOutputs() throws Exception {
        // a CSV manifest with ids and texts (quoted commas), relative paths, one missing file
        List<String> pick = made.good().subList(0, 30);
        StringBuilder csv = new StringBuilder("path,id,text\n");
        for (int i = 0; i < pick.size(); i++) {
            csv.append("corpus/").append(pick.get(i)).append(",utt").append(i).append(",\"hello, world ").append(i).append("\"\n");
        }
        csv.append("corpus/missing.wav,utt_missing,\n");
        Path manifest = tmp.resolve("list.csv");
        Files.writeString(manifest, csv);

        Path npyOut = tmp.resolve("out_npy");
        Result r = run("tokenize", "-m", Corpus.model().toString(), manifest.toString(), "-o", npyOut.toString(),
                "--format", "npy", "--shard-size", "8", "--threads", "2");
        assertEquals(3, r.code(), r.err());
        int seen = 0;
        for (JsonNode c : Corpus.lines(npyOut.resolve("manifest.jsonl"))) {
            if (c.get("shard").isNull()) {
                continue;
            }
            Path dir = npyOut.resolve(c.get("shard").asText());
            for (JsonNode row : Corpus.lines(dir.resolve("index.jsonl"))) {
                int i = Integer.parseInt(row.get("id").asText().substring(3));
                assertEquals("hello, world " + i, row.get("text").asText());
                Npy.Array a = Npy.read(dir.resolve(row.get("npy").asText()));
                assertEquals("<i4", a.dtype());
                assertArrayEquals(expectedCodes(pick.get(i)), a.ints2d());
                seen++;
            }
        }
        assertEquals(30, seen);
        List<JsonNode> errs = Corpus.lines(npyOut.resolve("errors.jsonl"));
        assertEquals(1, errs.size());
        assertEquals("utt_missing", errs.get(0).get("id").asText());
        assertTrue(errs.get(0).get("reason").asText().contains("no such file"), errs.toString());

        // Parquet, read back by DuckDB (an independent reader)
        Path jsonl = tmp.resolve("list.jsonl");
        StringBuilder jl = new StringBuilder();
        for (int i = 0; i < pick.size(); i++) {
            jl.append("{\"path\": \"corpus/").append(pick.get(i)).append("\", \"id\": \"utt").append(i).append("\"")
                    .append(i % 2 == 0 ? ", \"text\": \"t" + i + "\"" : "").append("}\n");
        }
        Files.writeString(jsonl, jl);
        Path pq = tmp.resolve("out_parquet");
        r = run("tokenize", "-m", Corpus.model().toString(), jsonl.toString(), "-o", pq.toString(),
                "--format", "parquet", "--shard-size", "12", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(pq.resolve("shard-000002.parquet")));
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM read_parquet('" + pq.resolve("shard-*.parquet") + "') ORDER BY id")) {
            int n = 0;
            while (rs.next()) {
                int i = Integer.parseInt(rs.getString("id").substring(3));
                assertEquals("corpus/" + pick.get(i), rs.getString("path"));
                assertEquals(i % 2 == 0 ? "t" + i : null, rs.getString("text"));
                int[][] want = expectedCodes(pick.get(i));
                assertEquals(want[0].length, rs.getInt("frames"));
                assertEquals("encodec_24khz_tiny_random", rs.getString("model"));
                assertEquals(6.0, rs.getDouble("bandwidth"));
                for (int k = 0; k < want.length; k++) {
                    Array a = rs.getArray("codebook_" + k);
                    Object[] vals = (Object[]) a.getArray();
                    int[] got = new int[vals.length];
                    for (int t = 0; t < vals.length; t++) {
                        got[t] = ((Number) vals[t]).intValue();
                    }
                    assertArrayEquals(want[k], got, "codebook " + k + " of utt" + i);
                }
                n++;
            }
            assertEquals(30, n);
        }

        // decode --shard turns a shard back into audio, one WAV per row, named by id
        for (String shard : new String[] {"out_parquet/shard-000000.parquet", "out_npy/shard-000000"}) {
            Path wavs = tmp.resolve("decoded_" + shard.substring(4, shard.indexOf('/')));
            r = run("decode", "-m", Corpus.model().toString(), "--shard", tmp.resolve(shard).toString(), "-o",
                    wavs.toString(), "--float", "--threads", "2");
            assertEquals(0, r.code(), r.err());
            try (var files = Files.list(wavs)) {
                List<Path> got = files.sorted().toList();
                assertEquals(shard.contains("npy") ? 8 : 12, got.size(), got.toString());
                for (Path w : got) {
                    String id = w.getFileName().toString().replace(".wav", "");
                    int i = Integer.parseInt(id.substring(3));
                    float[] want = codec.decode(new io.vocodex.Tokens(expectedCodes(pick.get(i)), codec.frameRate(),
                            codec.codebookSize())).samples();
                    assertArrayEquals(want, io.vocodex.audio.WavReader.read(w).channels()[0], id);
                }
            }
        }
    }

    @Test
    void helpDocumentsEveryOptionAndUsageErrorsExitTwo() {
        Result h = run("tokenize", "--help");
        assertEquals(0, h.code());
        for (String opt : new String[] {"INPUT", "--model", "--output", "--format", "--shard-size", "--bandwidth",
            "--batch-size", "--decode-threads", "--threads", "--chunk-seconds", "--max-seconds", "--buffer-seconds",
            "--log-interval", "Exit codes", "3 some inputs failed"}) {
            assertTrue(h.out().contains(opt), "tokenize --help lacks " + opt + ":\n" + h.out());
        }
        Result d = run("decode", "--help");
        assertTrue(d.out().contains("--shard") && d.out().contains("CODES.npy"), d.out());
        String m = Corpus.model().toString();
        assertEquals(2, run("tokenize", "-m", m, "x", "-o", "y", "--format", "csv").code());
        assertEquals(2, run("tokenize", "-m", m, "x", "-o", "y", "--shard-size", "0").code());
        assertEquals(2, run("decode", "-m", m, "-o", "y").code());
        assertEquals(2, run("decode", "-m", m, "c.npy", "--shard", "s", "-o", "y").code());
        Result missing = run("tokenize", "-m", m, tmp.resolve("nowhere").toString(), "-o", tmp.resolve("o").toString());
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().startsWith("vocodex: ") && missing.err().contains("nowhere"), missing.err());
    }
}
