/** Small shared helpers with no dependencies (preconditions, JSON). Imports nothing from Spark or ND4J. */
package io.seqpack.util;
