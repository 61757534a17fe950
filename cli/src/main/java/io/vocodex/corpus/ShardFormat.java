package io.vocodex.corpus;

import java.nio.file.Path;

/** Output formats of a tokenization job. */
public enum ShardFormat {
    /** One JSON object per line per file ({@code shard-NNNNNN.jsonl}). */
    JSONL("jsonl"),
    /** A folder per shard: {@code index.jsonl} plus one int32 {@code [codebooks, frames]} {@code .npy} per file. */
    NPY(""),
    /** One Parquet file per shard, one {@code list<int32>} column per codebook. */
    PARQUET("parquet");

    final String extension;

    ShardFormat(String extension) {
        this.extension = extension;
    }

    /** The committed name of shard {@code index}. */
    public String shardName(int index) {
        String base = String.format("shard-%06d", index);
        return extension.isEmpty() ? base : base + "." + extension;
    }

    /** The name it is written under before it is committed. */
    String tempName(int index) {
        return "." + shardName(index) + ".tmp";
    }

    ShardWriter open(Path tmp, JobInfo job) {
        return switch (this) {
            case JSONL -> new JsonlShardWriter(tmp, job);
            case NPY -> new NpyShardWriter(tmp, job);
            case PARQUET -> new ParquetShardWriter(tmp, job);
        };
    }
}
