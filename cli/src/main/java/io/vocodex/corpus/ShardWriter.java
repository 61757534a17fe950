package io.vocodex.corpus;

/** Writes the rows of one shard to its temporary name; {@link #finish} leaves it complete and synced. */
interface ShardWriter extends AutoCloseable {
    void write(Row row);

    /** Completes the shard on disk (flushed and fsynced); nothing may be written after. */
    void finish();

    /** Abandons the shard (on errors); the temporary is removed by the next run if not here. */
    @Override
    void close();
}
