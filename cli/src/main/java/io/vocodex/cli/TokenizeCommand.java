package io.vocodex.cli;

import io.vocodex.Codec;
import io.vocodex.corpus.ShardFormat;
import io.vocodex.corpus.TokenizeJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;

@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Tokenize a corpus: every audio file under a folder, or listed in a manifest, into shards of codes.",
            "Inputs: WAV, FLAC, MP3 and Ogg Vorbis (recognised by content), any rate and channel count "
                    + "(mixed to mono, resampled to the model's rate).",
            "Resumable: killed at any point, the same command finishes the job; every input ends up in exactly "
                    + "one shard or in errors.jsonl. See docs/tokenize.md."},
        footer = {"", "Exit codes: 0 every input tokenized, 3 some inputs failed (listed in OUT/errors.jsonl, the "
                + "rest done), 1 the job itself failed, 2 usage error."})
final class TokenizeCommand extends BaseCommand {
    /** Exit code when the job finished but some inputs failed. */
    static final int SOME_FAILED = 3;

    @Parameters(index = "0", paramLabel = "INPUT",
            description = {"A folder (every non-hidden file below it, ids = relative paths) or a manifest: "
                    + ".jsonl ({\"path\": ..., \"id\": ..., \"text\": ...} per line) or .csv (header with path, "
                    + "optional id, text); relative paths are taken from the manifest's folder."})
    Path input;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model folder (config.json + model.safetensors).")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
            description = "Output folder: shards, manifest.jsonl (the commit log), errors.jsonl, job.json.")
    Path output;

    @Option(names = "--format", defaultValue = "jsonl", paramLabel = "jsonl|npy|parquet",
            description = "Shard format (default: ${DEFAULT-VALUE}): jsonl (codes inline), npy (a folder per shard: "
                    + "int32 [codebooks, frames] .npy per file + index.jsonl), parquet (a list<int32> column per codebook).")
    String format;

    @Option(names = "--shard-size", defaultValue = "1000", paramLabel = "N",
            description = "Files per shard (default: ${DEFAULT-VALUE}); a shard is committed when full and at the end.")
    int shardSize;

    @Option(names = {"-b", "--bandwidth"}, defaultValue = "6", paramLabel = "KBPS",
            description = "Bandwidth in kbps; picks the number of codebooks (default: ${DEFAULT-VALUE}).")
    double bandwidth;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "N",
            description = "Files per model batch; files are sorted by length in windows of 4 batches "
                    + "(default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--decode-threads", paramLabel = "N",
            description = "Threads reading, decoding and resampling files while the model runs "
                    + "(default: half the processors, at least 1).")
    Integer decodeThreads;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU worker threads of the model (default: all available processors).")
    Integer threads;

    @Option(names = "--chunk-seconds", defaultValue = "30", paramLabel = "S",
            description = "Files longer than this go through the streaming encoder in chunks of S seconds "
                    + "(same codes as whole, bounded model memory) (default: ${DEFAULT-VALUE}).")
    double chunkSeconds;

    @Option(names = "--max-seconds", defaultValue = "14400", paramLabel = "S",
            description = "Longer files are recorded as errors (default: ${DEFAULT-VALUE}, 4 hours).")
    double maxSeconds;

    @Option(names = "--buffer-seconds", defaultValue = "600", paramLabel = "S",
            description = "At most this much decoded audio waits for the model (bounds memory whatever the "
                    + "corpus size; a longer file still fits alone) (default: ${DEFAULT-VALUE}).")
    double bufferSeconds;

    @Option(names = "--log-interval", defaultValue = "10", paramLabel = "S",
            description = "When stderr is not a terminal: seconds between progress lines (default: ${DEFAULT-VALUE}). "
                    + "On a terminal a one-line progress bar is redrawn instead.")
    double logInterval;

    @Override
    public Integer call() {
        ShardFormat fmt;
        try {
            fmt = ShardFormat.valueOf(format.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw usage("--format must be jsonl, npy or parquet, got " + format);
        }
        if (shardSize < 1) {
            throw usage("--shard-size must be >= 1, got " + shardSize);
        }
        if (batchSize < 1) {
            throw usage("--batch-size must be >= 1, got " + batchSize);
        }
        int dt = decodeThreads == null ? Math.max(1, Runtime.getRuntime().availableProcessors() / 2) : decodeThreads;
        if (dt < 1) {
            throw usage("--decode-threads must be >= 1, got " + dt);
        }
        for (double v : new double[] {chunkSeconds, maxSeconds, bufferSeconds, logInterval}) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw usage("--chunk-seconds, --max-seconds, --buffer-seconds and --log-interval must be positive");
            }
        }
        try (Codec codec = Codec.load(model, device(threads))) {
            codec.codebooksFor(bandwidth);
            codec.streamingEncoder(bandwidth).close(); // checks the bandwidth before any work
            Path name = model.toAbsolutePath().normalize().getFileName();
            TokenizeJob job = new TokenizeJob(codec, name == null ? "model" : name.toString(),
                    new TokenizeJob.Options(input, output, bandwidth, fmt, shardSize, batchSize, dt, chunkSeconds,
                            maxSeconds, bufferSeconds, logInterval),
                    err(), System.console() != null);
            job.run();
            return job.anyFailed() ? SOME_FAILED : 0;
        }
    }
}
