/**
 * Benchmarks, built only by the {@code bench} Maven profile (never in the product jar): {@link
 * io.seqpack.bench.EngineBench} (the core engine), {@link io.seqpack.bench.PeerBench} (DJL + libtorch, ONNX
 * Runtime), {@link io.seqpack.bench.SparkBench} (the Spark job) and {@link io.seqpack.bench.SyntheticParquet}
 * (inputs for the scaling and memory checks); run by {@code scripts/bench} and {@code scripts/memcheck}.
 */
package io.seqpack.bench;
