//===- LinacOps.td - linac dialect operations --------------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACOPS_TD
#define LINAC_DIALECT_LINAC_IR_LINACOPS_TD

include "linac/Dialect/Linac/IR/LinacBase.td"
include "linac/Dialect/Linac/IR/LinacAttrs.td"
include "linac/Dialect/Linac/IR/LinacEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// RecurrenceOp
//===----------------------------------------------------------------------===//

def Linac_RecurrenceOp : Linac_Op<"recurrence",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "A linear-attention recurrence over a matrix state";
  let description = [{
    Computes, for every batch element (or every sequence of a packed varlen
    batch) and every value head, the recurrence

    ```
    S_0 = h0 (zeros when absent)
    S_t = (D_t + b_t a_tᵀ) S_{t-1} + k_t v_tᵀ       t = 1 .. T
    o_t = scale · S_tᵀ q_t
    ```

    over a `K x V` f32 state, where the structure of the transition is given
    by attributes rather than by a variant name:

    | attribute     | values                                             |
    |---------------|----------------------------------------------------|
    | `decay`       | `none`, `constant`, `scalar`, `diagonal`           |
    | `rank_one`    | `none` (default), `delta`, `dplr`                  |
    | `output`      | `current_state` (default), `previous_state_plus_bonus` |
    | `feature_map` | `identity` (default), `elu_plus_one`, `relu`, `silu`, `l2norm`, `taylor2` |
    | `normalizer`  | `none` (default), `sum`                            |
    | `constants`   | one decay per value head, for `decay(constant)`    |
    | `scale`       | multiplies `q`; absent means `K^-0.5` (input `K`)  |
    | `eps`         | the normalizer's epsilon; absent means `1e-6`      |

    Operands, in the default `[B, T, heads, dim]` layout of SEMANTICS.md:

    | operand      | shape                   | needed when                          |
    |--------------|-------------------------|--------------------------------------|
    | `q`, `k`     | `[B, T, H, K]`          | always                               |
    | `v`          | `[B, T, HV, V]`         | always; `HV` a multiple of `H`       |
    | `g`          | `[B, T, HV]`            | `decay(scalar)`                      |
    | `g`          | `[B, T, HV, K']`        | `decay(diagonal)`                    |
    | `beta`       | `[B, T, HV]`            | `rank_one(delta)`                    |
    | `a`, `b`     | `[B, T, HV, K']`        | `rank_one(dplr)`                     |
    | `u`          | `[HV, K']`              | `output(previous_state_plus_bonus)`  |
    | `h0`         | `[N, HV, K', V]`, f32   | optional initial state               |
    | `cu_seqlens` | `[N + 1]`, i32 or i64   | optional; varlen, then `B = 1`       |
    | `state_indices` | `[N]`, i32 or i64    | optional; a state pool (below)       |

    `N` is `B`, or the number of sequences with `cu_seqlens`; `K'` is `K`, or
    `1 + K + K²` with `feature_map(taylor2)`: the feature map acts on `q` and
    `k` only, and every per-key input acts on the rows of the state. Results are the output
    `o : [B, T, HV, V]` and, when a second result type is given, the final
    state `ht : [N, HV, K', V]` in f32. `q`, `k` and `v` share one element
    type (f32, f16 or bf16); the output may have another of those three.

    With `state_indices` the states are a *pool* of `P` slots, as serving
    engines keep them: `h0` and `ht` are both required and have shape
    `[P, HV, K', V]`, sequence `n` starts from slot `state_indices[n]` of `h0`,
    and `ht` is `h0` with that slot replaced by the sequence's final state
    (every other slot is `h0`'s). An index outside `[0, P)`, such as the
    padding slot `-1`, leaves the sequence out: it reads and writes no slot
    and its rows of `o` are zero. Two sequences may not share a slot. The
    buffers lowering writes the named slots of `ht` only, so passing the same
    buffer as `h0` and `ht` updates the pool in place.

    The variants of SEMANTICS.md map onto the attributes as follows:
    `linear_attn` is `decay(none)`; `retention` and `lightning` are
    `decay(constant)`; `simple_gla` is `decay(scalar)`; `gla` is
    `decay(diagonal)`; `rwkv6` is `decay(diagonal)
    output(previous_state_plus_bonus)`; `delta_rule`, `gated_delta_rule` and
    `kda` are `rank_one(delta)` with decay `none`, `scalar` and `diagonal`;
    `dplr` is `decay(diagonal) rank_one(dplr)`.

    Example (Gated DeltaNet with L2-normalised keys, 16 heads, final state):

    ```mlir
    %o, %ht = linac.recurrence decay(scalar) rank_one(delta)
        feature_map(l2norm) scale(0.0883883)
        q(%q : tensor<1x4096x16x128xbf16>) k(%k : tensor<1x4096x16x128xbf16>)
        v(%v : tensor<1x4096x16x128xbf16>) g(%g : tensor<1x4096x16xf32>)
        beta(%beta : tensor<1x4096x16xf32>)
        -> tensor<1x4096x16x128xbf16>, tensor<1x16x128x128xf32>
    ```
  }];

  let arguments = (ins
    Linac_DecayKindProp:$decay,
    DefaultValuedProp<Linac_RankOneKindProp,
                      "::linac::RankOneKind::None">:$rank_one,
    DefaultValuedProp<Linac_OutputFormProp,
                      "::linac::OutputForm::CurrentState">:$output_form,
    DefaultValuedProp<Linac_FeatureMapProp,
                      "::linac::FeatureMap::Identity">:$feature_map,
    DefaultValuedProp<Linac_NormalizerProp,
                      "::linac::Normalizer::None">:$normalizer,
    // f64: the decays sit within 2^-20 of 1 and are raised to the power of
    // the sequence length; f32 would round them for some head counts.
    OptionalAttr<DenseF64ArrayAttr>:$decay_constants,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$eps,
    AnyRankedTensor:$q,
    AnyRankedTensor:$k,
    AnyRankedTensor:$v,
    Optional<AnyRankedTensor>:$g,
    Optional<AnyRankedTensor>:$beta,
    Optional<AnyRankedTensor>:$a,
    Optional<AnyRankedTensor>:$b,
    Optional<AnyRankedTensor>:$u,
    Optional<AnyRankedTensor>:$h0,
    Optional<AnyRankedTensor>:$cu_seqlens,
    Optional<AnyRankedTensor>:$state_indices
  );
  let results = (outs
    AnyRankedTensor:$o,
    Optional<AnyRankedTensor>:$ht
  );

  let assemblyFormat = [{
    `decay` `(` $decay `)`
    (`rank_one` `(` $rank_one^ `)`)?
    (`output` `(` $output_form^ `)`)?
    (`feature_map` `(` $feature_map^ `)`)?
    (`normalizer` `(` $normalizer^ `)`)?
    (`constants` `(` custom<DecayConstants>($decay_constants)^ `)`)?
    (`scale` `(` $scale^ `)`)?
    (`eps` `(` $eps^ `)`)?
    `q` `(` $q `:` type($q) `)`
    `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`g` `(` $g^ `:` type($g) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`a` `(` $a^ `:` type($a) `)`)?
    (`b` `(` $b^ `:` type($b) `)`)?
    (`u` `(` $u^ `:` type($u) `)`)?
    (`h0` `(` $h0^ `:` type($h0) `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `:` type($cu_seqlens) `)`)?
    (`state_indices` `(` $state_indices^ `:` type($state_indices) `)`)?
    attr-dict `->` type($o) (`,` type($ht)^)?
  }];

  let hasVerifier = 1;
  let hasCanonicalizer = 1;

  let extraClassDeclaration = [{
    /// The scale multiplying q: the `scale` attribute, or K^-0.5 with K the
    /// input head dimension of q and k when the attribute is absent.
    double getEffectiveScale();

    /// The normalizer's epsilon: the `eps` attribute or 1e-6.
    double getEffectiveEps();

    /// The key dimension of the state: K, or 1 + K + K^2 for taylor2.
    int64_t getStateKeyDim();

    /// Whether the op has a data-dependent log-space gate operand.
    bool hasDataDependentDecay() {
      return getDecay() == DecayKind::Scalar ||
             getDecay() == DecayKind::Diagonal;
    }
  }];
}

include "linac/Dialect/Linac/IR/LinacChunkOps.td"

#endif // LINAC_DIALECT_LINAC_IR_LINACOPS_TD
