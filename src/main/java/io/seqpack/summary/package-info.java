/**
 * The run summary: {@link io.seqpack.summary.RunSummary}, the typed contents of a run's {@code
 * _seqpack_summary.json}, records mapped to that file by Jackson databind ({@code io.seqpack.util.JsonRecords}).
 * The job builds it, the CLI prints it, the run report draws it. Core-level: imports nothing from Spark, Hadoop,
 * Scala or ND4J and nothing from the layers above it (spark, job, cli, ml, report); {@code ArchitectureTest} holds
 * the line.
 */
package io.seqpack.summary;
