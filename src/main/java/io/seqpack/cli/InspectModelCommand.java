package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code seqpack inspect-model DIR}: validate a model directory and describe it. */
@Command(name = "inspect-model", header = "print and validate a model directory",
    description = "Validates DIR (model.json + model.safetensors) exactly as 'seqpack score' does before it starts, "
        + "and prints the architecture, the parameter count, every tensor with its shape, and the content hash. "
        + "Exit status 0 if the model is valid, 2 with a one-line reason if not.")
final class InspectModelCommand implements Cli.Command {
  /** DIR: in the synopsis, explained by the description; counted by execute(). */
  @Parameters(paramLabel = "DIR", arity = "0..*", hidden = true)
  List<String> dirs = new ArrayList<>();

  @Mixin Cli.WeightsFlag weights;
  @Mixin Cli.Common common;

  @Override
  public void execute(PrintStream out) {
    if (dirs.size() != 1) {
      throw new ConfigException("Expected exactly one model directory (seqpack inspect-model DIR)");
    }
    Path dir = Path.of(dirs.get(0));
    LoadedModel model =
        ModelLoader.load(ModelLoader.readDirectory(dir), dir.toString(), weights.allowNonFiniteWeights);
    out.print(ModelLoader.describe(model));
    out.println("kernels:      " + SequenceModel.kernelsOnThisCpu());
    out.println("OK: the model is valid");
  }
}
