//===- LinacEnums.td - linac enum attributes ---------------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACENUMS_TD
#define LINAC_DIALECT_LINAC_IR_LINACENUMS_TD

include "mlir/IR/EnumAttr.td"
include "linac/Dialect/Linac/IR/LinacBase.td"

//===----------------------------------------------------------------------===//
// Decay: the diagonal part D_t of the transition.
//===----------------------------------------------------------------------===//

def Linac_DecayNone : I32EnumAttrCase<"None", 0, "none">;
def Linac_DecayConstant : I32EnumAttrCase<"Constant", 1, "constant">;
def Linac_DecayScalar : I32EnumAttrCase<"Scalar", 2, "scalar">;
def Linac_DecayDiagonal : I32EnumAttrCase<"Diagonal", 3, "diagonal">;

def Linac_DecayKind : I32EnumAttr<"DecayKind",
    "diagonal part of the state transition",
    [Linac_DecayNone, Linac_DecayConstant, Linac_DecayScalar,
     Linac_DecayDiagonal]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

def Linac_DecayKindAttr : EnumAttr<Linac_Dialect, Linac_DecayKind, "decay"> {
  let summary = "Diagonal part D_t of the state transition";
  let description = [{
    - `none`: `D_t = I` (linear_attn, delta_rule).
    - `constant`: `D_t = λ_h I` with one constant per value head, given by the
      op's `decay_constants` (retention, lightning).
    - `scalar`: `D_t = exp(g_t) I` with a data-dependent log-space scalar per
      value head, `g : [B, T, HV]` (simple_gla, gated_delta_rule).
    - `diagonal`: `D_t = Diag(exp(g_t))` with a data-dependent log-space
      vector per value head, `g : [B, T, HV, K']` (gla, rwkv6, kda, dplr).
  }];
  let assemblyFormat = "$value";
}

//===----------------------------------------------------------------------===//
// Rank-one part of the transition.
//===----------------------------------------------------------------------===//

def Linac_RankOneNone : I32EnumAttrCase<"None", 0, "none">;
def Linac_RankOneDelta : I32EnumAttrCase<"Delta", 1, "delta">;
def Linac_RankOneDplr : I32EnumAttrCase<"Dplr", 2, "dplr">;

def Linac_RankOneKind : I32EnumAttr<"RankOneKind",
    "rank-one part of the state transition",
    [Linac_RankOneNone, Linac_RankOneDelta, Linac_RankOneDplr]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

def Linac_RankOneKindAttr
    : EnumAttr<Linac_Dialect, Linac_RankOneKind, "rank_one"> {
  let summary = "Rank-one part of the state transition";
  let description = [{
    - `none`: `S_t = D_t S_{t-1} + k_t v_tᵀ`.
    - `delta`: the delta rule, `S' = D_t S_{t-1}`,
      `S_t = S' + β_t k_t (v_t - S'ᵀ k_t)ᵀ`; needs `beta : [B, T, HV]`.
    - `dplr`: `S_t = D_t S_{t-1} + b_t (a_tᵀ S_{t-1}) + k_t v_tᵀ`, the rank-one
      term reading the undecayed state; needs `a, b : [B, T, HV, K']`.
  }];
  let assemblyFormat = "$value";
}

//===----------------------------------------------------------------------===//
// Output form.
//===----------------------------------------------------------------------===//

def Linac_OutputCurrent : I32EnumAttrCase<"CurrentState", 0, "current_state">;
def Linac_OutputPreviousPlusBonus
    : I32EnumAttrCase<"PreviousStatePlusBonus", 1, "previous_state_plus_bonus">;

def Linac_OutputForm : I32EnumAttr<"OutputForm",
    "which state the output reads",
    [Linac_OutputCurrent, Linac_OutputPreviousPlusBonus]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

