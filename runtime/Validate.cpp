//===- Validate.cpp - Checking tensors against a kernel manifest ----------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// Generated kernels trust their tensors completely, so this is the one place
// where a wrong shape, a transposed view or an output that overwrites an input
// is caught. Every message names the kernel, the tensor, the dimension, the
// value found and the value expected, because the user reading it usually
// did not write the manifest.
//
// The checks run in a fixed order: per-tensor descriptors and shapes (which
// bind the symbols B, T, H, ...), the rules between symbols, memory layout,
// overlap, and last the contents of cu_seqlens and state_indices, the only
// tensor memory read here, which by then is known to be addressable.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Manifest.h"

#include "Error.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <new>

using namespace linac::manifest;
using linac::detail::Message;

namespace {

/// Where a symbol got its value: the first tensor dimension that uses it.
struct Binding {
  bool bound = false;
  int64_t value = 0;
  int32_t tensor = -1;
  int32_t dim = -1;
};

/// The bytes a tensor addresses: [low, high). Tensors with no elements
/// address nothing and take part in no overlap check.
struct Extent {
  bool addressed = false;
  uintptr_t low = 0;
  uintptr_t high = 0;
};

class Validator {
public:
  Validator(const Manifest &manifest, const linac_tensor *const *tensors,
            linac_error *err, const ValidateOptions &options)
      : m(manifest), tensors(tensors), err(err), options(options) {}

  int32_t run(int32_t count);
  /// The symbols' values after a successful run.
  void getBindings(Bindings &out) const {
    for (int s = 0; s < kNumSymbols; ++s) {
      out.bound[s] = bindings[s].bound;
      out.value[s] = bindings[s].value;
    }
  }

private:
  /// Starts a message with the kernel name.
  Message &begin() {
    message.clear();
    message.append("%.*s: ", LINAC_SV(m.kernel));
    return message;
  }
  int32_t finish() {
    return linac::detail::fail(err, LINAC_ERROR_INVALID_ARGUMENT, message);
  }
  int32_t fail(const char *format, ...) __attribute__((format(printf, 2, 3)));

  std::string_view name(int32_t i) const { return m.tensors[i].name; }
  const Binding &binding(Symbol symbol) const {
    return bindings[static_cast<int>(symbol)];
  }

  int32_t checkDescriptor(int32_t i);
  int32_t checkShape(int32_t i);
  int32_t checkSymbols();
  int32_t checkLayout(int32_t i);
  int32_t checkOverlap(int32_t i);
  int32_t checkCuSeqlens();
  int32_t checkStateIndices();
  bool allowedAlias(int32_t output, int32_t other) const;

