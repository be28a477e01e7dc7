/** Batch planning: a lazy, bounded-memory length bucketer over any row type. No Spark or ND4J imports. */
package io.seqpack.batching;
