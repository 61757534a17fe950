package io.vocodex.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Load a model folder and print its configuration, sizes and tensor count/bytes as JSON.")
final class InspectCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "Model folder (config.json + model.safetensors).")
    Path dir;

    @Override
    public Integer call() {
        ObjectNode o;
        try (Codec codec = Codec.load(dir, Device.cpu(1))) {
            o = codec.describe();
        }
        Path weights = dir.resolve(ModelFolder.WEIGHTS);
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            long bytes = 0;
            for (TensorInfo t : f.tensors().values()) {
                bytes += t.end() - t.begin();
            }
            o.put("tensors", f.tensors().size());
            o.put("tensor_bytes", bytes);
        }
        try {
            o.put("file_bytes", Files.size(weights));
        } catch (IOException e) {
            throw new VocodexException(weights + ": cannot read size: " + e.getMessage(), e);
        }
        try {
            out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o));
        } catch (JsonProcessingException e) {
            throw new VocodexException("cannot print the description: " + e.getMessage(), e);
        }
        return 0;
    }
}
