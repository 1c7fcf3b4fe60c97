//===- Manifest.cpp - Strict parser for kernel manifests ------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// The manifest is the only description of a compiled kernel's interface that
// the runtime ever sees, and it arrives from a file on disk, so the parser is
// strict (anything the format does not spell out is an error, never a guess)
// and must survive arbitrary bytes: it is fuzzed through linac_validate.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Manifest.h"

#include "Error.h"

#include <cinttypes>

using namespace linac::manifest;
using linac::detail::fail;

const char *linac::manifest::symbolName(Symbol symbol) {
  switch (symbol) {
  case Symbol::None:
    return "";
  case Symbol::B:
    return "B";
  case Symbol::T:
    return "T";
  case Symbol::H:
    return "H";
  case Symbol::HV:
    return "HV";
  case Symbol::S:
    return "S";
  case Symbol::N1:
    return "N1";
  case Symbol::P:
    return "P";
  }
  return "";
}

const char *linac::manifest::dtypeName(int32_t dtype) {
  switch (dtype) {
  case LINAC_F32:
    return "f32";
  case LINAC_F16:
    return "f16";
  case LINAC_BF16:
    return "bf16";
  case LINAC_I32:
    return "i32";
  case LINAC_I64:
    return "i64";
  default:
    return nullptr;
  }
}

size_t linac::manifest::dtypeSize(int32_t dtype) {
  switch (dtype) {
  case LINAC_F16:
  case LINAC_BF16:
    return 2;
  case LINAC_F32:
  case LINAC_I32:
    return 4;
  case LINAC_I64:
    return 8;
  default:
    return 0;
  }
}

namespace {

/// Beyond the longest valid record (`tensor` with LINAC_MAX_RANK dims), so
/// that a too-long record is reported by its own rule ("rank 5 exceeds 4")
/// and only absurd lines by the generic one.
constexpr int kMaxFields = 16;
/// Field values quoted in messages are cut to this length so that the
/// message keeps room for the line number and the reason.
constexpr int kQuoteLength = 40;

/// printf arguments quoting a field, shortened to kQuoteLength.
#define LINAC_QUOTE(view)                                                      \
  static_cast<int>((view).size() < kQuoteLength ? (view).size()                \
                                                : kQuoteLength),               \
      (view).data()

bool isIdentifier(std::string_view text) {
  if (text.empty() || text.size() > kMaxNameLength)
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0))
      return false;
  }
  return true;
}

/// A CPU feature name as LLVM spells it: lower-case letters, digits, '.',
/// '-' and '_' (e.g. "sse4.2", "amx-tile").
bool isFeatureName(std::string_view text) {
  if (text.empty() || text.size() > kMaxNameLength)
    return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_'))
      return false;
  return true;
}

/// A non-negative decimal without sign or redundant leading zeros that fits
/// in int64_t.
bool parseSize(std::string_view text, int64_t &value) {
  if (text.empty() || (text.size() > 1 && text[0] == '0'))
    return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (result > (static_cast<uint64_t>(INT64_MAX) - digit) / 10)
      return false;
    result = result * 10 + digit;
  }
  value = static_cast<int64_t>(result);
  return true;
}

bool parseDtype(std::string_view text, linac_dtype &dtype) {
  static const struct {
    const char *name;
    linac_dtype dtype;
  } kDtypes[] = {{"f32", LINAC_F32},
                 {"f16", LINAC_F16},
                 {"bf16", LINAC_BF16},
                 {"i32", LINAC_I32},
                 {"i64", LINAC_I64}};
  for (const auto &entry : kDtypes)
    if (text == entry.name) {
      dtype = entry.dtype;
      return true;
    }
  return false;
}

Symbol parseSymbol(std::string_view text) {
  static const Symbol kSymbols[] = {Symbol::B,  Symbol::T, Symbol::H,
                                    Symbol::HV, Symbol::S, Symbol::N1,
                                    Symbol::P};
  for (Symbol symbol : kSymbols)
    if (text == symbolName(symbol))
      return symbol;
  return Symbol::None;
}

