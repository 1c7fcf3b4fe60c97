//===- LinacChunkOps.td - chunked-scan operations ----------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The ops that `linac-chunk` produces from a scheduled `linac.recurrence`.
// They work on buffers: one chunk of one (sequence, value head, value tile)
// at a time, in f32 scratch tiles with static shapes, so that a backend can
// give each one a register tiling of its own (`linac-vectorize-cpu`) without
// re-deriving the algorithm.
//
// Gates are handled in product form. `chunk_gates` turns log gates into
// per-row decays and their products *inside each sub-chunk*; every consumer
// multiplies those together across sub-chunks. Only sums of log gates inside
// one sub-chunk and products of decays (never a difference of cumulative
// sums, never a quotient) are ever formed. So no exp of a positive number
// appears, g = -inf gives exact zeros rather than NaN (-inf - -inf), and a
// large negative gate early in a chunk cannot cancel the precision of later
// small ones. Tensors of gates have G columns: K (diagonal decay) or 1
// (scalar and constant decays, broadcast over the keys).
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACCHUNKOPS_TD
#define LINAC_DIALECT_LINAC_IR_LINACCHUNKOPS_TD

include "linac/Dialect/Linac/IR/LinacBase.td"
include "linac/Dialect/Linac/IR/LinacEnums.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// A static 2-D f32 scratch tile (unit stride in the last dimension).
def Linac_Tile : MemRefRankOf<[F32], [2]>;
// A strided tensor of the kernel's arguments, any element type.
def Linac_Buffer : StridedMemRefOf<[AnyType]>;

class Linac_ChunkOp<string mnemonic, list<Trait> traits = []>
    : Linac_Op<mnemonic, traits> {
  let hasVerifier = 1;
}

