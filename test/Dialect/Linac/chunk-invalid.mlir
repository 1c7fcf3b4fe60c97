// RUN: linac-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of the chunked-scan ops
// (dialect/LinacChunkOps.cpp), plus the sub_chunk attribute constraint and
// the f32 tile type constraint that ODS checks before the verifiers run.

// A tile must have a static shape (the vectorizer reads sizes off the type).
func.func @dynamic_tile(%t: memref<?x16xf32>) {
  // expected-error @+1 {{'linac.tile_zero' op 'dst' must have a static shape, got 'memref<?x16xf32>'}}
  linac.tile_zero outs(%t : memref<?x16xf32>)
  return
}

// -----

// Rows of a tile are vectors: the inner stride must be 1.
func.func @inner_stride(%t: memref<16x16xf32, strided<[32, 2]>>) {
  // expected-error @+1 {{'linac.tile_zero' op 'dst' must have a unit stride in its last dimension, got 'memref<16x16xf32, strided<[32, 2]>>'}}
  linac.tile_zero outs(%t : memref<16x16xf32, strided<[32, 2]>>)
  return
}

// -----

// The same check on an operand other than the first (a dynamic stride in
// the last dimension is not known to be 1).
func.func @inner_stride_dynamic(%s: memref<16x16xf32>,
                                %w: memref<16x16xf32, strided<[?, ?], offset: ?>>) {
  // expected-error @+1 {{'linac.tile_copy' op 'dst' must have a unit stride in its last dimension}}
  linac.tile_copy ins(%s : memref<16x16xf32>)
                  outs(%w : memref<16x16xf32, strided<[?, ?], offset: ?>>)
  return
}

// -----

// tile_copy moves windows of one shape.
func.func @copy_shape(%a: memref<16x16xf32>, %b: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.tile_copy' op 'dst' must be 16x16, got 16x32}}
  linac.tile_copy ins(%a : memref<16x16xf32>) outs(%b : memref<16x32xf32>)
  return
}

// -----

// Tiles are f32 (the type constraint, before the verifier).
func.func @f16_tile(%t: memref<16x16xf16>) {
  // expected-error @+1 {{'linac.tile_zero' op operand #0 must be 2D memref of 32-bit float values}}
  linac.tile_zero outs(%t : memref<16x16xf16>)
  return
}

// -----

// A [B, T, H, D] tensor, or [B, T, H] for per-head scalars: not rank 2.
func.func @load_rank(%x: memref<8x16xf32>, %i: index, %t: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_load' op expects a [B, T, H, D] or [B, T, H] tensor, got 'memref<8x16xf32>'}}
  linac.chunk_load %x[%i, %i, %i, %i] len(%i) : memref<8x16xf32> into %t : memref<32x16xf32>
  return
}

// -----

// Argument tensors are f32, f16 or bf16.
func.func @load_element(%x: memref<1x8x2x16xf64>, %i: index, %t: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_load' op expects f32, f16 or bf16 elements, got 'f64'}}
  linac.chunk_load %x[%i, %i, %i, %i] len(%i) : memref<1x8x2x16xf64> into %t : memref<32x16xf32>
  return
}

// -----

// chunk_store shares the checks of chunk_load, on its destination.
func.func @store_element(%x: memref<1x8x2x16xi32>, %i: index, %t: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_store' op expects f32, f16 or bf16 elements, got 'i32'}}
  linac.chunk_store %t into %x[%i, %i, %i, %i] len(%i) : memref<32x16xf32> into memref<1x8x2x16xi32>
  return
}

// -----

// A rank-3 source (scalar gates) fills a single column.
func.func @load_rank3_columns(%g: memref<1x8x2xf32>, %i: index, %t: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_load' op a [B, T, H] tensor moves 1 column per row, but the tile has 16}}
  linac.chunk_load %g[%i, %i, %i, %i] len(%i) : memref<1x8x2xf32> into %t : memref<32x16xf32>
  return
}

