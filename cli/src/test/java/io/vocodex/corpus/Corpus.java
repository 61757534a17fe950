package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.audio.WavWriter;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Generates test corpora: WAVs of mixed rates, channels, depths and lengths, the committed compressed samples, broken files. */
final class Corpus {
    /** The corpus: good ids and broken ids (relative paths). */
    record Made(List<String> good, List<String> broken) {
    }

    private Corpus() {
    }

    static Path repoFile(String rel) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path f = d.resolve(rel);
            if (Files.exists(f)) {
                return f;
            }
        }
        Assumptions.abort(rel + " not found above the working directory; skipping");
        return null;
    }

    static Path model() {
        return repoFile("weights/encodec_24khz_tiny_random");
    }

    static float[] signal(int n, int rate, Random rng) {
        float[] x = new float[n];
        double f0 = 100 + 200 * rng.nextDouble();
        for (int i = 0; i < n; i++) {
            double t = i / (double) rate;
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * f0 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t))
                    + 0.05 * Math.sin(2 * Math.PI * 1500 * t) + 0.02 * rng.nextGaussian());
        }
        return x;
    }

    /**
     * {@code wavs} generated WAVs (rates 8-48 kHz, 1-3 channels, 16/24-bit or float, 0.03-{@code maxSeconds} s,
     * some in sub-folders), {@code copies} copies of each committed compressed sample, and the broken files.
     */
    static Made make(Path dir, int wavs, int copies, double maxSeconds, long seed) {
        try {
            Random rng = new Random(seed);
            List<String> good = new ArrayList<>();
            List<String> broken = new ArrayList<>();
            int[] rates = {8000, 16000, 22050, 24000, 32000, 44100, 48000};
            WavWriter.Format[] fmts = {WavWriter.Format.PCM_16, WavWriter.Format.PCM_24, WavWriter.Format.FLOAT_32};
            for (int i = 0; i < wavs; i++) {
                int rate = rates[rng.nextInt(rates.length)];
                int nc = 1 + rng.nextInt(3);
                int n = (int) (rate * (0.03 + (maxSeconds - 0.03) * rng.nextDouble()));
                float[][] ch = new float[nc][];
                for (int c = 0; c < nc; c++) {
                    ch[c] = signal(n, rate, rng);
                }
                String rel = (i % 3 == 0 ? "a/" : i % 3 == 1 ? "b/c/" : "") + String.format("gen_%03d.wav", i);
                Path p = dir.resolve(rel);
                Files.createDirectories(p.getParent());
                WavWriter.write(p, ch, rate, fmts[rng.nextInt(fmts.length)]);
                good.add(rel);
            }
            Path samples = repoFile("java-api/src/test/resources/audio");
            for (String s : new String[] {"flac_16k_mono_s16.flac", "flac_44k_stereo_s24.flac", "mp3_16k_mono.mp3",
                "mp3_44k_stereo.mp3", "vorbis_16k_mono.ogg", "vorbis_44k_stereo.ogg"}) {
                for (int k = 0; k < copies; k++) {
                    // the extension is dropped on every other copy: detection is by content
                    String rel = "compressed/" + k + "_" + (k % 2 == 0 ? s : s.substring(0, s.lastIndexOf('.')) + ".bin");
                    Files.createDirectories(dir.resolve(rel).getParent());
                    Files.copy(samples.resolve(s), dir.resolve(rel));
                    good.add(rel);
                }
            }
            Files.createDirectories(dir.resolve("broken"));
            for (String s : new String[] {"broken_truncated.flac", "broken_truncated.ogg", "broken_garbage.flac"}) {
                Files.copy(samples.resolve(s), dir.resolve("broken/" + s));
                broken.add("broken/" + s);
            }
            Map<String, byte[]> bad = new LinkedHashMap<>();
            bad.put("broken/zero.wav", new byte[0]);
            bad.put("broken/notes.txt", "not audio at all\n".getBytes(StandardCharsets.UTF_8));
            byte[] okWav = Files.readAllBytes(dir.resolve(good.get(0)));
            bad.put("broken/header_only.wav", java.util.Arrays.copyOf(okWav, 30));
            bad.put("broken/absurd_rate.wav", withRate(WavWriter.encode(new float[][] {signal(400, 5, rng)}, 5,
                    WavWriter.Format.PCM_16, "x"), 5));
            bad.put("broken/nan.wav", WavWriter.encode(new float[][] {{0.1f, Float.NaN, 0.2f}}, 16000,
                    WavWriter.Format.FLOAT_32, "x"));
            byte[] noise = new byte[2000];
            rng.nextBytes(noise);
            noise[0] = 'x'; // not a frame sync by accident
            bad.put("broken/random.wav", noise);
            for (Map.Entry<String, byte[]> e : bad.entrySet()) {
                Files.write(dir.resolve(e.getKey()), e.getValue());
                broken.add(e.getKey());
            }
            return new Made(good, broken);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] withRate(byte[] wav, int rate) {
        ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN).putInt(24, rate);
        return wav;
    }

    /** Every row of every committed shard of a jsonl job: id -> row. */
    static Map<String, JsonNode> jsonlRows(Path out, List<String> duplicates) throws IOException {
        ObjectMapper om = new ObjectMapper();
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (JsonNode entry : lines(out.resolve("manifest.jsonl"))) {
            if (entry.get("shard").isNull()) {
                continue;
            }
            for (String l : Files.readAllLines(out.resolve(entry.get("shard").asText()))) {
                JsonNode r = om.readTree(l);
                if (rows.put(r.get("id").asText(), r) != null) {
                    duplicates.add(r.get("id").asText());
                }
            }
        }
        return rows;
    }

    static List<JsonNode> lines(Path p) throws IOException {
        ObjectMapper om = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(p)) {
            return out;
        }
        for (String l : Files.readAllLines(p)) {
            if (!l.isBlank()) {
                out.add(om.readTree(l));
            }
        }
        return out;
    }

    static int[][] codes(JsonNode row) {
        JsonNode c = row.get("codes");
        int[][] out = new int[c.size()][];
        for (int k = 0; k < c.size(); k++) {
            out[k] = new int[c.get(k).size()];
            for (int t = 0; t < out[k].length; t++) {
                out[k][t] = c.get(k).get(t).asInt();
            }
        }
        return out;
    }
}
