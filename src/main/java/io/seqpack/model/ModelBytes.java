package io.seqpack.model;

import java.io.Serializable;

/**
 * The raw bytes of a model directory ({@code model.json} and {@code model.safetensors}), which is what the
 * Spark job broadcasts: plain byte arrays, decoded on each executor by {@link ModelLoader}, never Java-
 * serialized model objects.
 */
public record ModelBytes(byte[] modelJson, byte[] safetensors) implements Serializable {}