// -----

// A tile cannot be wider than the rows of the tensor it reads.
func.func @load_too_wide(%x: memref<?x?x2x16xf32>, %i: index, %t: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_load' op tile has 32 columns but the tensor rows have only 16}}
  linac.chunk_load %x[%i, %i, %i, %i] len(%i) : memref<?x?x2x16xf32> into %t : memref<32x32xf32>
  return
}

// -----

// Nor can it write more columns than the tensor rows have.
func.func @store_too_wide(%o: memref<?x?x2x16xbf16>, %i: index, %t: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_store' op tile has 32 columns but the tensor rows have only 16}}
  linac.chunk_store %t into %o[%i, %i, %i, %i] len(%i) : memref<32x32xf32> into memref<?x?x2x16xbf16>
  return
}

// -----

// The tile of a row transfer is checked like any tile.
func.func @load_dynamic_tile(%x: memref<?x?x2x16xf32>, %i: index, %t: memref<?x16xf32>) {
  // expected-error @+1 {{'linac.chunk_load' op 'tile' must have a static shape, got 'memref<?x16xf32>'}}
  linac.chunk_load %x[%i, %i, %i, %i] len(%i) : memref<?x?x2x16xf32> into %t : memref<?x16xf32>
  return
}

// -----

// decay, prefix and suffix have the shape of the log gates.
func.func @gates_shape(%g: memref<32x16xf32>, %s: memref<32x1xf32>) {
  // expected-error @+1 {{'linac.chunk_gates' op 'prefix' must be 32x16, got 32x1}}
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%g, %s, %g : memref<32x16xf32>, memref<32x1xf32>, memref<32x16xf32>)
      sub_chunk(16)
  return
}

// -----

// Sub-chunks tile the chunk exactly.
func.func @gates_sub_chunk(%g: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_gates' op sub_chunk 12 must divide the chunk length 32}}
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      sub_chunk(12)
  return
}

// -----

// sub_chunk is positive (attribute constraint).
func.func @gates_sub_chunk_zero(%g: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_gates' op attribute 'sub_chunk' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      sub_chunk(0)
  return
}

// -----

// Negative too, on another op.
func.func @scores_sub_chunk_negative(%q: memref<32x16xf32>, %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op attribute 'sub_chunk' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(-16)
  return
}

// -----

// q and k of chunk_scores have one shape.
func.func @scores_k_shape(%q: memref<32x16xf32>, %k: memref<32x32xf32>,
                          %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op 'k' must be 32x16, got 32x32}}
  linac.chunk_scores ins(%q, %k : memref<32x16xf32>, memref<32x32xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// -----

// The scores of a chunk of C rows are C x C.
func.func @scores_shape(%q: memref<32x16xf32>, %a: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op 'scores' must be 32x32, got 32x16}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x16xf32>) sub_chunk(16)
  return
}

// -----

// chunk_scores takes all three of decay, prefix, suffix or none.
func.func @scores_gate_count(%q: memref<32x16xf32>, %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op expects no gates or 3 gate tiles (decay, prefix, suffix), got 1}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%q : memref<32x16xf32>) outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// -----

// Gate tiles have C rows (the column count is free before the next check).
func.func @scores_gate_rows(%q: memref<32x16xf32>, %g: memref<16x16xf32>,
                            %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op 'gates' must be 32x?, got 16x16}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g, %g, %g : memref<16x16xf32>, memref<16x16xf32>, memref<16x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// -----

// Gates have 1 column (scalar decay) or K (diagonal decay).
func.func @scores_gate_columns(%q: memref<32x16xf32>, %g: memref<32x8xf32>,
                               %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op gate tiles must have 1 or 16 columns, got 8}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g, %g, %g : memref<32x8xf32>, memref<32x8xf32>, memref<32x8xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// -----

