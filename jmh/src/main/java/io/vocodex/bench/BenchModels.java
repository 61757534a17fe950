package io.vocodex.bench;

import io.vocodex.Audio;
import io.vocodex.codec.distilcodec.DistilCodecConfig;
import io.vocodex.codec.distilcodec.DistilCodecRandom;
import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecRandom;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiRandom;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Model folders and inputs shared by the end-to-end benchmarks.
 *
 * <p>EnCodec: if the system property {@code vocodex.bench.encodec} names a model folder (what
 * {@code scripts/bench-peers} passes: the folder imported from the same safetensors the PyTorch and
 * ONNX Runtime peers load), that folder is used; otherwise a full-size EnCodec 24 kHz with random
 * weights (seed 42) is written to a temporary folder. Mimi ({@link MimiConfig#mimi()}) and
 * DistilCodec always get random weights (seed 42): the weight values do not change the work done.
 */
final class BenchModels {
    private BenchModels() {
    }

    /** A model folder and whether it is temporary (to delete on tear-down). */
    record Folder(Path dir, boolean temporary) {
        void delete() {
            if (!temporary) {
                return;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static Folder encodec24khz() {
        String given = System.getProperty("vocodex.bench.encodec", "");
        if (!given.isEmpty()) {
            return new Folder(Path.of(given), false);
        }
        Path dir = temp("vocodex-bench-encodec");
        EncodecRandom.writeModelFolder(EncodecConfig.encodec24khz(), 42, dir);
        return new Folder(dir, true);
    }

    static Folder mimi() {
        Path dir = temp("vocodex-bench-mimi");
        writeMimi(dir);
        return new Folder(dir, true);
    }

    static Folder distilcodec(String config) {
        Path dir = temp("vocodex-bench-distilcodec");
        writeDistilCodec(config, dir);
        return new Folder(dir, true);
    }

    /** The Mimi folder every Mimi benchmark runs (also written for the peers by {@link PeerSide}). */
    static void writeMimi(Path dir) {
        MimiRandom.writeModelFolder(MimiConfig.mimi(), 42, dir);
    }

    /** The DistilCodec folder of {@code config} ({@code released} or {@code tiny}) the benchmarks run. */
    static void writeDistilCodec(String config, Path dir) {
        DistilCodecConfig c = switch (config) {
            case "released" -> DistilCodecConfig.released();
            case "tiny" -> DistilCodecConfig.tiny();
            default -> throw new IllegalArgumentException("distilcodec config: released or tiny, got " + config);
        };
        DistilCodecRandom.writeModelFolder(c, 42, dir);
    }

    /** Seeded noise, 0.1 x gaussian (the same recipe as {@code vocodex bench}). */
    static Audio noise(int samples, int sampleRate, long seed) {
        Random r = new Random(seed);
        float[] x = new float[samples];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.1 * r.nextGaussian());
        }
        return Audio.of(x, sampleRate);
    }

    private static Path temp(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
