package io.vocodex.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.codec.distilcodec.DistilCodecConfig;
import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.mimi.MimiConfig;

/**
 * Prints, as one JSON object, the configurations the benchmarks run (original hyper-parameter
 * names): {@code {"encodec24khz": ..., "mimi": ..., "distilcodec_released": ..., "distilcodec_tiny": ...}}.
 * {@code scripts/roofline_counts.py} builds the PyTorch references from these to count MACs and bytes.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PrintConfigs
 * </pre>
 */
public final class PrintConfigs {
    private PrintConfigs() {
    }

    public static void main(String[] args) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.set("encodec24khz", EncodecConfig.encodec24khz().toJson());
        o.set("mimi", MimiConfig.mimi().toJson());
        o.set("distilcodec_released", DistilCodecConfig.released().toJson());
        o.set("distilcodec_tiny", DistilCodecConfig.tiny().toJson());
        System.out.println(o);
    }
}
