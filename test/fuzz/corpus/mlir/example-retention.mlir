func.func @retention(%q: tensor<1x?x16x128xbf16>, %k: tensor<1x?x16x128xbf16>, %v: tensor<1x?x16x128xbf16>, %h0: tensor<1x16x128x128xf32>)
    -> (tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>) {
  %o, %ht = linac.recurrence decay(constant) constants([0.96875, 0.984375, 0.9921875, 0.99609375, 0.998046875, 0.9990234375, 0.99951171875, 0.999755859375, 0.9998779296875, 0.99993896484375, 0.999969482421875, 0.9999847412109375, 0.9999923706054688, 0.9999961853027344, 0.9999980926513672, 0.9999990463256836])
      q(%q : tensor<1x?x16x128xbf16>) k(%k : tensor<1x?x16x128xbf16>) v(%v : tensor<1x?x16x128xbf16>) h0(%h0 : tensor<1x16x128x128xf32>)
      -> tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
  return %o, %ht : tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
}
