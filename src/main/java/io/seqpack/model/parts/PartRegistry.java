package io.seqpack.model.parts;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.model.ModelJson;
import io.seqpack.util.StrictJson;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Where {@code model.json} spellings meet part classes: the graph's JSON, the loader, {@code inspect-model} and the
 * engine find every input kind, recurrent mode, pooling kind, head layer and norm here, never through a {@code switch}. Adding
 * a part is its class and one line below (a recurrent mode also has its cell in the engine).
 */
public final class PartRegistry {
  /** {@code {"name": "x", "kind": "tokens", ...}}. */
  public static final Family<StepInput> INPUTS = new Family<>(StepInput.class, "kind")
      .add("tokens", TokenInput.class)
      .add("features", FeatureInput.class);

  /** {@code "LSTM"}: a name only, as PyTorch spells the module. */
  public static final Family<RecurrentMode> RECURRENT_MODES = Family.namesOnly(RecurrentMode.class)
      .add("RNN_TANH", RnnTanhMode.class)
      .add("RNN_RELU", RnnReluMode.class)
      .add("LSTM", LstmMode.class)
      .add("GRU", GruMode.class);

  /** {@code "last"}, or {@code {"attention": {...}}}: a name, or a one-key object of the name and its config. */
  public static final Family<PoolingPart> POOLING = new Family<>(PoolingPart.class, null)
      .add("last", LastPooling.class)
      .add("first", FirstPooling.class)
      .add("mean", MeanPooling.class)
      .add("max", MaxPooling.class)
      .add("attention", AttentionPooling.class)
      .add("last_k_mean", LastKMeanPooling.class)
      .add("hidden", HiddenPooling.class)
      .add("dot_attention", DotAttentionPooling.class)
      .add("query_attention", QueryAttentionPooling.class);

  /** {@code {"type": "linear", ...}}. */
  public static final Family<HeadLayer> HEAD_LAYERS = new Family<>(HeadLayer.class, "type")
      .add("linear", LinearLayer.class)
      .add("relu", ReluLayer.class)
      .add("leaky_relu", LeakyReluLayer.class)
      .add("elu", EluLayer.class)
      .add("gelu", GeluLayer.class)
      .add("tanh", TanhLayer.class)
      .add("sigmoid", SigmoidLayer.class)
      .add("dropout", DropoutLayer.class)
      .add("identity", IdentityLayer.class)
      .add("layer_norm", LayerNorm.class)
      .add("batch_norm", BatchNorm.class)
      .add("tied", TiedLayer.class);

  /** An input's {@code norm}: {@code {"type": "batch_norm", ...}}. */
  public static final Family<Norm> NORMS = new Family<>(Norm.class, "type")
      .add("batch_norm", BatchNorm.class)
      .add("layer_norm", LayerNorm.class);

  private PartRegistry() {}

  /** The deserializers of every family, for the model.json mapper. */
  public static SimpleModule jacksonModule() {
    SimpleModule module = new SimpleModule("seqpack-parts");
    INPUTS.register(module);
    RECURRENT_MODES.register(module);
    POOLING.register(module);
    HEAD_LAYERS.register(module);
    NORMS.register(module);
    return module;
  }

  /**
   * The parts of one kind by JSON spelling. {@code typeField} null: a part is written as its name (no config) or
   * {@code {name: config}} (only its name when {@code namesOnly}); else as an object whose {@code typeField} names
   * it, the rest being its config.
   */
  public static final class Family<T> {
    private final Class<T> base;
    private final String typeField;
    private final boolean namesOnly;
    private final Map<String, Class<? extends T>> byName = new LinkedHashMap<>();

    Family(Class<T> base, String typeField) {
      this(base, typeField, false);
    }

    private Family(Class<T> base, String typeField, boolean namesOnly) {
      this.base = base;
      this.typeField = typeField;
      this.namesOnly = namesOnly;
    }

    /** A family of parts without config, written as their names. */
    static <T> Family<T> namesOnly(Class<T> base) {
      return new Family<>(base, null, true);
    }

    Family<T> add(String name, Class<? extends T> part) {
      byName.put(name, part);
      return this;
    }

    /** The spellings, in registration order, e.g. {@code last, first, mean}. */
    public String names() {
      return String.join(", ", byName.keySet());
    }

    /** The spellings of the parts for which {@code test} holds, e.g. the modes with a cell state. */
    public String names(Predicate<T> test) {
      return byName.keySet().stream().filter(name -> test.test(plain(name))).collect(Collectors.joining(", "));
    }

    /** Every part of a family without config, in registration order. */
    public List<T> all() {
      return byName.keySet().stream().map(this::plain).toList();
    }

    /** The part spelled {@code name} with its default config (a name that needs none, such as {@code last}). */
    public T plain(String name) {
      try {
        return ModelJson.MAPPER.treeToValue(JsonNodeFactory.instance.objectNode(), byName.get(name));
      } catch (IOException e) {
        throw new IllegalArgumentException(name + " needs a config", e);
      }
    }

    /** The spelling of a part of this family. */
    public String nameOf(T part) {
      return byName.entrySet().stream().filter(e -> e.getValue() == part.getClass()).findFirst()
          .orElseThrow(() -> new IllegalStateException(part.getClass() + " is not registered")).getKey();
    }

    private void register(SimpleModule module) {
      module.addDeserializer(base, new StdDeserializer<T>(base) {
        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
          return read(ctxt.readTree(p), ctxt);
        }
      });
    }

    private T read(JsonNode node, DeserializationContext ctxt) throws IOException {
      String expected = "one of " + names();
      JsonNode config;
      String name;
      String at = null; // where the config sits, for the path of its errors
      if (typeField != null) {
        if (!node.isObject()) {
          throw new StrictJson.Invalid("", StrictJson.text(node), "an object with \"" + typeField + "\": " + expected);
        }
        JsonNode type = node.get(typeField);
        if (type == null || !type.isTextual() || !byName.containsKey(type.asText())) {
          throw new StrictJson.Invalid(typeField, type == null ? "missing" : StrictJson.text(type), expected);
        }
        name = type.asText();
        ObjectNode rest = ((ObjectNode) node).deepCopy();
        rest.remove(typeField);
        config = rest;
      } else if (node.isTextual() && byName.containsKey(node.asText())) {
        name = node.asText();
        config = JsonNodeFactory.instance.objectNode();
      } else if (!namesOnly && node.isObject() && node.size() == 1 && byName.containsKey(node.fieldNames().next())) {
        name = node.fieldNames().next();
        config = node.get(name);
        at = name;
      } else {
        throw new StrictJson.Invalid("", StrictJson.text(node), namesOnly ? expected
            : expected + " (a name, or {name: {...}})");
      }
      try {
        return ctxt.readTreeAsValue(config, byName.get(name));
      } catch (JsonMappingException e) {
        throw at == null ? e : JsonMappingException.wrapWithPath(e, node, at);
      }
    }
  }
}
