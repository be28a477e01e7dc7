/**
 * PyTorch's {@code torch.nn.utils.rnn} on plain float32 arrays: {@link io.seqpack.pack.PackedLayout} (the
 * batch_sizes / sorted_indices bookkeeping), {@link io.seqpack.pack.PackedSequence}, {@link
 * io.seqpack.pack.PaddedTensor} and {@link io.seqpack.pack.Packing} (pad / pack / unpack). No Spark, no ND4J.
 */
package io.seqpack.pack;
