package io.vocodex.cli;

import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecImporter;
import io.vocodex.codec.mimi.MimiImporter;
import io.vocodex.codec.distilcodec.DistilCodecImporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert an original checkpoint into a Vocodex model folder (config.json + model.safetensors).",
            "Every missing, extra or misshaped tensor is reported at once."})
final class ImportCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "KIND",
            description = "Model kind. Supported: encodec_24khz (EnCodec; hyper-parameters default to the 24 kHz "
                    + "model and can be overridden with --hparams); mimi (Kyutai Mimi; --hparams takes the original "
                    + "loader's seanet/transformer/quantizer dictionaries, merged key by key into the published config); distilcodec (DistilCodec; --hparams takes the original "
                    + "repository's model config JSON).")
    String kind;

    @Option(names = {"-w", "--weights"}, required = true, paramLabel = "STATE_DICT.safetensors",
            description = "The original state dict saved as safetensors, original tensor names.")
    Path weights;

    @Option(names = "--hparams", paramLabel = "H.json",
            description = "Optional JSON of original constructor arguments overriding the preset "
                    + "(e.g. {\"n_filters\": 4, \"dimension\": 32, \"n_q\": 4}).")
    Path hparams;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Model folder to write (created if needed).")
    Path output;

    @Override
    public Integer call() {
        if (kind.equals("mimi")) {
            MimiImporter.importModel(weights, hparams, output);
            err().printf("imported %s -> %s (mimi; 'vocodex inspect %s' for details)%n", weights, output, output);
            return 0;
        }
        if (kind.equals("distilcodec")) {
            DistilCodecImporter.importModel(weights, hparams, output);
            err().printf("imported %s -> %s (distilcodec; 'vocodex inspect %s' for details)%n", weights, output, output);
            return 0;
        }
        if (!kind.equals("encodec_24khz")) {
            throw usage("unknown model kind '" + kind + "' (supported: encodec_24khz, mimi, distilcodec)");
        }
        EncodecConfig config = EncodecImporter.importModel(weights, hparams, output);
        err().printf("imported %s -> %s (encodec, %d Hz, %d codebooks x %d codes; 'vocodex inspect %s' for details)%n",
                weights, output, config.toJson().path("sample_rate").asInt(), config.toJson().path("n_q").asInt(),
                config.toJson().path("bins").asInt(), output);
        return 0;
    }
}
