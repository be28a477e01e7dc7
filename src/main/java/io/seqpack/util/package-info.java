/**
 * Small shared helpers: preconditions, {@link io.seqpack.util.JsonRecords} (seqpack's JSON files as records mapped
 * by Jackson databind, strictly, with one-line path-bearing errors) and, until {@code model.json} and the
 * safetensors header move to records, the streaming {@code Json} and {@code JsonFields} they still read with.
 * Imports nothing from Spark or ND4J; the layering is held by {@code ArchitectureTest}.
 */
package io.seqpack.util;
