/**
 * Small shared helpers: preconditions, {@link io.seqpack.util.StrictJson} (the one strict Jackson configuration and
 * refusal wording every JSON text goes through) and {@link io.seqpack.util.JsonRecords} (seqpack's own files as
 * records on it). Imports nothing from Spark or ND4J; the layering is held by {@code ArchitectureTest}.
 */
package io.seqpack.util;
