#!/usr/bin/env bash
# Regenerates the small compressed audio samples the decoder tests read
# (java-api/src/test/resources/audio/). Needs espeak-ng and sox with MP3 support
# (Debian: apt-get install espeak-ng sox libsox-fmt-mp3). Tests never run these tools.
set -euo pipefail
cd "$(dirname "$0")/.."
out=java-api/src/test/resources/audio
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

espeak-ng -v en -s 190 -w "$tmp/raw.wav" "one two"
# the reference signal: 0.6 s mono at 16 kHz (committed), and a stereo 44.1 kHz version
# (right = 0.5 x left, delayed 10 ms; not committed)
sox "$tmp/raw.wav" -r 16000 -b 16 -c 1 "$out/ref_16k_mono.wav" trim 0 0.6 norm -3
sox "$out/ref_16k_mono.wav" -r 44100 -b 16 "$tmp/l.wav"
sox "$tmp/l.wav" "$tmp/r.wav" vol 0.5 pad 0.01 trim 0 0.6
sox -M "$tmp/l.wav" "$tmp/r.wav" -b 16 "$tmp/ref_44k_stereo.wav"

# lossless: FLAC 16-bit mono and 24-bit stereo (decodes to exactly the reference samples)
sox "$out/ref_16k_mono.wav" "$out/flac_16k_mono_s16.flac"
sox "$tmp/ref_44k_stereo.wav" -b 24 "$out/flac_44k_stereo_s24.flac"
# lossy: MP3 (LAME via sox) and Ogg Vorbis, mono and stereo, low bit rates to keep them small
sox "$out/ref_16k_mono.wav" -C 32 "$out/mp3_16k_mono.mp3"
sox "$tmp/ref_44k_stereo.wav" -C 64 "$out/mp3_44k_stereo.mp3"
sox "$out/ref_16k_mono.wav" -C 0 "$out/vorbis_16k_mono.ogg"
sox "$tmp/ref_44k_stereo.wav" -C 0 "$out/vorbis_44k_stereo.ogg"

# broken ones: cut in half (FLAC, Ogg), a FLAC magic with garbage after it
head -c "$(( $(stat -c %s "$out/flac_16k_mono_s16.flac") / 2 ))" "$out/flac_16k_mono_s16.flac" > "$out/broken_truncated.flac"
head -c "$(( $(stat -c %s "$out/vorbis_16k_mono.ogg") / 2 ))" "$out/vorbis_16k_mono.ogg" > "$out/broken_truncated.ogg"
{ printf 'fLaC'; head -c 300 /dev/zero | tr '\0' 'x'; } > "$out/broken_garbage.flac"
ls -l "$out"