/// The records that must appear exactly once.
enum Header { kCompiler, kKernel, kTarget, kMode, kVariant, kNumHeaders };
const char *const kHeaderNames[kNumHeaders] = {"compiler", "kernel", "target",
                                               "mode", "variant"};

class Parser {
public:
  Parser(Manifest &manifest, linac_error *err) : m(manifest), err(err) {}

  int32_t run(std::string_view text);

private:
  int32_t error(const char *format, ...) __attribute__((format(printf, 2, 3)));
  int32_t parseLine(std::string_view line);
  int32_t parseTarget();
  int32_t parseTensor();
  int32_t parseAlias();
  int32_t parseLaunch();
  int32_t parseSchedule();
  int32_t parseTma();
  int32_t parseLayout();
  int32_t finishLaunch();
  int findTensor(std::string_view name) const {
    for (int i = 0; i < m.numTensors; ++i)
      if (m.tensors[i].name == name)
        return i;
    return -1;
  }

  Manifest &m;
  linac_error *err;
  int64_t lineNumber = 0;
  std::string_view fields[kMaxFields];
  int numFields = 0;
  bool seen[kNumHeaders] = {};
  /// The launch record's flag list, resolved once every tensor is known.
  std::string_view launchFlags;
  int64_t launchLine = 0;
  /// The first `tma` record, for the check that the kernel is a CUDA one.
  int64_t tmaLine = 0;
};

int32_t Parser::error(const char *format, ...) {
  linac::detail::Message message;
  message.append("corrupt manifest: line %" PRId64 ": ", lineNumber);
  va_list args;
  va_start(args, format);
  message.appendV(format, args);
  va_end(args);
  return fail(err, LINAC_ERROR_LOAD, message);
}

int32_t Parser::run(std::string_view text) {
  size_t position = 0;
  // An empty text still has a first line, which is not `linac-manifest 1`.
  do {
    ++lineNumber;
    size_t end = text.find('\n', position);
    if (end == std::string_view::npos)
      end = text.size();
    if (int32_t status = parseLine(text.substr(position, end - position)))
      return status;
    position = end + 1;
    // A final '\n' ends the last record; it does not start an empty one.
  } while (position < text.size());

  for (int h = 0; h < kNumHeaders; ++h)
    if (!seen[h])
      return fail(err, LINAC_ERROR_LOAD, "corrupt manifest: no '%s' record",
                  kHeaderNames[h]);
  return finishLaunch();
}

int32_t Parser::parseLaunch() {
  if (m.hasLaunch)
    return error("second 'launch' record");
  if (numFields != 5)
    return error("'launch' takes threads, shared bytes, value tiles and a "
                 "flag list ('-' for none), found %d fields",
                 numFields - 1);
  m.hasLaunch = true;
  launchLine = lineNumber;
  // A block has at most 1024 threads, in whole warps; no chip has more than
  // 1 GiB of shared memory per block.
  if (!parseSize(fields[1], m.launchThreads) || m.launchThreads < 32 ||
      m.launchThreads > 1024 || m.launchThreads % 32 != 0)
    return error("launch threads '%.*s' is not a multiple of 32 in [32, 1024]",
                 LINAC_QUOTE(fields[1]));
  if (!parseSize(fields[2], m.launchShared) || m.launchShared > (1 << 30))
    return error("launch shared bytes '%.*s' is not a size up to 2^30",
                 LINAC_QUOTE(fields[2]));
  if (!parseSize(fields[3], m.launchTiles) || m.launchTiles < 1 ||
      m.launchTiles > (1 << 20))
    return error("launch value tiles '%.*s' is not in [1, 2^20]",
                 LINAC_QUOTE(fields[3]));
  launchFlags = fields[4];
  return LINAC_OK;
}

