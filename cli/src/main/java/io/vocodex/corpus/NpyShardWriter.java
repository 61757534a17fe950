package io.vocodex.corpus;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vocodex.VocodexException;
import io.vocodex.audio.Npy;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A shard folder: {@code 000000.npy}, {@code 000001.npy}, ... (int32 {@code [codebooks, frames]}
 * each, via {@link Npy}) and {@code index.jsonl} with the JSONL fields, {@code npy} naming the file
 * instead of inline {@code codes}.
 */
final class NpyShardWriter implements ShardWriter {
    static final String INDEX = "index.jsonl";
    private final Path dir;
    private final JobInfo job;
    private final FileOutputStream fos;
    private final JsonGenerator g;
    private int n;

    NpyShardWriter(Path dir, JobInfo job) {
        this.dir = dir;
        this.job = job;
        try {
            Files.createDirectories(dir);
            this.fos = new FileOutputStream(dir.resolve(INDEX).toFile());
            this.g = new JsonFactory().createGenerator(new java.io.BufferedOutputStream(fos, 1 << 16), JsonEncoding.UTF8);
            g.setRootValueSeparator(null);
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        } catch (IOException e) {
            throw new VocodexException(dir + ": cannot create: " + e.getMessage(), e);
        }
    }

    @Override
    public void write(Row row) {
        String name = String.format("%06d.npy", n++);
        Npy.writeInts(dir.resolve(name), row.codes()); // written via a synced temporary and a rename
        try {
            JsonlShardWriter.writeRow(g, row, job, name);
        } catch (IOException e) {
            throw new VocodexException(dir + ": write failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void finish() {
        try {
            g.close(); // flushes into fos, leaves it open
            fos.getFD().sync();
            fos.close();
        } catch (IOException e) {
            throw new VocodexException(dir + ": write failed: " + e.getMessage(), e);
        }
        Durable.fsync(dir);
    }

    @Override
    public void close() {
        try {
            g.close();
            fos.close();
        } catch (IOException ignored) {
            // abandoned shard
        }
    }
}
