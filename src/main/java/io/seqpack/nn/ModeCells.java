package io.seqpack.nn;

import io.seqpack.model.parts.GruMode;
import io.seqpack.model.parts.LstmMode;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.model.parts.RecurrentMode;
import io.seqpack.model.parts.RnnReluMode;
import io.seqpack.model.parts.RnnTanhMode;
import java.util.Map;
import java.util.function.Function;

/**
 * The engine's cell (step math) of each recurrent mode of {@link PartRegistry#RECURRENT_MODES}: the one place the
 * engine maps a mode to code. The mode's part declares its spelling, weights and options; a new mode is its part,
 * its registry line, its cell and one line here.
 */
final class ModeCells {
  private ModeCells() {}

  /**
   * What one direction of one layer hands its cell: {@code b_hh} (null without bias), {@code h0·W_hhᵀ} and the
   * initial states (null: zeros), and {@code weight_hr} prepared for the time loop (null without projections).
   */
  record DirectionState(int hidden, float[] hiddenBias, float[] initialGates, float[] h0, float[] c0,
      Gemm.Weights projection) {}

  private static final Map<Class<? extends RecurrentMode>, Function<DirectionState, Cell>> CELLS = Map.of(
      RnnTanhMode.class, s -> new SimpleRnnCell(s.hidden(), s.hiddenBias(), false, s.initialGates()),
      RnnReluMode.class, s -> new SimpleRnnCell(s.hidden(), s.hiddenBias(), true, s.initialGates()),
      GruMode.class, s -> new GruCell(s.hidden(), s.hiddenBias(), s.initialGates(), s.h0()),
      LstmMode.class, s -> new LstmCell(s.hidden(), s.hiddenBias(), s.projection(), s.initialGates(), s.c0()));

  /** The cell of {@code mode} for one direction of one layer. */
  static Cell of(RecurrentMode mode, DirectionState state) {
    Function<DirectionState, Cell> cell = CELLS.get(mode.getClass());
    if (cell == null) { // a mode registered for model.json without its step math here
      throw new IllegalStateException("Cannot build model: mode " + mode.spelling() + " has no cell in the engine");
    }
    return cell.apply(state);
  }
}