int32_t Parser::parseSchedule() {
  if (!m.scheduleAlgorithm.empty())
    return error("second 'schedule' record");
  if (numFields != 3)
    return error("'schedule' takes an algorithm and a chunk size, found %d "
                 "fields",
                 numFields - 1);
  std::string_view algorithm = fields[1];
  if (algorithm != "chunked" && algorithm != "chunked_wy" &&
      algorithm != "recurrent")
    return error("schedule algorithm '%.*s' is not chunked, chunked_wy or "
                 "recurrent",
                 LINAC_QUOTE(algorithm));
  if (!parseSize(fields[2], m.scheduleChunk) || m.scheduleChunk > (1 << 20))
    return error("schedule chunk size '%.*s' is not a size up to 2^20",
                 LINAC_QUOTE(fields[2]));
  m.scheduleAlgorithm = algorithm;
  return LINAC_OK;
}

int32_t Parser::parseTma() {
  if (numFields < 3)
    return error("'tma' takes a tensor name and its box, one extent per "
                 "dimension");
  std::string_view name = fields[1];
  int index = findTensor(name);
  if (index < 0)
    return error("tma record of '%.*s', which is not declared by an earlier "
                 "'tensor' record",
                 LINAC_QUOTE(name));
  const TensorDecl &tensor = m.tensors[index];
  if (tensor.output || !(tensor.dtype == LINAC_F32 ||
                         tensor.dtype == LINAC_F16 ||
                         tensor.dtype == LINAC_BF16))
    return error("tma record of '%.*s': TMA loads f32, f16 or bf16 'in' "
                 "tensors",
                 LINAC_SV(name));
  if (numFields - 2 != tensor.rank)
    return error("tma record of '%.*s' has %d box extents; the tensor has "
                 "rank %d",
                 LINAC_SV(name), numFields - 2, tensor.rank);
  for (int t = 0; t < m.numTma; ++t)
    if (m.tma[t].tensor == index)
      return error("second tma record of '%.*s'", LINAC_SV(name));
  // At most one record per tensor, so the table cannot overflow.
  TmaDecl decl;
  decl.tensor = index;
  for (int d = 0; d < tensor.rank; ++d) {
    int64_t extent = 0;
    if (!parseSize(fields[2 + d], extent) || extent < 1 || extent > kMaxTmaBox)
      return error("tma record of '%.*s': box extent '%.*s' is not in [1, "
                   "%u]",
                   LINAC_SV(name), LINAC_QUOTE(fields[2 + d]), kMaxTmaBox);
    // A box may reach past the tensor (a chunk of 64 rows of a 3-token
    // sequence): TMA fills what lies outside.
    decl.box[d] = static_cast<uint32_t>(extent);
  }
  if (decl.box[0] * dtypeSize(tensor.dtype) % 16 != 0)
    return error("tma record of '%.*s': a box row of %u elements is not a "
                 "multiple of 16 bytes",
                 LINAC_SV(name), decl.box[0]);
  if (m.numTma == 0)
    tmaLine = lineNumber;
  m.tma[m.numTma++] = decl;
  return LINAC_OK;
}

int32_t Parser::parseLayout() {
  if (m.hasLayout)
    return error("second 'layout' record");
  if (numFields < 3 || fields[1] != "bhtd")
    return error("'layout' takes 'bhtd' and the head-major tensors' names");
  m.hasLayout = true;
  for (int f = 2; f < numFields; ++f) {
    int index = findTensor(fields[f]);
    if (index < 0)
      return error("layout of '%.*s', which is not declared by an earlier "
                   "'tensor' record",
                   LINAC_QUOTE(fields[f]));
    TensorDecl &tensor = m.tensors[index];
    // Head-major swaps a [B, T, H, ...] tensor's dims 1 and 2.
    if (tensor.rank < 3)
      return error("layout bhtd of '%.*s', a tensor of rank %d (head-major "
                   "tensors have rank 3 or 4)",
                   LINAC_SV(tensor.name), tensor.rank);
    if (tensor.headMajor)
      return error("layout bhtd names '%.*s' twice", LINAC_SV(tensor.name));
    tensor.headMajor = true;
  }
  return LINAC_OK;
}

