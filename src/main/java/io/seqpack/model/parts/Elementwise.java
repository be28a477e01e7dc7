package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;

/** A head layer that maps each float on its own (activations, dropout and identity at inference). */
interface Elementwise extends HeadLayer {
  float apply(float v);

  @Override
  default Layer bind(LoadedModel model, int width) {
    return (x, count, w) -> {
      for (int i = 0, n = count * w; i < n; i++) {
        x[i] = apply(x[i]);
      }
      return x;
    };
  }
}
