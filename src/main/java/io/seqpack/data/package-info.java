/** Plain records over primitive arrays (sequences, batches, predictions). Depends on nothing, not even ND4J. */
package io.seqpack.data;