// ... and all of them the same (no mixing of scalar and per-key tiles).
func.func @scores_gate_mixed(%q: memref<32x16xf32>, %g1: memref<32x1xf32>,
                             %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op gate tiles must all have the same shape}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%q, %g1, %q : memref<32x16xf32>, memref<32x1xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// -----

func.func @scores_sub_chunk(%q: memref<32x16xf32>, %a: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_scores' op sub_chunk 64 must divide the chunk length 32}}
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(64)
  return
}

// -----

// chunk_attend multiplies C x C scores.
func.func @attend_square(%a: memref<32x16xf32>, %v: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_attend' op 'scores' must be square, got 32x16}}
  linac.chunk_attend ins(%a, %v : memref<32x16xf32>, memref<32x16xf32>)
      outs(%v : memref<32x16xf32>)
  return
}

// -----

// v has the C rows of the scores.
func.func @attend_v_rows(%a: memref<32x32xf32>, %v: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_attend' op 'v' must be 32x?, got 16x16}}
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<16x16xf32>)
      outs(%v : memref<16x16xf32>)
  return
}

// -----

// o has the shape of v.
func.func @attend_o_shape(%a: memref<32x32xf32>, %v: memref<32x16xf32>,
                          %o: memref<32x32xf32>) {
  // expected-error @+1 {{'linac.chunk_attend' op 'o' must be 32x16, got 32x32}}
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<32x16xf32>)
      outs(%o : memref<32x32xf32>)
  return
}

// -----

// The state of chunk_inter has K rows.
func.func @inter_state_rows(%q: memref<32x16xf32>, %s: memref<32x16xf32>,
                            %o: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_inter' op 'state' must be 16x?, got 32x16}}
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<32x16xf32>)
      outs(%o : memref<32x16xf32>) sub_chunk(16)
  return
}

// -----

// o is C x Vt.
func.func @inter_o_shape(%q: memref<32x16xf32>, %s: memref<16x48xf32>,
                         %o: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_inter' op 'o' must be 32x48, got 32x16}}
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x48xf32>)
      outs(%o : memref<32x16xf32>) sub_chunk(16)
  return
}

// -----

// chunk_inter takes the prefix only.
func.func @inter_gate_count(%q: memref<32x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_inter' op expects no gates or 1 gate tiles (prefix), got 2}}
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x16xf32>)
      gates(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%q : memref<32x16xf32>) sub_chunk(16)
  return
}

// -----

func.func @inter_sub_chunk(%q: memref<32x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_inter' op sub_chunk 24 must divide the chunk length 32}}
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x16xf32>)
      outs(%q : memref<32x16xf32>) sub_chunk(24)
  return
}

// -----

// k and v of a state update have the same C rows.
func.func @update_v_rows(%k: memref<32x16xf32>, %v: memref<16x16xf32>,
                         %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op 'v' must be 32x?, got 16x16}}
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<16x16xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(16)
  return
}

// -----

// The state is K x Vt.
func.func @update_state_shape(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                              %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op 'state' must be 16x48, got 16x16}}
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(16)
  return
}

// -----

// The state update takes (prefix, suffix), not the three gate tiles.
func.func @update_gate_count(%k: memref<32x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op expects no gates or 2 gate tiles (prefix, suffix), got 3}}
  linac.chunk_state_update ins(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      gates(%k, %k, %k : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(16)
  return
}

// -----

func.func @update_sub_chunk(%k: memref<32x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op sub_chunk 5 must divide the chunk length 32}}
  linac.chunk_state_update ins(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(5)
  return
}

// -----

// recurrent_step works on one token: q is a single row.
func.func @step_q_rows(%q: memref<2x16xf32>, %k: memref<1x16xf32>,
                       %v: memref<1x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'q' must be 1x?, got 2x16}}
  linac.recurrent_step ins(%q, %k, %v : memref<2x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %v : memref<16x16xf32>, memref<1x16xf32>)
  return
}

// -----

