/**
 * The inference engine: {@link io.seqpack.nn.SequenceModel} runs an embedding or feature input through a
 * PyTorch-exact RNN / LSTM / GRU stack on packed, time-major data, pools, and applies the linear head. All
 * matrix products go through {@link io.seqpack.nn.Gemm}, all nonlinearities through {@link
 * io.seqpack.nn.FastMath}. Depends on {@code model}, {@code pack} and {@code data}; no Spark, no ND4J.
 */
package io.seqpack.nn;