def Linac_TileZeroOp : Linac_ChunkOp<"tile_zero"> {
  let summary = "Set a tile to zero";
  let description = [{
    ```mlir
    linac.tile_zero outs(%s : memref<128x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Linac_Tile, "", [MemWrite]>:$dst);
  let assemblyFormat = "`outs` `(` $dst `:` type($dst) `)` attr-dict";
}

def Linac_TileCopyOp : Linac_ChunkOp<"tile_copy"> {
  let summary = "Copy a 2-D f32 window into another of the same shape";
  let description = [{
    Both windows have the same static shape and a unit stride in their last
    dimension; the outer stride is free, so a window of a state tensor can
    be moved in and out of scratch.

    ```mlir
    linac.tile_copy ins(%h0 : memref<128x64xf32, strided<[?, 1], offset: ?>>)
                    outs(%s : memref<128x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Linac_Tile, "", [MemRead]>:$src,
                       Arg<Linac_Tile, "", [MemWrite]>:$dst);
  let assemblyFormat = [{
    `ins` `(` $src `:` type($src) `)` `outs` `(` $dst `:` type($dst) `)` attr-dict
  }];
}

def Linac_ChunkLoadOp : Linac_ChunkOp<"chunk_load"> {
  let summary = "Load a chunk of rows of a [B, T, H, D] tensor into f32 scratch";
  let description = [{
    Reads rows `start .. start + len - 1` of `src[batch, :, head, col ..
    col + N - 1]` (with `N` the tile's column count; a rank-3 `[B, T, H]`
    source, such as scalar gates, has one column), converts them to f32,
    applies the feature map (per row: l2norm normalises the row, the others
    are elementwise) and multiplies by `scale`, and writes them to the first
    `len` rows of `dst`. The remaining rows of `dst` are set to zero, or to
    `pad` when given (log gates pad with 0, a decay of 1), so a short final
    chunk runs the same code as a full one. `len` must not exceed the row
    count of `dst`.

    ```mlir
    linac.chunk_load %q[%b, %t0, %h, %c0] len(%n) feature_map(l2norm)
        scale(8.838830e-02) : memref<?x?x16x128xbf16, strided<[?, ?, ?, 1], offset: ?>>
        into memref<64x128xf32>
    ```
  }];
  let arguments = (ins
    Arg<Linac_Buffer, "", [MemRead]>:$src,
    Index:$batch, Index:$start, Index:$head, Index:$col, Index:$len,
    DefaultValuedProp<Linac_FeatureMapProp,
                      "::linac::FeatureMap::Identity">:$feature_map,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$pad,
    Arg<Linac_Tile, "", [MemWrite]>:$dst
  );
  let assemblyFormat = [{
    $src `[` $batch `,` $start `,` $head `,` $col `]` `len` `(` $len `)`
    (`feature_map` `(` $feature_map^ `)`)?
    (`scale` `(` $scale^ `)`)?
    (`pad` `(` $pad^ `)`)?
    `:` type($src) `into` $dst `:` type($dst) attr-dict
  }];
}

def Linac_ChunkStoreOp : Linac_ChunkOp<"chunk_store"> {
  let summary = "Store the first rows of an f32 tile into a [B, T, H, D] tensor";
  let description = [{
    The inverse of `linac.chunk_load` without the feature map: writes rows
    `0 .. len - 1` of `src`, converted to the element type of `dst`, to
    `dst[batch, start + i, head, col ..]`. Nothing else of `dst` is touched.

    ```mlir
    linac.chunk_store %o_tile into %o[%b, %t0, %h, %c0] len(%n)
        : memref<64x64xf32> into memref<?x?x16x128xf32, strided<[?, ?, ?, 1], offset: ?>>
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$src,
    Arg<Linac_Buffer, "", [MemWrite]>:$dst,
    Index:$batch, Index:$start, Index:$head, Index:$col, Index:$len
  );
  let assemblyFormat = [{
    $src `into` $dst `[` $batch `,` $start `,` $head `,` $col `]` `len` `(` $len `)`
    `:` type($src) `into` type($dst) attr-dict
  }];
}

def Linac_ChunkGatesOp : Linac_ChunkOp<"chunk_gates"> {
  let summary = "Local decays of a chunk of log gates, in product form";
  let description = [{
    For log gates `g` (`C x G`) and sub-chunks of `sub_chunk` rows, writes

    ```
    decay[i]  = exp(g[i])
    prefix[i] = prod(decay[s .. i])          s = first row of i's sub-chunk
    suffix[i] = prod(decay[i+1 .. e])        e = last row of i's sub-chunk
    ```

    so that the decay of a sub-chunk is `prefix[e]`, the decay from the
    start of the chunk to row `i` is `prefix[i]` times the decays of the
    whole sub-chunks before it, and the decay from row `j` to the end of the
    chunk is `suffix[j]` times those after it. Products are formed in f32
    (an underflow is a decay of exactly zero).

    ```mlir
    linac.chunk_gates ins(%g : memref<64x128xf32>)
        outs(%d, %p, %s : memref<64x128xf32>, memref<64x128xf32>, memref<64x128xf32>)
        sub_chunk(16)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$g,
    Arg<Linac_Tile, "", [MemWrite]>:$decay,
    Arg<Linac_Tile, "", [MemWrite]>:$prefix,
    Arg<Linac_Tile, "", [MemWrite]>:$suffix,
    ConfinedAttr<I64Attr, [IntPositive]>:$sub_chunk
  );
  let assemblyFormat = [{
    `ins` `(` $g `:` type($g) `)`
    `outs` `(` $decay `,` $prefix `,` $suffix `:` type($decay) `,` type($prefix) `,` type($suffix) `)`
    `sub_chunk` `(` $sub_chunk `)` attr-dict
  }];
}

def Linac_ChunkScoresOp : Linac_ChunkOp<"chunk_scores"> {
  let summary = "Intra-chunk decayed attention scores (lower triangle)";
  let description = [{
    For a chunk's `q`, `k` (`C x K`) writes the `C x C` scores

    ```
    scores[i, j] = sum_k q[i, k] k[j, k] prod(decay[j+1 .. i, k])   j <= i
    scores[i, j] = 0                                                 j > i
    ```

    with the gates (`decay`, `prefix`, `suffix` from `linac.chunk_gates`) or
    without decay when `gates` is absent. Blocks below the diagonal of
    sub-chunks are masked matmuls of `q` and `k` scaled by the products of
    the decays between them; the diagonal blocks take the running product
    of the decays pair by pair.

    ```mlir
    linac.chunk_scores ins(%q, %k : memref<64x128xf32>, memref<64x128xf32>)
        gates(%d, %p, %s : memref<64x128xf32>, memref<64x128xf32>, memref<64x128xf32>)
        outs(%a : memref<64x64xf32>) sub_chunk(16)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$q,
    Arg<Linac_Tile, "", [MemRead]>:$k,
    Arg<Variadic<Linac_Tile>, "", [MemRead]>:$gates,
    Arg<Linac_Tile, "", [MemWrite]>:$scores,
    ConfinedAttr<I64Attr, [IntPositive]>:$sub_chunk
  );
  let assemblyFormat = [{
    `ins` `(` $q `,` $k `:` type($q) `,` type($k) `)`
    (`gates` `(` $gates^ `:` type($gates) `)`)?
    `outs` `(` $scores `:` type($scores) `)`
    `sub_chunk` `(` $sub_chunk `)` attr-dict
  }];
}

def Linac_ChunkAttendOp : Linac_ChunkOp<"chunk_attend"> {
  let summary = "Accumulate the intra-chunk output: o += tril(scores) v";
  let description = [{
    ```mlir
    linac.chunk_attend ins(%a, %v : memref<64x64xf32>, memref<64x64xf32>)
        outs(%o : memref<64x64xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$scores,
    Arg<Linac_Tile, "", [MemRead]>:$v,
    Arg<Linac_Tile, "", [MemRead, MemWrite]>:$o
  );
  let assemblyFormat = [{
    `ins` `(` $scores `,` $v `:` type($scores) `,` type($v) `)`
    `outs` `(` $o `:` type($o) `)` attr-dict
  }];
}

def Linac_ChunkInterOp : Linac_ChunkOp<"chunk_inter"> {
  let summary = "Inter-chunk output: o = (q * decay from the chunk start) S";
  let description = [{
    Overwrites `o` (`C x Vt`) with the contribution of the state at the
    start of the chunk, `o[i] = (q[i] ⊙ prod(decay[0 .. i])) S`. `gates`
    is empty or the `(prefix)` of `linac.chunk_gates`.

    ```mlir
    linac.chunk_inter ins(%q, %s : memref<64x128xf32>, memref<128x64xf32>)
        gates(%p : memref<64x128xf32>) outs(%o : memref<64x64xf32>) sub_chunk(16)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$q,
    Arg<Linac_Tile, "", [MemRead]>:$state,
    Arg<Variadic<Linac_Tile>, "", [MemRead]>:$gates,
    Arg<Linac_Tile, "", [MemWrite]>:$o,
    ConfinedAttr<I64Attr, [IntPositive]>:$sub_chunk
  );
  let assemblyFormat = [{
    `ins` `(` $q `,` $state `:` type($q) `,` type($state) `)`
    (`gates` `(` $gates^ `:` type($gates) `)`)?
    `outs` `(` $o `:` type($o) `)`
    `sub_chunk` `(` $sub_chunk `)` attr-dict
  }];
}

def Linac_ChunkStateUpdateOp : Linac_ChunkOp<"chunk_state_update",
                                              [AttrSizedOperandSegments]> {
  let summary = "Inter-chunk state pass: S = D S + (k * decay to the end)ᵀ v";
  let description = [{
    Moves the state across one chunk:
    `S ← Diag(prod(decay[0 .. C-1])) S + sum_j (k[j] ⊙ prod(decay[j+1 .. C-1])) v[j]ᵀ`.
    `gates` is empty or `(prefix, suffix)` of `linac.chunk_gates`.

    With `pair(%b, %w)`, a second rank-one sum over the same chunk and
    gates is added (the state is still decayed once):
    `+ sum_j (b[j] ⊙ prod(decay[j+1 .. C-1])) w[j]ᵀ` — the dplr transition's
    `b_t (a_tᵀ S_{t-1})` terms, with `w` the solved reads `a_tᵀ S_{t-1}`.

    ```mlir
    linac.chunk_state_update ins(%k, %v : memref<64x128xf32>, memref<64x64xf32>)
        gates(%p, %s : memref<64x128xf32>, memref<64x128xf32>)
        outs(%state : memref<128x64xf32>) sub_chunk(16)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$k,
    Arg<Linac_Tile, "", [MemRead]>:$v,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$b,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$w,
    Arg<Variadic<Linac_Tile>, "", [MemRead]>:$gates,
    Arg<Linac_Tile, "", [MemRead, MemWrite]>:$state,
    ConfinedAttr<I64Attr, [IntPositive]>:$sub_chunk
  );
  let assemblyFormat = [{
    `ins` `(` $k `,` $v `:` type($k) `,` type($v) `)`
    (`pair` `(` $b^ `,` $w `:` type($b) `,` type($w) `)`)?
    (`gates` `(` $gates^ `:` type($gates) `)`)?
    `outs` `(` $state `:` type($state) `)`
    `sub_chunk` `(` $sub_chunk `)` attr-dict
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$k, "::mlir::Value":$v,
                   "::mlir::ValueRange":$gates, "::mlir::Value":$state,
                   "int64_t":$subChunk), [{
      build($_builder, $_state, k, v, ::mlir::Value(), ::mlir::Value(), gates,
            state, subChunk);
    }]>
  ];
}

def Linac_ChunkDeltaSolveOp : Linac_ChunkOp<"chunk_delta_solve"> {
  let summary = "The delta rule's new values of a chunk, by forward "
                "substitution through the unit lower-triangular WY/UT system";
  let description = [{
    For the delta-rule family (`S' = D_t S`, `S_t = S' + β_t k_t (v_t -
    S'ᵀ k_t)ᵀ`), the rows written into the state over a chunk are
    `u_t = β_t (v_t - S_{t-1}'ᵀ k_t)`. Expanding `S_{t-1}` from the state at
    the chunk start `S_0` gives the unit lower-triangular system

    `(I + tril(diag(β) (K Kᵀ ⊙ Γ), -1)) U = diag(β) (V - (K ⊙ Γ_0) S_0)`,

    `Γ[t, j]` being the product of the decays `j+1 .. t` and `Γ_0[t]` that of
    `0 .. t`. This op solves it row by row (forward substitution, f32):

    `u[t] = β[t] (v[t] - ks[t] - sum_{j < t} kk[t, j] u[j])`

    with `kk` the gated key scores of `linac.chunk_scores` (k against
    itself; only the part below the diagonal is read), `ks = (K ⊙ Γ_0) S_0`
    from `linac.chunk_inter` (k in place of q), and `beta` a `C x 1` tile.
    Rows past the end of the sequence have `β = 0` and get `u = 0`.

    With `U` in place of `V`, the chunk is then the diagonal-decay one:
    `O = (Q ⊙ Γ_0) S_0 + tril(Q Kᵀ ⊙ Γ) U` and
    `S_C = Γ_C S_0 + (K ⊙ Γ_{C,·})ᵀ U`, so the WY/UT form needs no other
    new op. Solving for `U` directly, rather than forming `W = T diag(β)
    (K ⊙ Γ_0)` and `U = T diag(β) V` with `T = (I + A)⁻¹`, costs `C²Vt/2`
    multiply-adds instead of `C²(K + Vt)/2 + C K Vt` when the chunks of a
    task run in order, as they do on CPUs.

    ```mlir
    linac.chunk_delta_solve ins(%kk, %beta, %v, %ks : memref<64x64xf32>, memref<64x1xf32>, memref<64x128xf32>, memref<64x128xf32>)
        outs(%u : memref<64x128xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$kk,
    Arg<Linac_Tile, "", [MemRead]>:$beta,
    Arg<Linac_Tile, "", [MemRead]>:$v,
    Arg<Linac_Tile, "", [MemRead]>:$ks,
    Arg<Linac_Tile, "", [MemWrite]>:$u
  );
  let assemblyFormat = [{
    `ins` `(` $kk `,` $beta `,` $v `,` $ks `:` type($kk) `,` type($beta) `,`
        type($v) `,` type($ks) `)`
    `outs` `(` $u `:` type($u) `)` attr-dict
  }];
}

def Linac_TileShiftRowsOp : Linac_ChunkOp<"tile_shift_rows"> {
  let summary = "Shift a chunk down by one row, carrying the previous chunk's "
                "last row in";
  let description = [{
    `dst[0] = carry[0]`, `dst[r] = src[r - 1]` for `1 <= r < C`; then, if
    `len > 0`, `carry[0] = src[len - 1]` (the last real row of this chunk,
    for the next one). `carry` is `1 x N`, `src` and `dst` are `C x N` and
    distinct.

    RWKV-6 reads the state *before* each token's update. That state is the
    current state of the same recurrence run over inputs delayed by one
    token (`k'_t = k_{t-1}`, `v'_t = v_{t-1}`, `g'_t = g_{t-1}`, zero
    before the first token), so shifting `k`, `v` and `g` turns the rwkv6
    output form into the ordinary chunked form; the carry bridges chunks.

    ```mlir
    linac.tile_shift_rows ins(%k : memref<64x128xf32>) carry(%c : memref<1x128xf32>)
        len(%n) outs(%ks : memref<64x128xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$src,
    Arg<Linac_Tile, "", [MemRead, MemWrite]>:$carry,
    Index:$len,
    Arg<Linac_Tile, "", [MemWrite]>:$dst
  );
  let assemblyFormat = [{
    `ins` `(` $src `:` type($src) `)` `carry` `(` $carry `:` type($carry) `)`
    `len` `(` $len `)` `outs` `(` $dst `:` type($dst) `)` attr-dict
  }];
}

def Linac_TileTaylor2Op : Linac_ChunkOp<"tile_taylor2"> {
  let summary = "The taylor2 (Based) feature map of each row, zero-padded";
  let description = [{
    For rows `r < len`:
    `phi[r] = scale · [1, x[r], vec(x[r] x[r]ᵀ) / √2, 0, ...]`, the second
    order Taylor features whose dot products are `1 + q·k + (q·k)² / 2`;
    `vec` is row-major (`phi[r, 1 + K + i K + j] = x[r, i] x[r, j] / √2`).
    Columns past `1 + K + K²` and rows from `len` on are zero, so that a
    state padded to whole vectors gains nothing from the padding and rows
    past a sequence's end write nothing. `x` is `C x K` (loaded by
    `linac.chunk_load` without a feature map), `phi` is `C x K'` with
    `K' >= 1 + K + K²`. `scale` (absent: 1) multiplies every feature.

    ```mlir
    linac.tile_taylor2 ins(%x : memref<64x16xf32>) len(%n) outs(%phi : memref<64x288xf32>) scale(0.25)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$x,
    Index:$len,
    Arg<Linac_Tile, "", [MemWrite]>:$phi,
    OptionalAttr<F32Attr>:$scale
  );
  let assemblyFormat = [{
    `ins` `(` $x `:` type($x) `)` `len` `(` $len `)`
    `outs` `(` $phi `:` type($phi) `)` (`scale` `(` $scale^ `)`)? attr-dict
  }];
}

def Linac_ChunkBonusOp : Linac_ChunkOp<"chunk_bonus"> {
  let summary = "RWKV-6's bonus: o[r] += ((q[r] ⊙ u) · k[r]) v[r]";
  let description = [{
    The current token's own contribution to RWKV-6's output, `Diag(u) k_t
    v_tᵀ` read by `q_t`, added row by row. `u` is `1 x K`.

    ```mlir
    linac.chunk_bonus ins(%q, %k, %u, %v : memref<64x128xf32>, memref<64x128xf32>, memref<1x128xf32>, memref<64x64xf32>)
        outs(%o : memref<64x64xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$q,
    Arg<Linac_Tile, "", [MemRead]>:$k,
    Arg<Linac_Tile, "", [MemRead]>:$u,
    Arg<Linac_Tile, "", [MemRead]>:$v,
    Arg<Linac_Tile, "", [MemRead, MemWrite]>:$o
  );
  let assemblyFormat = [{
    `ins` `(` $q `,` $k `,` $u `,` $v `:` type($q) `,` type($k) `,` type($u)
        `,` type($v) `)`
    `outs` `(` $o `:` type($o) `)` attr-dict
  }];
}

def Linac_ChunkNormalizeOp : Linac_ChunkOp<"chunk_normalize"> {
  let summary = "The sum normalizer: o[r] ← o[r] / (den[r, 0] + eps)";
  let description = [{
    `normalize = "sum"` carries `z_t = D_t z_{t-1} + k_t` beside the state
    and divides each output row by `z_tᵀ q_t · scale + eps`. `z` is the
    state of a value column of ones, so `linac-chunk` runs the value-side
    ops a second time on a tile whose first column is ones (and the others
    zeros): column 0 of its output is the denominator without `eps`. This
    op divides every row of `o` by it.

    ```mlir
    linac.chunk_normalize ins(%den : memref<64x16xf32>) outs(%o : memref<64x64xf32>) eps(1.0e-06)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$den,
    Arg<Linac_Tile, "", [MemRead, MemWrite]>:$o,
    F32Attr:$eps
  );
  let assemblyFormat = [{
    `ins` `(` $den `:` type($den) `)` `outs` `(` $o `:` type($o) `)`
    `eps` `(` $eps `)` attr-dict
  }];
}

def Linac_ChunkDplrSolveOp : Linac_ChunkOp<"chunk_dplr_solve"> {
  let summary = "The dplr transition's reads a_tᵀ S_{t-1} of a chunk, by "
                "forward substitution";
  let description = [{
    For `S_t = D_t S_{t-1} + b_t (a_tᵀ S_{t-1}) + k_t v_tᵀ`, the reads
    `w_t = S_{t-1}ᵀ a_t` over a chunk satisfy

    `w_t = rhs_t + sum_{j < t} ((a_t ⊙ prod(decay[j+1 .. t-1])) · b_j) w_j`

    with `rhs_t` the part that does not depend on `w` (the state at the
    chunk start and the `k v` writes, read by `a_t`). The coefficients are
    exclusive of row t's decay, because the rank-one term reads the
    undecayed state; `linac-chunk` gets them from `linac.chunk_scores` of
    `a` against `b` delayed by one row (with the gates delayed too), so
    `ab[t, j + 1]` holds the coefficient of `w_j`. This op solves

    `w[t] = rhs[t] + sum_{j < t} ab[t, j + 1] w[j]`

    row by row in f32.

    ```mlir
    linac.chunk_dplr_solve ins(%ab, %rhs : memref<64x64xf32>, memref<64x128xf32>)
        outs(%w : memref<64x128xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$ab,
    Arg<Linac_Tile, "", [MemRead]>:$rhs,
    Arg<Linac_Tile, "", [MemWrite]>:$w
  );
  let assemblyFormat = [{
    `ins` `(` $ab `,` $rhs `:` type($ab) `,` type($rhs) `)`
    `outs` `(` $w `:` type($w) `)` attr-dict
  }];
}

def Linac_RecurrentStepOp : Linac_ChunkOp<"recurrent_step",
                                          [AttrSizedOperandSegments]> {
  let summary = "One step of the recurrence, streaming the state once";
  let description = [{
    `S_out = Diag(decay) S_in + k vᵀ; o = S_outᵀ q`, row by row, so that the
    state is read once and written once (decode is bound by memory). `q`,
    `k` and `decay` are `1 x K` (or `1 x 1` decay), `v` and `o` are `1 x Vt`.
    `state_in` and `state_out` may be the same window. `gates` is empty or
    `(decay)`.

    With `beta` (a `1 x 1` tile), the write is the delta rule's:
    `S' = Diag(decay) S_in; S_out = S' + β k (v - S'ᵀ k)ᵀ; o = S_outᵀ q`.
    The residual needs all of `S'` before any row of `S_out`, so the state
    is read twice: once for `S'ᵀ k` and `S'ᵀ q`, once to write
    (`o = S'ᵀ q + (k · q) β (v - S'ᵀ k)` needs no third pass).

    With `bonus` (RWKV-6's `u`, `1 x K`), the output reads the state before
    the update plus the bonus: `o = S_inᵀ q + ((q ⊙ u) · k) v`.

    With `lowrank(%a, %b)` (both `1 x K`), the transition is dplr's:
    `S_out = Diag(decay) S_in + b (aᵀ S_in) + k vᵀ`; `aᵀ S_in` needs the
    whole state first, so the state is read twice.

    ```mlir
    linac.recurrent_step ins(%q, %k, %v : memref<1x128xf32>, memref<1x128xf32>, memref<1x64xf32>)
        gates(%d : memref<1x128xf32>)
        state(%h0w : memref<128x64xf32, strided<[?, 1], offset: ?>>)
        outs(%htw, %o : memref<128x64xf32, strided<[?, 1], offset: ?>>, memref<1x64xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Linac_Tile, "", [MemRead]>:$q,
    Arg<Linac_Tile, "", [MemRead]>:$k,
    Arg<Linac_Tile, "", [MemRead]>:$v,
    Arg<Variadic<Linac_Tile>, "", [MemRead]>:$gates,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$beta,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$bonus,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$a,
    Arg<Optional<Linac_Tile>, "", [MemRead]>:$b,
    Arg<Linac_Tile, "", [MemRead]>:$state_in,
    Arg<Linac_Tile, "", [MemWrite]>:$state_out,
    Arg<Linac_Tile, "", [MemWrite]>:$o
  );
  let assemblyFormat = [{
    `ins` `(` $q `,` $k `,` $v `:` type($q) `,` type($k) `,` type($v) `)`
    (`gates` `(` $gates^ `:` type($gates) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`bonus` `(` $bonus^ `:` type($bonus) `)`)?
    (`lowrank` `(` $a^ `,` $b `:` type($a) `,` type($b) `)`)?
    `state` `(` $state_in `:` type($state_in) `)`
    `outs` `(` $state_out `,` $o `:` type($state_out) `,` type($o) `)` attr-dict
  }];
}

#endif // LINAC_DIALECT_LINAC_IR_LINACCHUNKOPS_TD
