package io.vocodex.cli;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Tokens;
import io.vocodex.VocodexException;
import io.vocodex.audio.Npy;
import io.vocodex.audio.WavWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;

@Command(name = "decode", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Decode codes (.npy, int32 or int64, shape [codebooks, frames] or [1, codebooks, frames]) "
                + "into a mono WAV file at the model's sample rate.",
            "With --shard, decode every row of a 'vocodex tokenize' shard (jsonl, npy folder or parquet) into "
                    + "OUTDIR/<id>.wav (characters other than letters, digits, '.', '-', '_' in the id become '_')."})
final class DecodeCommand extends BaseCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model folder (config.json + model.safetensors).")
    Path model;

    @Parameters(index = "0", arity = "0..1", paramLabel = "CODES.npy",
            description = "Codes to decode, e.g. from 'vocodex encode' (or use --shard).")
    Path input;

    @Option(names = "--shard", paramLabel = "SHARD",
            description = "A shard written by 'vocodex tokenize' (shard-NNNNNN.jsonl, shard-NNNNNN.parquet or an npy "
                    + "shard folder): decode every row; -o is then a folder.")
    Path shard;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.wav|OUTDIR",
            description = "Output WAV file (or folder with --shard).")
    Path output;

    @Option(names = "--float",
            description = "Write 32-bit float samples (unclipped) instead of 16-bit PCM (clipped to [-1, 1], rounded).")
    boolean asFloat;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU worker threads (default: all available processors).")
    Integer threads;

    @Override
    public Integer call() {
        if ((input == null) == (shard == null)) {
            throw usage(input == null ? "give CODES.npy or --shard SHARD" : "give CODES.npy or --shard, not both");
        }
        if (shard != null) {
            return decodeShard();
        }
        Npy.Array a = Npy.read(input);
        int[][] codes = codes(a, input.toString());
        try (Codec codec = Codec.load(model, device(threads))) {
            Tokens tokens;
            try {
                tokens = new Tokens(codes, codec.frameRate(), codec.codebookSize());
            } catch (VocodexException e) {
                throw new VocodexException(input + ": " + e.getMessage(), e);
            }
            long t0 = System.nanoTime();
            Audio audio;
            try {
                audio = codec.decode(tokens);
            } catch (VocodexException e) {
                throw new VocodexException(input + ": " + e.getMessage(), e);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            WavWriter.write(output, audio, asFloat ? WavWriter.Format.FLOAT_32 : WavWriter.Format.PCM_16);
            err().printf("decoded %s: %d codebooks x %d frames -> %.3f s at %d Hz (%s) in %.3f s "
                            + "(real-time factor %.4f) -> %s%n",
                    input, tokens.numCodebooks(), tokens.numFrames(), audio.durationSeconds(), audio.sampleRate(),
                    asFloat ? "32-bit float" : "16-bit PCM", secs,
                    audio.durationSeconds() > 0 ? secs / audio.durationSeconds() : 0.0, output);
            return 0;
        }
    }

    private Integer decodeShard() {
        try {
            java.nio.file.Files.createDirectories(output);
        } catch (java.io.IOException e) {
            throw new VocodexException(output + ": cannot create the folder: " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        int[] n = {0};
        double[] seconds = {0};
        java.util.Set<String> names = new java.util.HashSet<>();
        try (Codec codec = Codec.load(model, device(threads))) {
            io.vocodex.corpus.ShardReader.forEach(shard, (id, codes) -> {
                Tokens tokens;
                try {
                    tokens = new Tokens(codes, codec.frameRate(), codec.codebookSize());
                } catch (VocodexException e) {
                    throw new VocodexException(shard + ": row " + id + ": " + e.getMessage(), e);
                }
                Audio audio = codec.decode(tokens);
                String base = id.replaceAll("[^A-Za-z0-9._-]", "_");
                String name = base + ".wav";
                for (int k = 2; !names.add(name); k++) {
                    name = base + "~" + k + ".wav";
                }
                WavWriter.write(output.resolve(name), audio, asFloat ? WavWriter.Format.FLOAT_32 : WavWriter.Format.PCM_16);
                n[0]++;
                seconds[0] += audio.durationSeconds();
            });
        }
        err().printf("decoded %s: %d rows -> %.3f s of audio in %.3f s -> %s%n", shard, n[0], seconds[0],
                (System.nanoTime() - t0) / 1e9, output);
        return 0;
    }

    /** {@code [codebooks][frames]} from an integer array of shape {@code [K, T]} or {@code [1, K, T]}. */
    static int[][] codes(Npy.Array a, String name) {
        String dt = a.dtype();
        boolean integer = dt.length() >= 2 && (dt.charAt(1) == 'i' || dt.charAt(1) == 'u');
        int[] s = a.shape();
        boolean shapeOk = s.length == 2 || (s.length == 3 && s[0] == 1);
        if (!integer || !shapeOk) {
            throw new VocodexException(name + ": expected integer codes of shape [codebooks, frames] or "
                    + "[1, codebooks, frames], got " + dt + " " + Arrays.toString(s));
        }
        int k = s[s.length - 2];
        int t = s[s.length - 1];
        if (k < 1 || t < 1) {
            throw new VocodexException(name + ": no codes (shape " + Arrays.toString(s) + ")");
        }
        double[] d = a.data();
        int[][] codes = new int[k][t];
        for (int q = 0; q < k; q++) {
            for (int f = 0; f < t; f++) {
                double v = d[q * t + f];
                if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                    throw new VocodexException(name + ": code " + (long) v + " at codebook " + q + ", frame " + f
                            + " is out of range");
                }
                codes[q][f] = (int) v;
            }
        }
        return codes;
    }
}
