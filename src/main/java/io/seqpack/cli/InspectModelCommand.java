package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/** {@code seqpack inspect-model DIR}: validate a model directory and describe it. */
final class InspectModelCommand {
  private InspectModelCommand() {}

  static final String HELP = """
      Usage: seqpack inspect-model DIR [--allow-non-finite-weights]

      Validates DIR (model.json + model.safetensors) exactly as 'seqpack score' does before it starts, and
      prints the architecture, the parameter count, every tensor with its shape, and the content hash.
      Exit status 0 if the model is valid, 2 with a one-line reason if not.
      """;

  static void run(String[] argv, PrintStream out) {
    Args args = Args.parse("inspect-model", argv, Set.of(), Set.of("allow-non-finite-weights"));
    if (args.positional().size() != 1) {
      throw new ConfigException("Expected exactly one model directory (seqpack inspect-model DIR)");
    }
    Path dir = Path.of(args.positional().get(0));
    LoadedModel model =
        ModelLoader.load(ModelLoader.readDirectory(dir), dir.toString(), args.flag("allow-non-finite-weights"));
    out.print(ModelLoader.describe(model));
    out.println("kernels:      " + SequenceModel.kernelsOnThisCpu());
    out.println("OK: the model is valid");
  }
}