def Linac_OutputFormAttr
    : EnumAttr<Linac_Dialect, Linac_OutputForm, "output_form"> {
  let summary = "Which state the output reads";
  let description = [{
    - `current_state`: `o_t = scale · S_tᵀ q_t`.
    - `previous_state_plus_bonus` (rwkv6):
      `o_t = scale · (S_{t-1} + Diag(u) k_t v_tᵀ)ᵀ q_t`; needs `u : [HV, K']`.
  }];
  let assemblyFormat = "$value";
}

//===----------------------------------------------------------------------===//
// Feature maps and the normalizer.
//===----------------------------------------------------------------------===//

def Linac_FeatureMap : I32EnumAttr<"FeatureMap",
    "feature map applied to q and k before the recurrence",
    [I32EnumAttrCase<"Identity", 0, "identity">,
     I32EnumAttrCase<"EluPlusOne", 1, "elu_plus_one">,
     I32EnumAttrCase<"Relu", 2, "relu">,
     I32EnumAttrCase<"Silu", 3, "silu">,
     I32EnumAttrCase<"L2Norm", 4, "l2norm">,
     I32EnumAttrCase<"Taylor2", 5, "taylor2">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

def Linac_FeatureMapAttr
    : EnumAttr<Linac_Dialect, Linac_FeatureMap, "feature_map"> {
  let summary = "Feature map applied to each q and k head vector";
  let description = [{
    `identity`, `elu_plus_one` (`elu(x) + 1`), `relu`, `silu`, `l2norm`
    (each head vector scaled to unit length) or `taylor2`
    (`[1, x, vec(x xᵀ)/√2]`, the Based map, which turns the state's key
    dimension `K` into `1 + K + K²`).
  }];
  let assemblyFormat = "$value";
}

def Linac_Normalizer : I32EnumAttr<"Normalizer",
    "output normalizer",
    [I32EnumAttrCase<"None", 0, "none">,
     I32EnumAttrCase<"Sum", 1, "sum">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

def Linac_NormalizerAttr
    : EnumAttr<Linac_Dialect, Linac_Normalizer, "normalizer"> {
  let summary = "Output normalizer";
  let description = [{
    `sum` also carries `z_t = D_t z_{t-1} + k_t` (plus the dplr term) and
    outputs `o_t / (z_tᵀ q_t · scale + eps)`: one extra value column of ones.
    Not defined with `rank_one(delta)`, whose write depends on the value.
  }];
  let assemblyFormat = "$value";
}

//===----------------------------------------------------------------------===//
// Algorithms (chosen by linac-select)
//===----------------------------------------------------------------------===//

def Linac_Algorithm : I32EnumAttr<"Algorithm",
    "exact algorithm that evaluates a recurrence",
    [I32EnumAttrCase<"Recurrent", 0, "recurrent">,
     I32EnumAttrCase<"Chunked", 1, "chunked">,
     I32EnumAttrCase<"ChunkedWY", 2, "chunked_wy">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::linac";
}

//===----------------------------------------------------------------------===//
// Properties
//===----------------------------------------------------------------------===//

// The structural choices are stored as properties that print as bare keywords
// in the op's assembly format (`decay(diagonal)`) and as the attributes above
// in the generic form (`decay = #linac<decay diagonal>`).
class Linac_EnumProp<EnumInfo info, Attr attr>
    : EnumPropWithAttrForm<info, attr> {
  let storeInCustomAttribute = 1;
}

def Linac_DecayKindProp : Linac_EnumProp<Linac_DecayKind, Linac_DecayKindAttr>;
def Linac_RankOneKindProp
    : Linac_EnumProp<Linac_RankOneKind, Linac_RankOneKindAttr>;
def Linac_OutputFormProp
    : Linac_EnumProp<Linac_OutputForm, Linac_OutputFormAttr>;
def Linac_FeatureMapProp
    : Linac_EnumProp<Linac_FeatureMap, Linac_FeatureMapAttr>;
def Linac_NormalizerProp
    : Linac_EnumProp<Linac_Normalizer, Linac_NormalizerAttr>;

#endif // LINAC_DIALECT_LINAC_IR_LINACENUMS_TD
