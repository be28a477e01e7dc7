/**
 * Small shared helpers (preconditions, strict JSON on jackson-core). Imports nothing from Spark or ND4J; the
 * layering is held by {@code ArchitectureTest}.
 */
package io.seqpack.util;