int32_t Parser::finishLaunch() {
  bool cuda = m.targetKind == "cuda";
  if (!cuda && m.numTma > 0) {
    lineNumber = tmaLine;
    return error("'tma' is for cuda kernels, this one targets '%.*s'",
                 LINAC_QUOTE(m.targetKind));
  }
  lineNumber = launchLine;
  if (cuda && !m.hasLaunch)
    return fail(err, LINAC_ERROR_LOAD,
                "corrupt manifest: a cuda kernel needs a 'launch' record");
  if (!cuda && m.hasLaunch)
    return error("'launch' is for cuda kernels, this one targets '%.*s'",
                 LINAC_QUOTE(m.targetKind));
  if (!m.hasLaunch || launchFlags == "-")
    return LINAC_OK;
  size_t start = 0;
  for (;;) {
    size_t comma = launchFlags.find(',', start);
    size_t end = comma == std::string_view::npos ? launchFlags.size() : comma;
    std::string_view name = launchFlags.substr(start, end - start);
    int index = findTensor(name);
    if (index < 0 || m.tensors[index].required)
      return error("launch flag '%.*s' is not an optional tensor of the "
                   "manifest",
                   LINAC_QUOTE(name));
    for (int f = 0; f < m.numFlags; ++f)
      if (m.flags[f] == index)
        return error("launch flag '%.*s' appears twice", LINAC_QUOTE(name));
    m.flags[m.numFlags++] = index;
    if (comma == std::string_view::npos)
      return LINAC_OK;
    start = comma + 1;
  }
}

int32_t Parser::parseLine(std::string_view line) {
  if (line.empty())
    return lineNumber == 1 ? error("expected 'linac-manifest %d' first, found "
                                   "an empty line",
                                   LINAC_MANIFEST_VERSION)
                           : error("empty line");
  // Only printable ASCII: this also rejects '\r', tabs, NUL and UTF-8, and
  // makes every field safe to quote in a message.
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) > 0x7e)
      return error("unexpected byte 0x%02x", static_cast<unsigned char>(c));

  numFields = 0;
  size_t start = 0;
  for (;;) {
    size_t space = line.find(' ', start);
    size_t end = space == std::string_view::npos ? line.size() : space;
    if (end == start)
      return error("fields are separated by single spaces, with none at the "
                   "start or end of a line");
    if (numFields == kMaxFields)
      return error("more than %d fields", kMaxFields);
    fields[numFields++] = line.substr(start, end - start);
    if (space == std::string_view::npos)
      break;
    start = space + 1;
  }

  std::string_view kind = fields[0];
  if (lineNumber == 1) {
    if (kind != "linac-manifest")
      return error("expected 'linac-manifest %d' first, found '%.*s'",
                   LINAC_MANIFEST_VERSION, LINAC_QUOTE(line));
    if (numFields != 2 || fields[1] != "1")
      return error("unsupported manifest version '%.*s'; this runtime reads "
                   "'linac-manifest %d'",
                   LINAC_QUOTE(line), LINAC_MANIFEST_VERSION);
    return LINAC_OK;
  }
  if (kind == "linac-manifest")
    return error("'linac-manifest' appears again");
  if (kind == "tensor")
    return parseTensor();
  if (kind == "alias")
    return parseAlias();
  if (kind == "launch")
    return parseLaunch();
  if (kind == "schedule")
    return parseSchedule();
  if (kind == "tma")
    return parseTma();
  if (kind == "layout")
    return parseLayout();

  for (int h = 0; h < kNumHeaders; ++h) {
    if (kind != kHeaderNames[h])
      continue;
    if (seen[h])
      return error("second '%s' record", kHeaderNames[h]);
    seen[h] = true;
    if (h == kTarget)
      return parseTarget();
    if (numFields != 2)
      return error("'%s' takes exactly one field, found %d", kHeaderNames[h],
                   numFields - 1);
    std::string_view value = fields[1];
    switch (h) {
    case kCompiler:
      m.compiler = value;
      break;
    case kKernel:
      if (!isIdentifier(value))
        return error("kernel name '%.*s' is not an identifier of at most %zu "
                     "characters",
                     LINAC_QUOTE(value), kMaxNameLength);
      m.kernel = value;
      break;
    case kMode:
      if (value != "prefill" && value != "decode")
        return error("mode '%.*s' is neither 'prefill' nor 'decode'",
                     LINAC_QUOTE(value));
      m.mode = value;
      break;
    case kVariant:
      m.variant = value;
      break;
    }
    return LINAC_OK;
  }
  return error("unknown record '%.*s'", LINAC_QUOTE(kind));
}

