package io.vocodex.corpus;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vocodex.VocodexException;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Path;

/** A JSON-lines shard: one object per file (see docs/tokenize.md for the fields). */
final class JsonlShardWriter implements ShardWriter {
    private final Path path;
    private final JobInfo job;
    private final FileOutputStream fos;
    private final JsonGenerator g;

    JsonlShardWriter(Path path, JobInfo job) {
        this.path = path;
        this.job = job;
        try {
            this.fos = new FileOutputStream(path.toFile());
            this.g = new JsonFactory().createGenerator(new java.io.BufferedOutputStream(fos, 1 << 16), JsonEncoding.UTF8);
            g.setRootValueSeparator(null);
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot create: " + e.getMessage(), e);
        }
    }

    static void writeRow(JsonGenerator g, Row r, JobInfo job, String npyFile) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", r.id());
        g.writeStringField("path", r.path());
        if (r.text() != null) {
            g.writeStringField("text", r.text());
        }
        g.writeNumberField("frames", r.frames());
        g.writeNumberField("duration", Math.round(r.duration() * 1e6) / 1e6);
        g.writeStringField("model", job.model());
        g.writeNumberField("bandwidth", job.bandwidth());
        g.writeNumberField("codebooks", r.codes().length);
        g.writeStringField("format", r.container());
        g.writeNumberField("source_sample_rate", r.sourceRate());
        g.writeNumberField("source_channels", r.sourceChannels());
        if (npyFile != null) {
            g.writeStringField("npy", npyFile);
        } else {
            g.writeArrayFieldStart("codes");
            for (int[] cb : r.codes()) {
                g.writeArray(cb, 0, cb.length);
            }
            g.writeEndArray();
        }
        g.writeEndObject();
        g.writeRaw('\n');
    }

    @Override
    public void write(Row row) {
        try {
            writeRow(g, row, job, null);
        } catch (IOException e) {
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void finish() {
        try {
            g.close(); // flushes into fos, leaves it open
            fos.getFD().sync();
            fos.close();
        } catch (IOException e) {
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
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
