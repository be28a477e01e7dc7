package io.seqpack.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.ModelFormatException;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.util.StrictJson;
import io.seqpack.util.StrictJson.Invalid;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code model.json} as records: the {@link StrictJson} mapper with the parts' deserializers, and null refused where
 * it means nothing; the records check their ranges ({@link io.seqpack.util.Checks}). Every refusal reads {@code
 * Cannot read model.json in DIR: <json path>: <what>, expected <what>}.
 */
public final class ModelJson {
  public static final ObjectMapper MAPPER = StrictJson.mapper(PartRegistry.jacksonModule());

  private ModelJson() {}

  /** The object of a model.json text, or the error for malformed JSON. */
  static ObjectNode tree(String text, String source) {
    return StrictJson.readObject(MAPPER, text, what(source), ModelFormatException::new);
  }

  /** {@code tree} as a {@code type} record, then {@code build} of it (checks across parts, with paths). */
  static <T, R> R bind(JsonNode tree, Class<T> type, String source, Function<T, R> build) {
    return StrictJson.read(what(source), tree, ModelFormatException::new, () -> {
      refuseNulls(tree, "");
      return build.apply(MAPPER.treeToValue(tree, type));
    });
  }

  /**
   * Refuses JSON null except as the value of a field that may be null: records map an absent field and a null
   * one alike (to the default; Jackson's null setting would refuse the absent one too), and only these fields
   * mean something by null.
   */
  private static void refuseNulls(JsonNode node, String path) {
    if (node.isObject()) {
      node.properties().forEach(e -> {
        if (e.getValue().isNull() && !NULLABLE.contains(e.getKey())) {
          throw new Invalid(StrictJson.join(path, e.getKey()), "null", "a value (only " + String.join(", ", NULLABLE)
              + " may be null)");
        }
        refuseNulls(e.getValue(), StrictJson.join(path, e.getKey()));
      });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        if (node.get(i).isNull()) {
          throw new Invalid(path + "[" + i + "]", "null", "a value");
        }
        refuseNulls(node.get(i), path + "[" + i + "]");
      }
    }
  }

  /** The fields whose null means something: no padding index, no norm, zero initial states. */
  private static final List<String> NULLABLE = List.of("padding_idx", "norm", "h0", "c0");

  private static String what(String source) {
    return "model.json in " + source;
  }

  /** The constant of {@code values} spelled {@code value}, for an enum's {@code @JsonCreator}. */
  static <E extends Enum<E>> E choice(JsonNode value, E[] values, Function<E, String> spelling) {
    for (E e : values) {
      if (value.isTextual() && spelling.apply(e).equals(value.asText())) {
        return e;
      }
    }
    throw new Invalid("", StrictJson.text(value), "one of "
        + Arrays.stream(values).map(spelling).collect(Collectors.joining(", ")));
  }
}