// k matches q.
func.func @step_k_shape(%q: memref<1x16xf32>, %k: memref<1x32xf32>,
                        %v: memref<1x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'k' must be 1x16, got 1x32}}
  linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32>, memref<1x32xf32>, memref<1x16xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %v : memref<16x16xf32>, memref<1x16xf32>)
  return
}

// -----

// o matches v.
func.func @step_o_shape(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                        %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'o' must be 1x48, got 1x16}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %q : memref<16x48xf32>, memref<1x16xf32>)
  return
}

// -----

// The state read is K x Vt.
func.func @step_state_in(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                         %s: memref<16x48xf32>, %bad: memref<48x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'state_in' must be 16x48, got 48x16}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      state(%bad : memref<48x16xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// So is the state written.
func.func @step_state_out(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                          %s: memref<16x48xf32>, %bad: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'state_out' must be 16x48, got 16x16}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      state(%s : memref<16x48xf32>) outs(%bad, %v : memref<16x16xf32>, memref<1x48xf32>)
  return
}

// -----

// One decay tile at most.
func.func @step_gate_count(%q: memref<1x16xf32>, %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op expects no gates or 1 gate tiles (decay), got 2}}
  linac.recurrent_step ins(%q, %q, %q : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      gates(%q, %q : memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %q : memref<16x16xf32>, memref<1x16xf32>)
  return
}

// -----

// The decay of a step is 1 x K or 1 x 1.
func.func @step_gate_columns(%q: memref<1x16xf32>, %d: memref<1x4xf32>,
                             %s: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op gate tiles must have 1 or 16 columns, got 4}}
  linac.recurrent_step ins(%q, %q, %q : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      gates(%d : memref<1x4xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %q : memref<16x16xf32>, memref<1x16xf32>)
  return
}

// -----

