/**
 * Small shared helpers (preconditions, strict JSON on jackson-core, typed path-aware reads of parsed JSON for
 * {@code model.json}, the safetensors header and the run summary). Imports nothing from Spark or ND4J; the
 * layering is held by {@code ArchitectureTest}.
 */
package io.seqpack.util;
