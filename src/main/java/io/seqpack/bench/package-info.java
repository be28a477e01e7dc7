/** Benchmarks of the core engine (no Spark): {@link io.seqpack.bench.EngineBench}, run by {@code scripts/bench}. */
package io.seqpack.bench;