  const Manifest &m;
  const linac_tensor *const *tensors;
  linac_error *err;
  const ValidateOptions &options;
  Message message;
  Binding bindings[kNumSymbols];
  Extent extents[kMaxTensors];
};

int32_t Validator::fail(const char *format, ...) {
  begin();
  va_list args;
  va_start(args, format);
  message.appendV(format, args);
  va_end(args);
  return finish();
}

int32_t Validator::run(int32_t count) {
  if (count != m.numTensors)
    return fail("%" PRId32 " tensors given, the manifest declares %" PRId32,
                count, m.numTensors);
  if (count > 0 && !tensors)
    return fail("the tensor array is NULL");
  for (int32_t i = 0; i < count; ++i)
    if (int32_t status = checkDescriptor(i))
      return status;
  if (int32_t status = checkSymbols())
    return status;
  for (int32_t i = 0; i < count; ++i)
    if (int32_t status = checkLayout(i))
      return status;
  for (int32_t i = 0; i < count; ++i)
    if (int32_t status = checkOverlap(i))
      return status;
  if (int32_t status = checkCuSeqlens())
    return status;
  if (int32_t status = checkStateIndices())
    return status;
  return linac::detail::succeed(err);
}

int32_t Validator::checkDescriptor(int32_t i) {
  const TensorDecl &decl = m.tensors[i];
  const linac_tensor *t = tensors[i];
  if (!t) {
    if (decl.required)
      return fail("tensor '%.*s' is required but NULL", LINAC_SV(decl.name));
    return LINAC_OK;
  }
  if (t->dtype != decl.dtype) {
    const char *actual = dtypeName(t->dtype);
    if (!actual)
      return fail("tensor '%.*s' has dtype %" PRId32
                  " (not a linac_dtype), expected %s",
                  LINAC_SV(decl.name), t->dtype, dtypeName(decl.dtype));
    return fail("tensor '%.*s' has dtype %s, expected %s", LINAC_SV(decl.name),
                actual, dtypeName(decl.dtype));
  }
  if (t->rank != decl.rank) {
    Message &msg = begin();
    msg.append("tensor '%.*s' has rank %" PRId32, LINAC_SV(decl.name), t->rank);
    // Only a rank in range says how many shape entries are meaningful.
    if (t->rank >= 0 && t->rank <= LINAC_MAX_RANK) {
      msg.append(" (shape ");
      msg.appendShape(t->shape, t->rank);
      msg.append(")");
    }
    msg.append(", expected rank %" PRId32 ": [", decl.rank);
    for (int32_t d = 0; d < decl.rank; ++d) {
      msg.append(d ? ", " : "");
      if (decl.dims[d].symbol != Symbol::None)
        msg.append("%s", symbolName(decl.dims[d].symbol));
      else
        msg.append("%" PRId64, decl.dims[d].size);
    }
    msg.append("]");
    return finish();
  }
  for (int32_t d = 0; d < decl.rank; ++d)
    if (t->shape[d] < 0)
      return fail("tensor '%.*s' dim %" PRId32 " is %" PRId64
                  "; sizes cannot be negative",
                  LINAC_SV(decl.name), d, t->shape[d]);
  return checkShape(i);
}

int32_t Validator::checkShape(int32_t i) {
  const TensorDecl &decl = m.tensors[i];
  const linac_tensor *t = tensors[i];
  // The first tensor to use a symbol binds it; this tensor's own unbound
  // symbols take its values, so the expected shape is fully known.
  int64_t expected[LINAC_MAX_RANK] = {};
  int32_t mismatch = -1;
  for (int32_t d = 0; d < decl.rank; ++d) {
    const Dim &dim = decl.dims[d];
    if (dim.symbol == Symbol::None) {
      expected[d] = dim.size;
    } else {
      Binding &b = bindings[static_cast<int>(dim.symbol)];
      if (!b.bound) {
        b.bound = true;
        b.value = t->shape[d];
        b.tensor = i;
        b.dim = d;
      }
      expected[d] = b.value;
    }
    if (mismatch < 0 && expected[d] != t->shape[d])
      mismatch = d;
  }
  if (mismatch < 0)
    return LINAC_OK;

  Message &msg = begin();
  msg.append("tensor '%.*s' has shape ", LINAC_SV(decl.name));
  msg.appendShape(t->shape, t->rank);
  msg.append(", expected [");
  for (int32_t d = 0; d < decl.rank; ++d) {
    msg.append(d ? ", " : "");
    if (decl.dims[d].symbol != Symbol::None)
      msg.append("%s", symbolName(decl.dims[d].symbol));
    else
      msg.append("%" PRId64, decl.dims[d].size);
  }
  msg.append("] = ");
  msg.appendShape(expected, decl.rank);
  const Dim &dim = decl.dims[mismatch];
  if (dim.symbol == Symbol::None) {
    msg.append(": dim %" PRId32 " is %" PRId64 ", expected %" PRId64, mismatch,
               t->shape[mismatch], dim.size);
  } else {
    const Binding &b = binding(dim.symbol);
    msg.append(": dim %" PRId32 " (%s) is %" PRId64 ", but tensor '%.*s' dim "
               "%" PRId32 " has %s = %" PRId64,
               mismatch, symbolName(dim.symbol), t->shape[mismatch],
               LINAC_SV(name(b.tensor)), b.dim, symbolName(dim.symbol),
               b.value);
  }
  return finish();
}

int32_t Validator::checkSymbols() {
  for (Symbol symbol : {Symbol::B, Symbol::T}) {
    const Binding &b = binding(symbol);
    if (b.bound && b.value < 1)
      return fail("tensor '%.*s' dim %" PRId32 " (%s) is %" PRId64
                  ", expected at least 1",
                  LINAC_SV(name(b.tensor)), b.dim, symbolName(symbol), b.value);
  }

  const Binding &h = binding(Symbol::H);
  const Binding &hv = binding(Symbol::HV);
  // Zero heads are a legal empty problem, and 0 is the only multiple of 0.
  if (h.bound && hv.bound &&
      (h.value == 0 ? hv.value != 0 : hv.value % h.value != 0))
    return fail("tensor '%.*s' dim %" PRId32 " (HV) is %" PRId64
                ", expected a multiple of H = %" PRId64
                " (tensor '%.*s' dim %" PRId32 ")",
                LINAC_SV(name(hv.tensor)), hv.dim, hv.value, h.value,
                LINAC_SV(name(h.tensor)), h.dim);

  const Binding &b = binding(Symbol::B);
  const Binding &s = binding(Symbol::S);
  bool varlen = m.cuSeqlens >= 0 && tensors[m.cuSeqlens];
  if (varlen) {
    // The parser guarantees cu_seqlens is [N1], so N1 is bound here.
    const Binding &n1 = binding(Symbol::N1);
    if (b.bound && b.value != 1)
      return fail("tensor '%.*s' dim %" PRId32 " (B) is %" PRId64
                  ", expected 1: with cu_seqlens the sequences are packed "
                  "along T",
                  LINAC_SV(name(b.tensor)), b.dim, b.value);
    if (s.bound && n1.value >= 1 && s.value != n1.value - 1)
      return fail("tensor '%.*s' dim %" PRId32 " (S) is %" PRId64
                  ", expected S = N1 - 1 = %" PRId64
                  " (cu_seqlens has N1 = %" PRId64 " offsets)",
                  LINAC_SV(name(s.tensor)), s.dim, s.value, n1.value - 1,
                  n1.value);
  } else if (s.bound && b.bound && s.value != b.value) {
    return fail("tensor '%.*s' dim %" PRId32 " (S) is %" PRId64
                ", expected S = B = %" PRId64 " (tensor '%.*s' dim %" PRId32
                "; no cu_seqlens given)",
                LINAC_SV(name(s.tensor)), s.dim, s.value, b.value,
                LINAC_SV(name(b.tensor)), b.dim);
  }
  return LINAC_OK;
}

int32_t Validator::checkLayout(int32_t i) {
  const linac_tensor *t = tensors[i];
  if (!t)
    return LINAC_OK;
  std::string_view tensorName = name(i);
  // A tensor with no elements addresses no memory: its data may be NULL and
  // its strides are never used.
  int64_t elements = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    if (t->shape[d] == 0)
      return LINAC_OK;
  for (int32_t d = 0; d < t->rank; ++d) {
    if (__builtin_mul_overflow(elements, t->shape[d], &elements)) {
      Message &msg = begin();
      msg.append("tensor '%.*s' has shape ", LINAC_SV(tensorName));
      msg.appendShape(t->shape, t->rank);
      msg.append(", whose element count overflows int64");
      return finish();
    }
  }
  if (!t->data) {
    Message &msg = begin();
    msg.append("tensor '%.*s' has NULL data but shape ", LINAC_SV(tensorName));
    msg.appendShape(t->shape, t->rank);
    msg.append(" (%" PRId64 " elements)", elements);
    return finish();
  }
  for (int32_t d = 0; d < t->rank; ++d)
    if (t->strides[d] < 0)
      return fail("tensor '%.*s' dim %" PRId32 " has stride %" PRId64
                  "; strides cannot be negative",
                  LINAC_SV(tensorName), d, t->strides[d]);
  // A last dimension of size 1 is never stepped along, so its stride is
  // irrelevant (frameworks often leave arbitrary values there).
  int32_t last = t->rank - 1;
  if (t->rank > 0 && t->shape[last] > 1 && t->strides[last] != 1)
    return fail("tensor '%.*s' innermost stride is %" PRId64
                "; the CPU kernels need stride 1 on the last dimension (copy "
                "it contiguous first)",
                LINAC_SV(tensorName), t->strides[last]);
  size_t elementSize = dtypeSize(t->dtype);
  uintptr_t address = reinterpret_cast<uintptr_t>(t->data);
  if (address % elementSize != 0)
    return fail("tensor '%.*s' data %p is not aligned to its %zu-byte "
                "element size",
                LINAC_SV(tensorName), t->data, elementSize);

  // Offset of the last element, in elements, then in bytes, then as an end
  // address: each step can overflow for a forged descriptor.
  uint64_t span = 0;
  bool overflow = false;
  for (int32_t d = 0; d < t->rank && !overflow; ++d) {
    uint64_t reach;
    overflow =
        __builtin_mul_overflow(static_cast<uint64_t>(t->shape[d] - 1),
                               static_cast<uint64_t>(t->strides[d]), &reach) ||
        __builtin_add_overflow(span, reach, &span);
  }
  uint64_t bytes = 0;
  uintptr_t end = 0;
  overflow = overflow || __builtin_add_overflow(span, 1, &span) ||
             __builtin_mul_overflow(span, elementSize, &bytes) ||
             __builtin_add_overflow(address, bytes, &end);
  if (overflow) {
    Message &msg = begin();
    msg.append("tensor '%.*s' with shape ", LINAC_SV(tensorName));
    msg.appendShape(t->shape, t->rank);
    msg.append(" and strides ");
    msg.appendShape(t->strides, t->rank);
    msg.append(" at %p reaches past the end of the address space", t->data);
    return finish();
  }
  extents[i].addressed = true;
  extents[i].low = address;
  extents[i].high = end;
  return LINAC_OK;
}

bool Validator::allowedAlias(int32_t output, int32_t other) const {
  bool declared = false;
  for (int32_t a = 0; a < m.numAliases; ++a)
    declared |= m.aliases[a].output == output && m.aliases[a].input == other;
  if (!declared)
    return false;
  const linac_tensor *x = tensors[output];
  const linac_tensor *y = tensors[other];
  if (x->data != y->data || x->rank != y->rank)
    return false;
  // A size-1 dimension is never stepped along, so its stride does not
  // change which elements a view addresses.
  for (int32_t d = 0; d < x->rank; ++d)
    if (x->shape[d] != y->shape[d] ||
        (x->shape[d] != 1 && x->strides[d] != y->strides[d]))
      return false;
  return true;
}

int32_t Validator::checkOverlap(int32_t i) {
  if (!m.tensors[i].output || !extents[i].addressed)
    return LINAC_OK;
  // Byte extents are a conservative test: two interleaved strided views can
  // share an extent without sharing an element, but kernels write outputs
  // in any order, so proving disjointness exactly is not worth the risk.
  const Extent &mine = extents[i];
  for (int32_t j = 0; j < m.numTensors; ++j) {
    const Extent &other = extents[j];
    if (j == i || !other.addressed || mine.low >= other.high ||
        other.low >= mine.high)
      continue;
    if (allowedAlias(i, j))
      continue;
    const char *role = m.tensors[j].output ? "output" : "input";
    bool declared = false;
    for (int32_t a = 0; a < m.numAliases; ++a)
      declared |= m.aliases[a].output == i && m.aliases[a].input == j;
    if (declared)
      return fail("tensor '%.*s' overlaps input '%.*s' but is not the very "
                  "same tensor; 'alias %.*s %.*s' allows only the same data, "
                  "shape and strides",
                  LINAC_SV(name(i)), LINAC_SV(name(j)), LINAC_SV(name(i)),
                  LINAC_SV(name(j)));
    return fail("tensor '%.*s' overlaps %s '%.*s'", LINAC_SV(name(i)), role,
                LINAC_SV(name(j)));
  }
  return LINAC_OK;
}

/// Element k of a rank-1 i32 or i64 tensor that checkLayout has proven
/// addressable and aligned.
int64_t readInteger(const linac_tensor *t, int64_t k) {
  const char *p = static_cast<const char *>(t->data) +
                  static_cast<size_t>(k) * static_cast<size_t>(t->strides[0]) *
                      dtypeSize(t->dtype);
  if (t->dtype == LINAC_I32) {
    int32_t value;
    std::memcpy(&value, p, sizeof(value));
    return value;
  }
  int64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

int32_t Validator::checkStateIndices() {
  if (m.stateIndices < 0 || !tensors[m.stateIndices] ||
      !options.readContents)
    return LINAC_OK;
  // The pool's size is h0's dim 0, which the shape checks have matched
  // with ht's (through the symbol P, or a static size that hand-written IR
  // gave the pool). h0 is required with state_indices.
  int32_t pool = -1;
  for (int32_t i = 0; i < m.numTensors; ++i)
    if (m.tensors[i].name == "h0" && tensors[i] && tensors[i]->rank >= 1)
      pool = i;
  const int64_t poolSize = pool >= 0 ? tensors[pool]->shape[0] : 0;
  const linac_tensor *t = tensors[m.stateIndices];
  const int64_t count = t->shape[0];
  if (count == 0)
    return LINAC_OK;
  // Two sequences writing one slot would race; negative indices are
  // padding rows and may repeat. Sorting a copy finds repeats in
  // O(S log S): small batches stay on the stack.
  constexpr int64_t kOnStack = 256;
  int64_t stack[kOnStack];
  std::unique_ptr<int64_t[]> heap;
  int64_t *slots = stack;
  if (count > kOnStack) {
    heap.reset(new (std::nothrow) int64_t[static_cast<size_t>(count)]);
    if (!heap)
      return linac::detail::fail(err, LINAC_ERROR_OUT_OF_MEMORY,
                                 "no memory to check the state indices");
    slots = heap.get();
  }
  int64_t used = 0;
  for (int64_t k = 0; k < count; ++k) {
    int64_t slot = readInteger(t, k);
    if (slot < 0)
      continue;
    if (slot >= poolSize)
      return fail("state_indices[%" PRId64 "] is %" PRId64
                  ", outside the pool of P = %" PRId64
                  " states (tensor '%.*s' dim 0); use a negative index for "
                  "a padding row",
                  k, slot, poolSize,
                  LINAC_SV(name(pool >= 0 ? pool : m.stateIndices)));
    slots[used++] = slot;
  }
  std::sort(slots, slots + used);
  const int64_t *repeat = std::adjacent_find(slots, slots + used);
  if (repeat == slots + used)
    return LINAC_OK;
  int64_t first = -1, second = -1;
  for (int64_t k = 0; k < count && second < 0; ++k)
    if (readInteger(t, k) == *repeat)
      (first < 0 ? first : second) = k;
  return fail("state_indices[%" PRId64 "] and state_indices[%" PRId64
              "] are both %" PRId64
              ": two sequences may not share a state slot",
              first, second, *repeat);
}

int32_t Validator::checkCuSeqlens() {
  if (m.cuSeqlens < 0 || !tensors[m.cuSeqlens])
    return LINAC_OK;
  const linac_tensor *t = tensors[m.cuSeqlens];
  int64_t count = t->shape[0];
  if (count == 0)
    return fail("tensor 'cu_seqlens' dim 0 (N1) is 0, expected at least 2: "
                "N + 1 offsets from 0 to T");
  // Device memory is not read here; the kernels clamp the offsets.
  if (!options.readContents)
    return LINAC_OK;
  // checkLayout has proven that data, stride and all `count` offsets lie in
  // one addressable, aligned extent.
  auto offset = [&](int64_t k) { return readInteger(t, k); };

  int64_t previous = offset(0);
  if (previous != 0)
    return fail("cu_seqlens[0] is %" PRId64 ", expected 0", previous);
  for (int64_t k = 1; k < count; ++k) {
    int64_t current = offset(k);
    if (current < previous)
      return fail("cu_seqlens[%" PRId64 "] is %" PRId64
                  ", less than cu_seqlens[%" PRId64 "] = %" PRId64
                  "; offsets must be non-decreasing",
                  k, current, k - 1, previous);
    previous = current;
  }
  const Binding &time = binding(Symbol::T);
  if (time.bound && previous != time.value)
    return fail("cu_seqlens[%" PRId64 "] (the last offset) is %" PRId64
                ", expected T = %" PRId64 " (tensor '%.*s' dim %" PRId32 ")",
                count - 1, previous, time.value, LINAC_SV(name(time.tensor)),
                time.dim);
  return LINAC_OK;
}

} // namespace

int32_t linac::manifest::validate(const Manifest &manifest,
                                  const linac_tensor *const *tensors,
                                  int32_t count, linac_error *err,
                                  const ValidateOptions &options,
                                  Bindings *bindings) {
  Validator validator(manifest, tensors, err, options);
  int32_t status = validator.run(count);
  if (status == LINAC_OK && bindings)
    validator.getBindings(*bindings);
  return status;
}

extern "C" int32_t linac_validate(const char *manifest,
                                  const linac_tensor *const *tensors,
                                  int32_t count, linac_error *err) {
  if (!manifest)
    return linac::detail::fail(err, LINAC_ERROR_INVALID_ARGUMENT,
                               "the manifest is NULL");
  // About 4 KiB on the stack: parsing here keeps linac_validate free of
  // allocation, at the price of re-parsing per call (kernels loaded through
  // linac_kernel_launch parse once).
  Manifest parsed;
  if (int32_t status = parse(manifest, parsed, err))
    return status;
  return validate(parsed, tensors, count, err);
}
