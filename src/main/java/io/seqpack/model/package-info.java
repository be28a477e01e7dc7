/**
 * The model format: {@code model.json} ({@link io.seqpack.model.ModelSpec}), the safetensors reader, tensor
 * names and the loader that validates one against the other. No Spark imports.
 */
package io.seqpack.model;