// beta is one scalar per token.
func.func @step_beta_shape(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                           %b: memref<1x16xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'beta' must be 1x1, got 1x16}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      beta(%b : memref<1x16xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// The key scores of a chunk are C x C.
func.func @solve_kk_square(%kk: memref<32x16xf32>, %beta: memref<32x1xf32>,
                           %v: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_delta_solve' op 'kk' must be square, got 32x16}}
  linac.chunk_delta_solve ins(%kk, %beta, %v, %v : memref<32x16xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// -----

// v has the chunk's rows.
func.func @solve_v_rows(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                        %v: memref<16x48xf32>, %u: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_delta_solve' op 'v' must be 32x?, got 16x48}}
  linac.chunk_delta_solve ins(%kk, %beta, %v, %u : memref<32x32xf32>, memref<32x1xf32>, memref<16x48xf32>, memref<32x48xf32>)
      outs(%u : memref<32x48xf32>)
  return
}

// -----

// beta is one column.
func.func @solve_beta(%kk: memref<32x32xf32>, %beta: memref<32x2xf32>,
                      %v: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_delta_solve' op 'beta' must be 32x1, got 32x2}}
  linac.chunk_delta_solve ins(%kk, %beta, %v, %v : memref<32x32xf32>, memref<32x2xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// -----

// ks is shaped like v.
func.func @solve_ks(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                    %v: memref<32x48xf32>, %ks: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_delta_solve' op 'ks' must be 32x48, got 32x16}}
  linac.chunk_delta_solve ins(%kk, %beta, %v, %ks : memref<32x32xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x16xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// -----

// u is shaped like v.
func.func @solve_u(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                   %v: memref<32x48xf32>, %u: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_delta_solve' op 'u' must be 32x48, got 32x16}}
  linac.chunk_delta_solve ins(%kk, %beta, %v, %v : memref<32x32xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%u : memref<32x16xf32>)
  return
}

// -----

// The bonus is one row of K.
func.func @step_bonus_shape(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                            %u: memref<1x32xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'bonus' must be 1x16, got 1x32}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      bonus(%u : memref<1x32xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// A step has a delta write or rwkv6's output, not both.
func.func @step_beta_and_bonus(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                               %b: memref<1x1xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op takes either 'beta' (a delta write) or 'bonus' (rwkv6's output), not both}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      beta(%b : memref<1x1xf32>) bonus(%q : memref<1x16xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// The shifted tile is shaped like the source.
func.func @shift_dst(%k: memref<32x16xf32>, %c: memref<1x16xf32>,
                     %d: memref<16x16xf32>, %n: index) {
  // expected-error @+1 {{'linac.tile_shift_rows' op 'dst' must be 32x16, got 16x16}}
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%c : memref<1x16xf32>)
      len(%n) outs(%d : memref<16x16xf32>)
  return
}

// -----

// The carry is one row.
func.func @shift_carry(%k: memref<32x16xf32>, %c: memref<2x16xf32>,
                       %d: memref<32x16xf32>, %n: index) {
  // expected-error @+1 {{'linac.tile_shift_rows' op 'carry' must be 1x16, got 2x16}}
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%c : memref<2x16xf32>)
      len(%n) outs(%d : memref<32x16xf32>)
  return
}

// -----

// Shifting in place would read rows it already overwrote.
func.func @shift_in_place(%k: memref<32x16xf32>, %c: memref<1x16xf32>,
                          %n: index) {
  // expected-error @+1 {{'linac.tile_shift_rows' op 'src' and 'dst' must be distinct tiles}}
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%c : memref<1x16xf32>)
      len(%n) outs(%k : memref<32x16xf32>)
  return
}

// -----

// The bonus u is one row of K.
func.func @bonus_u(%q: memref<32x16xf32>, %u: memref<1x32xf32>,
                   %v: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_bonus' op 'u' must be 1x16, got 1x32}}
  linac.chunk_bonus ins(%q, %q, %u, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x32xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// -----

// k matches q.
func.func @bonus_k(%q: memref<32x16xf32>, %k: memref<16x16xf32>,
                   %u: memref<1x16xf32>, %v: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_bonus' op 'k' must be 32x16, got 16x16}}
  linac.chunk_bonus ins(%q, %k, %u, %v : memref<32x16xf32>, memref<16x16xf32>, memref<1x16xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// -----

// v has the chunk's rows.
func.func @bonus_v(%q: memref<32x16xf32>, %u: memref<1x16xf32>,
                   %v: memref<16x48xf32>, %o: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_bonus' op 'v' must be 32x?, got 16x48}}
  linac.chunk_bonus ins(%q, %q, %u, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<16x48xf32>)
      outs(%o : memref<32x48xf32>)
  return
}

// -----

// o is shaped like v.
func.func @bonus_o(%q: memref<32x16xf32>, %u: memref<1x16xf32>,
                   %v: memref<32x48xf32>, %o: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_bonus' op 'o' must be 32x48, got 32x16}}
  linac.chunk_bonus ins(%q, %q, %u, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<32x48xf32>)
      outs(%o : memref<32x16xf32>)
  return
}

// -----

// The coefficients of a chunk's reads are C x C.
func.func @dplr_solve_square(%ab: memref<32x16xf32>, %rhs: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_dplr_solve' op 'ab' must be square, got 32x16}}
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x16xf32>, memref<32x48xf32>)
      outs(%rhs : memref<32x48xf32>)
  return
}

// -----

// rhs has the chunk's rows.
func.func @dplr_solve_rhs(%ab: memref<32x32xf32>, %rhs: memref<16x48xf32>,
                          %w: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_dplr_solve' op 'rhs' must be 32x?, got 16x48}}
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32>, memref<16x48xf32>)
      outs(%w : memref<32x48xf32>)
  return
}

// -----

// w is shaped like rhs.
func.func @dplr_solve_w(%ab: memref<32x32xf32>, %rhs: memref<32x48xf32>,
                        %w: memref<32x16xf32>) {
  // expected-error @+1 {{'linac.chunk_dplr_solve' op 'w' must be 32x48, got 32x16}}
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32>, memref<32x48xf32>)
      outs(%w : memref<32x16xf32>)
  return
}

// -----

// The pair's keys are shaped like k.
func.func @update_pair_b(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                         %b: memref<32x32xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op 'b' must be 32x16, got 32x32}}
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      pair(%b, %v : memref<32x32xf32>, memref<32x48xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  return
}

// -----

// The pair's values are shaped like v.
func.func @update_pair_w(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                         %w: memref<32x16xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op 'w' must be 32x48, got 32x16}}
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      pair(%k, %w : memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  return
}

// -----

// b and w come together (only the generic form can separate them).
func.func @update_pair_half(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                            %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op takes 'b' and 'w' together}}
  "linac.chunk_state_update"(%k, %v, %k, %s) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1>, sub_chunk = 16 : i64}>
      : (memref<32x16xf32>, memref<32x48xf32>, memref<32x16xf32>, memref<16x48xf32>) -> ()
  return
}

// -----

// a and b come together.
func.func @step_a_alone(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                        %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op takes 'a' and 'b' together}}
  "linac.recurrent_step"(%q, %q, %v, %q, %s, %s, %v) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1>}>
      : (memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>, memref<1x16xf32>, memref<16x48xf32>, memref<16x48xf32>, memref<1x48xf32>) -> ()
  return
}

