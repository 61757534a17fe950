package io.vocodex.corpus;

/**
 * One tokenized file, as every output format stores it.
 *
 * @param id        the input's key (relative path, or the manifest's id)
 * @param path      the input path as listed (relative to the input folder or as in the manifest)
 * @param text      the manifest's text, or null
 * @param codes     {@code [codebooks][frames]}
 * @param duration  seconds of audio (at the model's rate, after loading)
 * @param container {@code wav}, {@code flac}, {@code mp3} or {@code ogg}
 * @param sourceRate     the file's sample rate
 * @param sourceChannels the file's channel count
 */
public record Row(String id, String path, String text, int[][] codes, double duration, String container,
                  int sourceRate, int sourceChannels) {
    public int frames() {
        return codes.length == 0 ? 0 : codes[0].length;
    }
}
