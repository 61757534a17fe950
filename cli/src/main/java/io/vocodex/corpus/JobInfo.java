package io.vocodex.corpus;

/**
 * What every row of a job shares: the model's name (its folder name), architecture, sample and
 * frame rate, the bandwidth and the number of codebooks it gives, and the output format.
 */
public record JobInfo(String model, String architecture, int sampleRate, double frameRate, double bandwidth,
                      int codebooks, int codebookSize, ShardFormat format) {
}