int32_t Parser::parseTarget() {
  if (numFields < 3)
    return error("'target' needs a kind and an architecture");
  m.targetKind = fields[1];
  m.targetArch = fields[2];
  bool cpu = m.targetKind == "cpu";
  // A CPU target always lists its features ("-" for none) so that the loader
  // never runs code built for features it was not told about. Other targets
  // are only parsed so that the loader can name them when it refuses them.
  if (cpu ? numFields != 4 : numFields > 4)
    return error("'target cpu' takes a CPU name and a feature list ('-' for "
                 "none), found %d fields",
                 numFields - 1);
  if (numFields < 4)
    return LINAC_OK;
  m.targetFeatures = fields[3];
  if (!cpu || m.targetFeatures == "-")
    return LINAC_OK;
  std::string_view list = m.targetFeatures;
  size_t start = 0;
  for (;;) {
    size_t comma = list.find(',', start);
    size_t end = comma == std::string_view::npos ? list.size() : comma;
    std::string_view feature = list.substr(start, end - start);
    if (!isFeatureName(feature))
      return error("bad CPU feature '%.*s' in '%.*s'", LINAC_QUOTE(feature),
                   LINAC_QUOTE(list));
    if (m.numFeatures == kMaxFeatures)
      return error("more than %d CPU features", kMaxFeatures);
    m.features[m.numFeatures++] = feature;
    if (comma == std::string_view::npos)
      return LINAC_OK;
    start = comma + 1;
  }
}

