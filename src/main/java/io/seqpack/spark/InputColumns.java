package io.seqpack.spark;

import io.seqpack.InputSchemaException;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.parts.StepInput;
import io.seqpack.model.parts.TokenInput;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Which input column feeds each of the model's inputs, resolved and type-checked on the driver: one {@link
 * Step} per per-step input (in the model's order) and one {@link Static} per static feature. A model input reads
 * the column of its own name, unless {@code columns} renames it ({@code --col NAME=COLUMN}); a single-input model
 * also reads {@code seqCol} when it is given ({@code --seq-col}). Messages name the settings through {@link
 * SequenceScorer.Names} (the CLI's flags or the library's setting names).
 */
record InputColumns(List<Step> steps, List<Static> statics) implements Serializable {
  /** A per-step input's column: its position, physical type and what the model needs of it. */
  record Step(String input, String column, int index, SequenceColumnType type, int vocabSize, int width)
      implements Serializable {
    boolean isTokens() {
      return type.isTokens();
    }
  }

  /** A static feature's column: a plain number ({@code size} 1) or an array of {@code size} numbers. */
  record Static(String input, String column, int index, boolean scalar, int size) implements Serializable {}

  static InputColumns resolve(ModelGraph graph, StructType schema, String seqCol, Map<String, String> columns,
      SequenceScorer.Names names) {
    for (String name : columns.keySet()) {
      boolean known = graph.inputs().stream().anyMatch(in -> in.name().equals(name))
          || graph.statics().stream().anyMatch(st -> st.name().equals(name));
      if (!known) {
        List<String> inputs = new ArrayList<>();
        graph.inputs().forEach(in -> inputs.add(in.name()));
        graph.statics().forEach(st -> inputs.add(st.name()));
        throw new InputSchemaException("Cannot map model input '" + name + "' (" + names.columns()
            + "): the model's inputs are " + String.join(", ", inputs));
      }
    }
    boolean single = graph.inputs().size() == 1;
    List<Step> steps = new ArrayList<>();
    for (StepInput in : graph.inputs()) {
      String column = columns.getOrDefault(in.name(), single && seqCol != null ? seqCol : in.name());
      String flag = columns.containsKey(in.name()) ? names.mapped(in.name(), column)
          : single && seqCol != null ? names.seqCol() : names.unmapped("model input", in.name());
      int index = Schemas.columnIndex(schema, column, flag);
      SequenceColumnType type = SequenceColumnType.resolve(column, schema.fields()[index].dataType(), in.kind(),
          in.kind() == InputKind.TOKENS ? 1 : in.width(), names.pickColumn());
      steps.add(new Step(in.name(), column, index, type, in instanceof TokenInput t ? t.vocabSize() : 0,
          in.kind() == InputKind.TOKENS ? 1 : in.width()));
    }
    List<Static> statics = new ArrayList<>();
    for (ModelGraph.StaticInput st : graph.statics()) {
      String column = columns.getOrDefault(st.name(), st.name());
      int index = Schemas.columnIndex(schema, column, columns.containsKey(st.name()) ? names.mapped(st.name(), column)
          : names.unmapped("static input", st.name()));
      DataType type = schema.fields()[index].dataType();
      boolean scalar = type instanceof NumericType;
      boolean array = type instanceof ArrayType a
          && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType));
      if (!(array || (scalar && st.size() == 1))) {
        throw new InputSchemaException("Cannot score column '" + column + "' as static input " + st.name()
            + ": its type is " + type.simpleString() + ", expected " + (st.size() == 1
                ? "a number or array<float>/array<double> of 1 value" : "array<float> or array<double> of "
                    + st.size() + " values"));
      }
      statics.add(new Static(st.name(), column, index, scalar, st.size()));
    }
    return new InputColumns(List.copyOf(steps), List.copyOf(statics));
  }

  /** Every column the model reads. */
  /** Each model input's column, per-step inputs first, in the model's order. */
  Map<String, String> columnOfInput() {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    steps.forEach(s -> out.put(s.input(), s.column()));
    statics.forEach(s -> out.put(s.input(), s.column()));
    return out;
  }

  List<String> names() {
    List<String> out = new ArrayList<>();
    steps.forEach(s -> out.add(s.column()));
    statics.forEach(s -> out.add(s.column()));
    return out;
  }

  int staticWidth() {
    return statics.stream().mapToInt(Static::size).sum();
  }
}
