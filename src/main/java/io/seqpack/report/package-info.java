/**
 * The run report: {@link io.seqpack.report.RunReport} turns a run's {@code _seqpack_summary.json} into one
 * self-contained HTML page with inline SVG charts (no scripts, no network). Imports nothing from Spark or ND4J.
 */
package io.seqpack.report;