int32_t Parser::parseTensor() {
  if (numFields < 5)
    return error("'tensor' needs a name, in|out, required|optional and a "
                 "dtype");
  std::string_view name = fields[1];
  if (!isIdentifier(name))
    return error("tensor name '%.*s' is not an identifier of at most %zu "
                 "characters",
                 LINAC_QUOTE(name), kMaxNameLength);
  if (findTensor(name) >= 0)
    return error("second tensor named '%.*s'", LINAC_SV(name));
  if (m.numTensors == kMaxTensors)
    return error("more than %d tensors", kMaxTensors);

  TensorDecl decl;
  decl.name = name;
  if (fields[2] != "in" && fields[2] != "out")
    return error("tensor '%.*s': '%.*s' is neither 'in' nor 'out'",
                 LINAC_SV(name), LINAC_QUOTE(fields[2]));
  decl.output = fields[2] == "out";
  if (fields[3] != "required" && fields[3] != "optional")
    return error("tensor '%.*s': '%.*s' is neither 'required' nor 'optional'",
                 LINAC_SV(name), LINAC_QUOTE(fields[3]));
  decl.required = fields[3] == "required";
  if (!parseDtype(fields[4], decl.dtype))
    return error("tensor '%.*s': unknown dtype '%.*s' (f32, f16, bf16, i32, "
                 "i64)",
                 LINAC_SV(name), LINAC_QUOTE(fields[4]));
  decl.rank = numFields - 5;
  if (decl.rank > LINAC_MAX_RANK)
    return error("tensor '%.*s' has rank %d; the largest rank is %d",
                 LINAC_SV(name), decl.rank, LINAC_MAX_RANK);
  for (int d = 0; d < decl.rank; ++d) {
    std::string_view text = fields[5 + d];
    Symbol symbol = parseSymbol(text);
    if (symbol != Symbol::None) {
      decl.dims[d].symbol = symbol;
      continue;
    }
    if (!parseSize(text, decl.dims[d].size))
      return error("tensor '%.*s' dim %d: '%.*s' is neither a size nor one of "
                   "B T H HV S N1 P",
                   LINAC_SV(name), d, LINAC_QUOTE(text));
  }

  // cu_seqlens is the one tensor the runtime reads, so its declaration must
  // be exactly what validation is written for.
  bool isCuSeqlens = name == "cu_seqlens";
  if (isCuSeqlens &&
      (decl.output || (decl.dtype != LINAC_I32 && decl.dtype != LINAC_I64) ||
       decl.rank != 1 || decl.dims[0].symbol != Symbol::N1))
    return error("cu_seqlens must be declared 'in', i32 or i64, with the one "
                 "dimension N1");
  for (int d = 0; d < decl.rank && !isCuSeqlens; ++d)
    if (decl.dims[d].symbol == Symbol::N1)
      return error("tensor '%.*s' dim %d: N1 is the length of cu_seqlens and "
                   "may appear only there",
                   LINAC_SV(name), d);
  // So must state_indices, which validation reads too: one slot per
  // sequence of a pool whose slots are the P of h0 and ht.
  bool isStateIndices = name == "state_indices";
  if (isStateIndices &&
      (decl.output || (decl.dtype != LINAC_I32 && decl.dtype != LINAC_I64) ||
       decl.rank != 1 ||
       (decl.dims[0].symbol != Symbol::S &&
        decl.dims[0].symbol != Symbol::None)))
    return error("state_indices must be declared 'in', i32 or i64, with the "
                 "one dimension S or a static size");
  if (isCuSeqlens)
    m.cuSeqlens = m.numTensors;
  if (isStateIndices)
    m.stateIndices = m.numTensors;
  m.tensors[m.numTensors++] = decl;
  return LINAC_OK;
}

int32_t Parser::parseAlias() {
  if (numFields != 3)
    return error("'alias' takes an output and an input tensor name");
  int output = findTensor(fields[1]);
  int input = findTensor(fields[2]);
  if (output < 0 || input < 0)
    return error("alias of '%.*s', which is not declared by an earlier "
                 "'tensor' record",
                 LINAC_QUOTE(output < 0 ? fields[1] : fields[2]));
  const TensorDecl &out = m.tensors[output];
  const TensorDecl &in = m.tensors[input];
  if (!out.output || in.output)
    return error("alias '%.*s %.*s' must name an 'out' tensor, then an 'in' "
                 "tensor",
                 LINAC_SV(out.name), LINAC_SV(in.name));
  // The two may only ever be the very same tensor, so their declarations
  // must agree on everything a tensor descriptor carries besides sizes.
  if (out.dtype != in.dtype || out.rank != in.rank)
    return error("alias '%.*s %.*s': the tensors differ in dtype or rank",
                 LINAC_SV(out.name), LINAC_SV(in.name));
  for (int a = 0; a < m.numAliases; ++a)
    if (m.aliases[a].output == output && m.aliases[a].input == input)
      return error("second alias '%.*s %.*s'", LINAC_SV(out.name),
                   LINAC_SV(in.name));
  // Distinct (output, input) pairs of at most kMaxTensors tensors can
  // exceed kMaxAliases, so the table needs its own bound.
  if (m.numAliases == kMaxAliases)
    return error("more than %d aliases", kMaxAliases);
  m.aliases[m.numAliases].output = output;
  m.aliases[m.numAliases].input = input;
  ++m.numAliases;
  return LINAC_OK;
}

} // namespace

int32_t linac::manifest::parse(std::string_view text, Manifest &out,
                               linac_error *err) {
  out = Manifest();
  Parser parser(out, err);
  int32_t status = parser.run(text);
  if (status != LINAC_OK)
    out = Manifest(); // Leave no half-parsed state behind.
  return status;
}