// -----

// A low-rank step takes neither beta nor a bonus.
func.func @step_lowrank_beta(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                             %b1: memref<1x1xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op takes a dplr transition ('a', 'b') without 'beta' or 'bonus'}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      beta(%b1 : memref<1x1xf32>) lowrank(%q, %q : memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// a is one row of K.
func.func @step_lowrank_a(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                          %a: memref<1x32xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'a' must be 1x16, got 1x32}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      lowrank(%a, %q : memref<1x32xf32>, memref<1x16xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// -----

// b is one row of K.
func.func @step_lowrank_b(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                          %b: memref<1x32xf32>, %s: memref<16x48xf32>) {
  // expected-error @+1 {{'linac.recurrent_step' op 'b' must be 1x16, got 1x32}}
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      lowrank(%q, %b : memref<1x16xf32>, memref<1x32xf32>)
      state(%s : memref<16x48xf32>) outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}


// -----

// The denominators are one per output row.
func.func @normalize_rows(%den: memref<16x16xf32>, %o: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op 'den' must be 32x?, got 16x16}}
  linac.chunk_normalize ins(%den : memref<16x16xf32>) outs(%o : memref<32x48xf32>) eps(1.0e-6)
  return
}

// -----

// eps keeps the division away from zero: it must be positive.
func.func @normalize_eps(%den: memref<32x16xf32>, %o: memref<32x48xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op 'eps' must be finite and positive; got 0}}
  linac.chunk_normalize ins(%den : memref<32x16xf32>) outs(%o : memref<32x48xf32>) eps(0.0)
  return
}

// -----

// taylor2 needs 1 + K + K^2 feature columns.
func.func @taylor2_narrow(%x: memref<32x4xf32>, %n: index, %phi: memref<32x20xf32>) {
  // expected-error @+1 {{'linac.tile_taylor2' op 'phi' needs at least 1 + K + K^2 = 21 columns for K = 4, got 20}}
  linac.tile_taylor2 ins(%x : memref<32x4xf32>) len(%n) outs(%phi : memref<32x20xf32>)
  return
}

// -----

// One feature row per input row.
func.func @taylor2_rows(%x: memref<32x4xf32>, %n: index, %phi: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.tile_taylor2' op 'phi' must be 32x?, got 16x32}}
  linac.tile_taylor2 ins(%x : memref<32x4xf32>) len(%n) outs(%phi : memref<16x32xf32>)
  return
}
