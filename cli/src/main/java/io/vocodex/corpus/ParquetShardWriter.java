package io.vocodex.corpus;

import io.vocodex.VocodexException;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Parquet shard (Snappy-compressed): {@code id}, {@code path}, {@code text} (nullable),
 * {@code frames}, {@code duration}, {@code model}, {@code bandwidth}, {@code format},
 * {@code source_sample_rate}, {@code source_channels}, then {@code codebook_0} ..
 * {@code codebook_<K-1>}, each a standard 3-level {@code list<int32>}.
 *
 * <p>Written with parquet-hadoop's {@link ParquetWriter} through its Hadoop-free entry points
 * ({@link LocalOutputFile}, {@link PlainParquetConfiguration}); the few Hadoop classes its
 * signatures still name come from parquet-floor's stubs, so no Hadoop jar is needed at run time.
 */
final class ParquetShardWriter implements ShardWriter {
    private final Path path;
    private final ParquetWriter<Row> writer;

    ParquetShardWriter(Path path, JobInfo job) {
        this.path = path;
        MessageType schema = schema(job.codebooks());
        try {
            writer = new Builder(new LocalOutputFile(path), new Support(schema, job))
                    .withConf(new PlainParquetConfiguration())
                    .withCompressionCodec(CompressionCodecName.SNAPPY)
                    .build();
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot create: " + e.getMessage(), e);
        }
    }

    static MessageType schema(int codebooks) {
        Types.GroupBuilder<MessageType> b = Types.buildMessage()
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("id")
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("path")
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("text")
                .required(PrimitiveTypeName.INT32).named("frames")
                .required(PrimitiveTypeName.DOUBLE).named("duration")
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("model")
                .required(PrimitiveTypeName.DOUBLE).named("bandwidth")
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("format")
                .required(PrimitiveTypeName.INT32).named("source_sample_rate")
                .required(PrimitiveTypeName.INT32).named("source_channels");
        for (int k = 0; k < codebooks; k++) {
            b = b.requiredList().requiredElement(PrimitiveTypeName.INT32).named("codebook_" + k);
        }
        return b.named("vocodex_tokens");
    }

    @Override
    public void write(Row row) {
        try {
            writer.write(row);
        } catch (IOException e) {
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void finish() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
        Durable.fsync(path);
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException | RuntimeException ignored) {
            // abandoned shard
        }
    }

    private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
        private final Support support;

        Builder(OutputFile file, Support support) {
            super(file);
            this.support = support;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(org.apache.hadoop.conf.Configuration conf) {
            return support;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(ParquetConfiguration conf) {
            return support;
        }
    }

    private static final class Support extends WriteSupport<Row> {
        private final MessageType schema;
        private final JobInfo job;
        private RecordConsumer rc;

        Support(MessageType schema, JobInfo job) {
            this.schema = schema;
            this.job = job;
        }

        @Override
        public WriteContext init(org.apache.hadoop.conf.Configuration conf) {
            return init((ParquetConfiguration) null);
        }

        @Override
        public WriteContext init(ParquetConfiguration conf) {
            Map<String, String> meta = new HashMap<>();
            meta.put("vocodex.model", job.model());
            meta.put("vocodex.bandwidth", Double.toString(job.bandwidth()));
            meta.put("vocodex.sample_rate", Integer.toString(job.sampleRate()));
            meta.put("vocodex.frame_rate", Double.toString(job.frameRate()));
            meta.put("vocodex.codebook_size", Integer.toString(job.codebookSize()));
            return new WriteContext(schema, meta);
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            this.rc = recordConsumer;
        }

        private void string(String name, int index, String v) {
            rc.startField(name, index);
            rc.addBinary(Binary.fromString(v));
            rc.endField(name, index);
        }

        private void int32(String name, int index, int v) {
            rc.startField(name, index);
            rc.addInteger(v);
            rc.endField(name, index);
        }

        private void float64(String name, int index, double v) {
            rc.startField(name, index);
            rc.addDouble(v);
            rc.endField(name, index);
        }

        @Override
        public void write(Row r) {
            rc.startMessage();
            string("id", 0, r.id());
            string("path", 1, r.path());
            if (r.text() != null) {
                string("text", 2, r.text());
            }
            int32("frames", 3, r.frames());
            float64("duration", 4, r.duration());
            string("model", 5, job.model());
            float64("bandwidth", 6, job.bandwidth());
            string("format", 7, r.container());
            int32("source_sample_rate", 8, r.sourceRate());
            int32("source_channels", 9, r.sourceChannels());
            int[][] codes = r.codes();
            for (int k = 0; k < codes.length; k++) {
                String name = "codebook_" + k;
                int field = 10 + k;
                rc.startField(name, field);
                rc.startGroup();
                if (codes[k].length > 0) {
                    rc.startField("list", 0);
                    for (int v : codes[k]) {
                        rc.startGroup();
                        rc.startField("element", 0);
                        rc.addInteger(v);
                        rc.endField("element", 0);
                        rc.endGroup();
                    }
                    rc.endField("list", 0);
                }
                rc.endGroup();
                rc.endField(name, field);
            }
            rc.endMessage();
        }
    }
}
