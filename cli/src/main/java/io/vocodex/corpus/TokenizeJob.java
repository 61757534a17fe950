package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.VocodexException;
import io.vocodex.audio.AudioFiles;
import io.vocodex.audio.AudioLoader;
import io.vocodex.audio.DecodedAudio;
import io.vocodex.audio.ResampleMode;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The corpus tokenization job behind {@code vocodex tokenize}: see docs/tokenize.md.
 *
 * <p>Decoder threads read, decode, downmix and resample files into a bounded queue (at most
 * {@code queue} files and {@code bufferSeconds} of audio waiting); the calling thread takes them in
 * windows, sorts each window by length, encodes it in batches of similar lengths
 * ({@link Codec#encodeBatch}; files longer than {@code chunkSeconds} through the streaming encoder
 * chunk by chunk, which gives the same codes), and writes rows into the current shard. Every
 * {@code shardSize} rows the shard is committed (see {@link JobLog}); a re-run skips every input a
 * commit names, so that killed at any point and re-run, the job tokenizes every input exactly once.
 */
public final class TokenizeJob {
    /** Sample rates outside this range are reported as implausible. */
    public static final int MIN_RATE = 1000;
    public static final int MAX_RATE = 1_000_000;
    static final String JOB = "job.json";
    static final String ERRORS = "errors.jsonl";

    /** What to do. */
    public record Options(Path input, Path output, double bandwidth, ShardFormat format, int shardSize,
                          int batchSize, int decodeThreads, double chunkSeconds, double maxSeconds,
                          double bufferSeconds, double logIntervalSeconds) {
    }

    /** What was done by this run (and before it). */
    public record Summary(int inputs, int tokenized, int failed, int alreadyDone, double audioSeconds,
                          double wallSeconds, int shardsWritten, int shardsTotal, Path errors) {
    }

    private record Decoded(CorpusInput.Item item, Audio audio, String container, int sourceRate, int sourceChannels,
                           int permits) {
    }

    private record Failed(CorpusInput.Item item, String reason) {
    }

    private final Codec codec;
    private final JobInfo info;
    private final Options o;
    private final PrintWriter err;
    private final boolean tty;

    private JobLog log;
    private Progress progress;
    private int shardIndex;
    private ShardWriter writer;
    private final List<String> pendingIds = new ArrayList<>();
    private final List<JobLog.ErrorRecord> pendingErrors = new ArrayList<>();
    private long pendingFrames;
    private double pendingSeconds;
    private int tokenized;
    private int failed;
    private int shardsWritten;
    private double audioSeconds;
    private final java.util.concurrent.atomic.AtomicLong decodeNanos = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong resampleNanos = new java.util.concurrent.atomic.AtomicLong();
    private long modelNanos;
    private long writeNanos;

    public TokenizeJob(Codec codec, String modelName, Options options, PrintWriter err, boolean tty) {
        this.codec = codec;
        this.o = options;
        this.err = err;
        this.tty = tty;
        this.info = new JobInfo(modelName, codec.architecture(), codec.sampleRate(), codec.frameRate(), options.bandwidth(),
                codec.codebooksFor(options.bandwidth()), codec.codebookSize(), options.format());
    }

    public Summary run() {
        Path out = o.output();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new VocodexException(out + ": cannot create the output folder: " + e.getMessage(), e);
        }
        checkJob(out);
        log = JobLog.open(out);
        recover(out);
        Set<String> done = new HashSet<>();
        for (JobLog.Entry e : log.entries()) {
            done.addAll(e.ids());
            e.errors().forEach(r -> done.add(r.id()));
            if (e.shard() != null) {
                shardIndex = Math.max(shardIndex, e.index() + 1);
            }
        }
        List<CorpusInput.Item> all = CorpusInput.read(o.input(), out);
        List<CorpusInput.Item> todo = all.stream().filter(it -> !done.contains(it.id())).toList();
        int already = all.size() - todo.size();
        if (already > 0) {
            err.printf("tokenize: resuming: %d of %d inputs already done in %d commits%n", already, all.size(),
                    log.entries().size());
        }
        progress = new Progress(err, tty, o.logIntervalSeconds(), todo.size());
        pipeline(todo, progress);
        int shardsTotal = (int) log.entries().stream().filter(e -> e.shard() != null).count();
        Summary s = new Summary(all.size(), tokenized, failed, already, audioSeconds, progress.elapsed(), shardsWritten,
                shardsTotal, out.resolve(ERRORS));
        int failedTotal = log.entries().stream().mapToInt(e -> e.errors().size()).sum();
        String timing = tokenized == 0 ? "" : String.format("tokenize: time in decode %.1f s and resample %.1f s (on %d "
                        + "decoder threads, overlapped with the model), model %.1f s, write+commit %.1f s%n",
                decodeNanos.get() / 1e9, resampleNanos.get() / 1e9, o.decodeThreads(), modelNanos / 1e9, writeNanos / 1e9);
        progress.finish(timing + String.format("tokenized %d files (%.3f h of audio) in %.1f s (real-time factor %s), "
                        + "%d failed, %d already done; %d shards written (%d in total) in %s; %d inputs failed in all%s",
                tokenized, audioSeconds / 3600, s.wallSeconds(),
                audioSeconds > 0 ? String.format("%.4f", s.wallSeconds() / audioSeconds) : "--",
                failed, already, shardsWritten, shardsTotal, out, failedTotal,
                failedTotal > 0 ? " (see " + out.resolve(ERRORS) + ")" : ""));
        return s;
    }

    /** Whether any input of the whole job (this run or earlier) failed. */
    public boolean anyFailed() {
        return log.entries().stream().anyMatch(e -> !e.errors().isEmpty());
    }

    // ---- job identity -------------------------------------------------------------------------

    private void checkJob(Path out) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode want = om.createObjectNode();
        want.put("model", info.model());
        want.put("architecture", info.architecture());
        want.put("sample_rate", info.sampleRate());
        want.put("frame_rate", info.frameRate());
        want.put("bandwidth", info.bandwidth());
        want.put("codebooks", info.codebooks());
        want.put("codebook_size", info.codebookSize());
        want.put("format", info.format().name().toLowerCase(java.util.Locale.ROOT));
        Path job = out.resolve(JOB);
        if (Files.exists(job)) {
            JsonNode have;
            try {
                have = om.readTree(job.toFile());
            } catch (IOException e) {
                throw new VocodexException(job + ": unreadable: " + e.getMessage(), e);
            }
            for (java.util.Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!want.get(k).equals(have.get(k))) {
                    throw new VocodexException(out + " holds a job with " + k + " = " + have.get(k) + ", this run has "
                            + want.get(k) + "; resume with the same settings or use another output folder");
                }
            }
            return;
        }
        try {
            Durable.writeAtomically(job, (om.writeValueAsString(want) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new VocodexException(job + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Finishes committed renames, removes uncommitted shards and rebuilds errors.jsonl from the log. */
    private void recover(Path out) {
        Set<String> committed = new HashSet<>();
        for (JobLog.Entry e : log.entries()) {
            if (e.shard() == null) {
                continue;
            }
            committed.add(e.shard());
            Path fin = out.resolve(e.shard());
            if (!Files.exists(fin)) {
                Path tmp = out.resolve(o.format().tempName(e.index()));
                if (!Files.exists(tmp)) {
                    throw new VocodexException(fin + ": committed in " + JobLog.NAME + " but missing; the output folder "
                            + "was changed by hand (remove its line from " + JobLog.NAME + " to redo those files)");
                }
                Durable.rename(tmp, fin);
            }
        }
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                boolean tmpShard = n.startsWith(".shard-") && n.endsWith(".tmp");
                boolean strayShard = n.startsWith("shard-") && !committed.contains(n);
                if (tmpShard || strayShard) {
                    Durable.deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new VocodexException(out + ": cannot list: " + e.getMessage(), e);
        }
        StringBuilder errs = new StringBuilder();
        for (JobLog.Entry e : log.entries()) {
            for (JobLog.ErrorRecord r : e.errors()) {
                errs.append(JobLog.errorLine(r)).append('\n');
            }
        }
        Durable.writeAtomically(out.resolve(ERRORS), errs.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ---- the pipeline -------------------------------------------------------------------------

    private void pipeline(List<CorpusInput.Item> todo, Progress progress) {
        int n = todo.size();
        if (n == 0) {
            return;
        }
        int rate = codec.sampleRate();
        int budget = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (long) (o.bufferSeconds() * rate)));
        Semaphore room = new Semaphore(budget);
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(Math.max(2, 2 * o.batchSize()));
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(o.decodeThreads(), r -> {
            Thread t = new Thread(r, "vocodex-decode");
            t.setDaemon(true);
            return t;
        });
        AtomicInteger live = new AtomicInteger(o.decodeThreads());
        for (int w = 0; w < o.decodeThreads(); w++) {
            pool.execute(() -> {
              try {
                while (!stop.get()) {
                    int i = next.getAndIncrement();
                    if (i >= n) {
                        return;
                    }
                    Object r = load(todo.get(i), rate, budget);
                    try {
                        if (r instanceof Decoded d) {
                            room.acquire(d.permits());
                        }
                        queue.put(r);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
              } finally {
                live.decrementAndGet();
              }
            });
        }
        int window = Math.max(1, 4 * o.batchSize());
        List<Decoded> pending = new ArrayList<>();
        int received = 0;
        try {
            while (received < n) {
                Object r;
                try {
                    r = queue.poll(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VocodexException("interrupted");
                }
                if (r == null) {
                    if (live.get() == 0 && queue.isEmpty()) {
                        throw new VocodexException("the decoder threads stopped with " + (n - received)
                                + " inputs unaccounted for (internal error)");
                    }
                    if (!pending.isEmpty()) {
                        encode(pending, room); // the decoders are slower than the model: do not wait for a full window
                    }
                } else {
                    received++;
                    if (r instanceof LinkageError e) {
                        throw new VocodexException("cannot decode audio, the installation is broken: " + e, e);
                    }
                    if (r instanceof Failed f) {
                        fail(f.item(), f.reason());
                    } else {
                        pending.add((Decoded) r);
                        if (pending.size() >= window) {
                            encode(pending, room);
                        }
                    }
                }
                progress.update(tokenized, failed, audioSeconds);
            }
            encode(pending, room);
            if (!pendingIds.isEmpty() || !pendingErrors.isEmpty()) {
                commit();
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
            if (writer != null) {
                writer.close();
                writer = null;
            }
        }
    }

    /** Reads, decodes, downmixes and resamples one input; never throws. */
    private Object load(CorpusInput.Item it, int rate, int budget) {
        if (it.problem() != null) {
            return new Failed(it, it.problem());
        }
        String name = it.file().toString();
        try {
            long t0 = System.nanoTime();
            DecodedAudio d = AudioFiles.decode(it.file());
            long t1 = System.nanoTime();
            decodeNanos.addAndGet(t1 - t0);
            if (d.sampleRate() < MIN_RATE || d.sampleRate() > MAX_RATE) {
                return new Failed(it, "implausible sample rate " + d.sampleRate() + " Hz (want " + MIN_RATE + ".."
                        + MAX_RATE + ")");
            }
            if (d.durationSeconds() > o.maxSeconds()) {
                return new Failed(it, String.format("%.1f s long, more than --max-seconds %s", d.durationSeconds(),
                        o.maxSeconds()));
            }
            AudioLoader.Loaded l = AudioLoader.prepare(d, name, rate, ResampleMode.RESAMPLE);
            resampleNanos.addAndGet(System.nanoTime() - t1);
            return new Decoded(it, l.audio(), d.container(), d.sampleRate(), d.numChannels(),
                    Math.min(l.audio().length(), budget));
        } catch (VocodexException e) {
            return new Failed(it, reason(e.getMessage(), name));
        } catch (OutOfMemoryError e) {
            return new Failed(it, "too large to decode in memory");
        } catch (RuntimeException | StackOverflowError e) {
            return new Failed(it, "decoder failure: " + e);
        } catch (LinkageError e) {
            return e; // a broken installation, not a bad file: stops the job
        }
    }

    static String reason(String message, String name) {
        return message.startsWith(name + ": ") ? message.substring(name.length() + 2) : message;
    }

    private void fail(CorpusInput.Item it, String reason) {
        pendingErrors.add(new JobLog.ErrorRecord(it.id(), it.path(), reason));
        failed++;
    }

    /** Encodes and writes every file of {@code window} (sorted by length, batched), then empties it. */
    private void encode(List<Decoded> window, Semaphore room) {
        window.sort(Comparator.comparingInt(d -> d.audio().length()));
        int chunk = (int) Math.max(codec.hopLength(), Math.min(Integer.MAX_VALUE, o.chunkSeconds() * codec.sampleRate()));
        int i = 0;
        while (i < window.size()) {
            if (window.get(i).audio().length() > chunk) {
                Decoded d = window.get(i++);
                Tokens t;
                try {
                    long t0 = System.nanoTime();
                    t = streamed(d.audio(), chunk);
                    modelNanos += System.nanoTime() - t0;
                } catch (VocodexException e) {
                    failEncode(d, e, room);
                    continue;
                }
                emit(d, t, room);
                continue;
            }
            int j = i;
            while (j < window.size() && j - i < o.batchSize() && window.get(j).audio().length() <= chunk) {
                j++;
            }
            List<Decoded> batch = window.subList(i, j);
            List<Tokens> tokens = null;
            try {
                long t0 = System.nanoTime();
                tokens = codec.encodeBatch(batch.stream().map(Decoded::audio).toList(), o.bandwidth());
                modelNanos += System.nanoTime() - t0;
            } catch (VocodexException e) {
                // find the culprit: encode one by one
            }
            for (int k = 0; k < batch.size(); k++) {
                Decoded d = batch.get(k);
                if (tokens != null) {
                    emit(d, tokens.get(k), room);
                    continue;
                }
                try {
                    emit(d, codec.encode(d.audio(), o.bandwidth()), room);
                } catch (VocodexException e) {
                    failEncode(d, e, room);
                }
            }
            i = j;
        }
        window.clear();
    }

    private void failEncode(Decoded d, VocodexException e, Semaphore room) {
        room.release(d.permits());
        fail(d.item(), "encoding failed: " + e.getMessage());
    }

    /** The codes of {@code audio} through the streaming encoder, {@code chunk} samples per push. */
    private Tokens streamed(Audio audio, int chunk) {
        float[] pcm = audio.samples();
        int k = codec.codebooksFor(o.bandwidth());
        List<int[][]> parts = new ArrayList<>();
        int frames = 0;
        try (StreamingEncoder enc = codec.streamingEncoder(o.bandwidth())) {
            for (int i = 0; i < pcm.length; i += chunk) {
                Tokens t = enc.push(Arrays.copyOfRange(pcm, i, Math.min(pcm.length, i + chunk)));
                if (t.numFrames() > 0) {
                    parts.add(t.codes());
                    frames += t.numFrames();
                }
            }
            Tokens t = enc.flush();
            if (t.numFrames() > 0) {
                parts.add(t.codes());
                frames += t.numFrames();
            }
        }
        int[][] codes = new int[k][frames];
        int at = 0;
        for (int[][] p : parts) {
            for (int q = 0; q < k; q++) {
                System.arraycopy(p[q], 0, codes[q], at, p[q].length);
            }
            at += p[0].length;
        }
        return new Tokens(codes, codec.frameRate(), codec.codebookSize());
    }

    private void emit(Decoded d, Tokens t, Semaphore room) {
        room.release(d.permits());
        CorpusInput.Item it = d.item();
        Row row = new Row(it.id(), it.path(), it.text(), t.codes(), d.audio().durationSeconds(), d.container(),
                d.sourceRate(), d.sourceChannels());
        if (writer == null) {
            Path tmp = o.output().resolve(o.format().tempName(shardIndex));
            Durable.deleteTree(tmp);
            writer = o.format().open(tmp, info);
        }
        long t0 = System.nanoTime();
        writer.write(row);
        writeNanos += System.nanoTime() - t0;
        pendingIds.add(it.id());
        pendingFrames += row.frames();
        pendingSeconds += row.duration();
        tokenized++;
        audioSeconds += row.duration();
        progress.update(tokenized, failed, audioSeconds);
        if (pendingIds.size() >= o.shardSize()) {
            long t1 = System.nanoTime();
            commit();
            writeNanos += System.nanoTime() - t1;
        }
    }

    /** Completes the current shard, appends its commit line, renames it into place. */
    private void commit() {
        String shard = null;
        if (writer != null) {
            writer.finish();
            writer = null;
            shard = o.format().shardName(shardIndex);
        }
        JobLog.Entry e = new JobLog.Entry(shard, shard == null ? -1 : shardIndex, List.copyOf(pendingIds),
                List.copyOf(pendingErrors), pendingFrames, pendingSeconds);
        log.append(e);
        if (shard != null) {
            Durable.rename(o.output().resolve(o.format().tempName(shardIndex)), o.output().resolve(shard));
            shardIndex++;
            shardsWritten++;
        }
        if (!pendingErrors.isEmpty()) {
            StringBuilder s = new StringBuilder();
            pendingErrors.forEach(r -> s.append(JobLog.errorLine(r)).append('\n'));
            try {
                Files.writeString(o.output().resolve(ERRORS), s, StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException ex) {
                throw new VocodexException(o.output().resolve(ERRORS) + ": cannot append: " + ex.getMessage(), ex);
            }
        }
        pendingIds.clear();
        pendingErrors.clear();
        pendingFrames = 0;
        pendingSeconds = 0;
    }
}
