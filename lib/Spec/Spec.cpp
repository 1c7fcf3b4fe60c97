//===- Spec.cpp - attention specs: parsing and validation -----------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// TOML is parsed with toml++ (exceptions off: parse failures come back as
// values). Every key is then checked here, and every problem is reported with
// the line and column toml++ recorded for the offending key or value. The
// parser keeps going after an error so that one run shows every mistake.
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/Spec.h"

// toml++ 3.3 states some parser preconditions as TOML_ASSERT_ASSUME, which
// release builds turn into __builtin_assume: malformed input (found by
// linac-fuzz-spec: a carriage return right after '[') then violates an
// "assumption" and the behaviour is undefined. The parser handles those
// inputs with a proper error right after each assertion, so the assumptions
// are disabled here and input errors stay errors in every build mode.
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT_ASSUME(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace linac;
using namespace linac::spec;

std::string Diagnostic::str() const {
  std::ostringstream os;
  os << (loc.file.empty() ? "<spec>" : loc.file);
  if (loc.line)
    os << ":" << loc.line << ":" << loc.column;
  os << ": error: " << message;
  return os.str();
}

namespace {

const std::vector<std::string_view> kTopLevelKeys = {"attention", "modes",
                                                     "target"};
const std::vector<std::string_view> kAttentionKeys = {
    "variant",       "head_dim_k",  "head_dim_v",      "num_heads",
    "num_value_heads", "dtype",     "output_dtype",    "state_dtype",
    "scale",         "feature_map", "normalize",       "eps",
    "decay",         "chunk_size",  "layout",          "varlen",
    "initial_state", "final_state", "state_indices"};
const std::vector<std::string_view> kModeKeys = {"prefill", "decode"};
const std::vector<std::string_view> kTargetKeys = {"default", "cpu"};
const std::vector<std::string_view> kTargets = {"cpu", "cuda:sm_90a",
                                                "cuda:sm_80"};
const std::vector<std::string_view> kCpus = {"native", "x86-64-v3",
                                              "x86-64-v4"};
const std::vector<std::string_view> kDtypes = {"f32", "f16", "bf16"};

/// Largest head dimension a spec may name: a K x V f32 state of 1024 x 1024
/// is already 4 MiB per head.
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxHeads = 4096;

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// "; did you mean 'x'?" when a valid name is close enough to be a typo.
std::string suggestion(std::string_view word,
                       const std::vector<std::string_view> &valid) {
  std::string_view best;
  size_t bestDistance = SIZE_MAX;
  for (std::string_view candidate : valid) {
    size_t distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best.empty() || bestDistance > std::max<size_t>(2, word.size() / 3))
    return "";
  return "; did you mean '" + std::string(best) + "'?";
}

std::string joinQuoted(const std::vector<std::string_view> &words) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i)
    text += (i ? ", '" : "'") + std::string(words[i]) + "'";
  return text;
}

const char *typeName(const toml::node &node) {
  switch (node.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  default:
    return "nothing";
  }
}

std::optional<DType> parseDtype(std::string_view name) {
  if (name == "f32")
    return DType::F32;
  if (name == "f16")
    return DType::F16;
  if (name == "bf16")
    return DType::BF16;
  return std::nullopt;
}

std::vector<std::string_view> variantNames() {
  std::vector<std::string_view> names;
  for (oracle::Variant variant : oracle::kAllVariants)
    names.push_back(oracle::variantName(variant));
  return names;
}

std::vector<std::string_view> featureMapNames() {
  std::vector<std::string_view> names;
  for (oracle::FeatureMap map : oracle::kAllFeatureMaps)
    names.push_back(oracle::featureMapName(map));
  return names;
}

class SpecParser {
public:
  SpecParser(std::string_view fileName, std::vector<Diagnostic> &diagnostics)
      : fileName(fileName), diagnostics(diagnostics) {}

  std::optional<AttentionSpec> parse(std::string_view text);

private:
  SourceLoc locOf(const toml::source_region &region) const {
    return {fileName, static_cast<unsigned>(region.begin.line),
            static_cast<unsigned>(region.begin.column)};
  }
  void error(const SourceLoc &loc, std::string message) {
    diagnostics.push_back({loc, std::move(message)});
    failed = true;
  }
  void error(const toml::node &node, std::string message) {
    error(locOf(node.source()), std::move(message));
  }

  /// Typed readers: report "'key' must be ..." at the value and return
  /// std::nullopt on a type or range error.
  std::optional<std::string> readString(std::string_view key,
                                        const toml::node &node);
  std::optional<std::string>
  readChoice(std::string_view key, const toml::node &node,
             const std::vector<std::string_view> &choices);
  std::optional<int64_t> readInt(std::string_view key, const toml::node &node,
                                 int64_t min, int64_t max);
  std::optional<double> readNumber(std::string_view key,
                                   const toml::node &node);
  std::optional<bool> readBool(std::string_view key, const toml::node &node);

  /// Reports keys of `table` that are not in `valid`, with the nearest name.
  void checkKeys(const toml::table &table, std::string_view tableName,
                 const std::vector<std::string_view> &valid);

  void parseAttention(const toml::table &table, AttentionSpec &spec);
  void parseModes(const toml::table &table, AttentionSpec &spec);
  void parseTarget(const toml::table &table, AttentionSpec &spec);

  std::string fileName;
  std::vector<Diagnostic> &diagnostics;
  bool failed = false;
};

std::optional<std::string> SpecParser::readString(std::string_view key,
                                                  const toml::node &node) {
  if (const toml::value<std::string> *value = node.as_string())
    return value->get();
  error(node, "'" + std::string(key) + "' must be a string; got " +
                  typeName(node));
  return std::nullopt;
}

std::optional<std::string>
SpecParser::readChoice(std::string_view key, const toml::node &node,
                       const std::vector<std::string_view> &choices) {
  std::optional<std::string> value = readString(key, node);
  if (!value)
    return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *value) != choices.end())
    return value;
  error(node, "unknown " + std::string(key) + " '" + *value + "'" +
                  suggestion(*value, choices) + " (expected one of " +
                  joinQuoted(choices) + ")");
  return std::nullopt;
}

std::optional<int64_t> SpecParser::readInt(std::string_view key,
                                           const toml::node &node, int64_t min,
                                           int64_t max) {
  const toml::value<int64_t> *value = node.as_integer();
  if (!value) {
    error(node, "'" + std::string(key) + "' must be an integer; got " +
                    typeName(node));
    return std::nullopt;
  }
  int64_t number = value->get();
  if (number < min || number > max) {
    error(node, "'" + std::string(key) + "' must be in [" +
                    std::to_string(min) + ", " + std::to_string(max) +
                    "]; got " + std::to_string(number));
    return std::nullopt;
  }
  return number;
}

std::optional<double> SpecParser::readNumber(std::string_view key,
                                             const toml::node &node) {
  double number;
  if (const toml::value<double> *value = node.as_floating_point())
    number = value->get();
  else if (const toml::value<int64_t> *value = node.as_integer())
    number = static_cast<double>(value->get());
  else {
    error(node, "'" + std::string(key) + "' must be a number; got " +
                    typeName(node));
    return std::nullopt;
  }
  if (!std::isfinite(number)) {
    error(node, "'" + std::string(key) + "' must be finite");
    return std::nullopt;
  }
  return number;
}

std::optional<bool> SpecParser::readBool(std::string_view key,
                                         const toml::node &node) {
  if (const toml::value<bool> *value = node.as_boolean())
    return value->get();
  error(node, "'" + std::string(key) + "' must be a boolean (true or false); "
              "got " + typeName(node));
  return std::nullopt;
}

void SpecParser::checkKeys(const toml::table &table, std::string_view tableName,
                           const std::vector<std::string_view> &valid) {
  for (auto &&[key, node] : table) {
    std::string_view name = key.str();
    if (std::find(valid.begin(), valid.end(), name) != valid.end())
      continue;
    std::string where =
        tableName.empty() ? "at the top level" : "in [" + std::string(tableName) + "]";
    // A key of another table (cpu in [attention], variant at the top
    // level) is misplaced, not misspelt: say where it goes rather than
    // suggest the nearest name here.
    std::string home;
    for (auto [table, keys] :
         {std::pair{"attention", &kAttentionKeys}, {"modes", &kModeKeys},
          {"target", &kTargetKeys}})
      if (table != tableName &&
          std::find(keys->begin(), keys->end(), name) != keys->end())
        home = table;
    std::string hint = home.empty()
                           ? suggestion(name, valid)
                           : "; '" + std::string(name) + "' belongs in [" +
                                 home + "]";
    error(locOf(key.source()), "unknown key '" + std::string(name) + "' " +
                                   where + hint + " (valid keys: " +
                                   joinQuoted(valid) + ")");
  }
}

void SpecParser::parseAttention(const toml::table &table, AttentionSpec &spec) {
  checkKeys(table, "attention", kAttentionKeys);
  SourceLoc tableLoc = locOf(table.source());
  spec.loc = tableLoc;
  auto missing = [&](std::string_view key) {
    error(tableLoc, "missing required key '" + std::string(key) +
                        "' in [attention]");
  };

  // The variant decides which other keys apply, so it comes first.
  bool haveVariant = false;
  if (const toml::node *node = table.get("variant")) {
    if (auto name = readChoice("variant", *node, variantNames())) {
      spec.variant = *oracle::parseVariant(*name);
      haveVariant = true;
    }
  } else {
    missing("variant");
  }
  const oracle::VariantTraits traits = oracle::variantTraits(spec.variant);
  const std::string variantText =
      "variant '" + std::string(oracle::variantName(spec.variant)) + "'";

  for (auto [key, field, where] :
       {std::tuple{"head_dim_k", &spec.headDimK, &spec.headDimKLoc},
        std::tuple{"head_dim_v", &spec.headDimV, &spec.headDimVLoc}}) {
    const toml::node *node = table.get(key);
    *where = node ? locOf(node->source()) : tableLoc;
    if (!node)
      missing(key);
    else if (auto value = readInt(key, *node, 1, kMaxHeadDim))
      *field = *value;
  }

  if (const toml::node *node = table.get("num_heads"))
    spec.numHeads = readInt("num_heads", *node, 1, kMaxHeads);
  if (const toml::node *node = table.get("num_value_heads")) {
    spec.numValueHeads = readInt("num_value_heads", *node, 1, kMaxHeads);
    if (spec.numValueHeads && !spec.numHeads && !table.get("num_heads"))
      error(*node, "'num_value_heads' needs 'num_heads' (value heads are a "
                   "multiple of query/key heads)");
    else if (spec.numValueHeads && spec.numHeads &&
             *spec.numValueHeads % *spec.numHeads != 0)
      error(*node, "'num_value_heads' (" + std::to_string(*spec.numValueHeads) +
                       ") must be a multiple of 'num_heads' (" +
                       std::to_string(*spec.numHeads) + ")");
  }

  if (const toml::node *node = table.get("dtype")) {
    if (auto name = readChoice("dtype", *node, kDtypes))
      spec.dtype = *parseDtype(*name);
  }
  spec.outputDtype = spec.dtype;
  if (const toml::node *node = table.get("output_dtype")) {
    if (auto name = readChoice("output_dtype", *node, kDtypes))
      spec.outputDtype = *parseDtype(*name);
  }
  if (const toml::node *node = table.get("state_dtype")) {
    if (auto name = readString("state_dtype", *node); name && *name != "f32")
      error(*node, "state_dtype '" + *name + "' is not supported: states and "
                   "accumulators are f32 (SEMANTICS.md, numerics policy)");
  }

  if (const toml::node *node = table.get("scale")) {
    spec.scale = readNumber("scale", *node);
    if (spec.scale && *spec.scale == 0.0) {
      error(*node, "'scale' must be non-zero");
      spec.scale.reset();
    }
  }

  if (const toml::node *node = table.get("feature_map")) {
    if (auto name = readChoice("feature_map", *node, featureMapNames()))
      spec.featureMap = *oracle::parseFeatureMap(*name);
  }

  if (const toml::node *node = table.get("normalize")) {
    if (auto name = readChoice("normalize", *node, {"none", "sum"})) {
      spec.normalize = *name == "sum";
      if (spec.normalize && haveVariant && !traits.supportsNormalize)
        error(*node, "normalize = \"sum\" is not defined for " + variantText +
                         ": its delta write depends on the value, so a "
                         "column of ones is not a normalizer");
    }
  }
  if (const toml::node *node = table.get("eps")) {
    spec.eps = readNumber("eps", *node);
    if (spec.eps && *spec.eps <= 0.0) {
      error(*node, "'eps' must be positive");
    } else if (spec.eps && !spec.normalize) {
      error(*node, "'eps' is only used with normalize = \"sum\"");
    }
  }

  // Per-head decays: lightning takes them from the spec; retention derives
  // them from the head index. Both need the head count at compile time.
  const toml::node *decayNode = table.get("decay");
  std::optional<int64_t> valueHeads = spec.valueHeads();
  if (haveVariant && traits.decayConstants) {
    if (!decayNode) {
      missing("decay");
    } else if (const toml::array *array = decayNode->as_array()) {
      bool ok = true;
      for (const toml::node &element : *array) {
        std::optional<double> value = readNumber("decay", element);
        if (value && !(*value > 0.0 && *value <= 1.0)) {
          error(element, "'decay' values must lie in (0, 1]; got " +
                             std::to_string(*value));
          value.reset();
        }
        ok = ok && value.has_value();
        if (value)
          spec.decay.push_back(*value);
      }
      if (ok && !valueHeads)
        error(*decayNode, "'decay' gives one constant per value head, so "
                          "'num_heads' must be set");
      else if (ok && static_cast<int64_t>(spec.decay.size()) != *valueHeads)
        error(*decayNode, "'decay' has " + std::to_string(spec.decay.size()) +
                              " values but there are " +
                              std::to_string(*valueHeads) + " value heads");
    } else {
      error(*decayNode, std::string("'decay' must be an array of numbers, one "
                                    "per value head; got ") +
                            typeName(*decayNode));
    }
  } else if (decayNode && haveVariant) {
    error(*decayNode, "'decay' is not an option of " + variantText +
                          " (only 'lightning' takes constant decays)");
  }
  if (haveVariant && spec.variant == oracle::Variant::Retention && !valueHeads)
    error(tableLoc, "variant 'retention' needs 'num_heads': its decays "
                    "1 - 2^(-5-h) depend on the head index");

  if (const toml::node *node = table.get("chunk_size")) {
    if (auto value = readInt("chunk_size", *node, 16, 256)) {
      if ((*value & (*value - 1)) != 0)
        error(*node, "'chunk_size' must be a power of two; got " +
                         std::to_string(*value));
      else
        spec.chunkSize = *value;
    }
  }

  if (const toml::node *node = table.get("layout")) {
    if (auto name = readChoice("layout", *node, {"bthd", "bhtd"}))
      spec.layout = *name == "bthd" ? Layout::BTHD : Layout::BHTD;
  }
  for (auto [key, field] : {std::pair{"varlen", &spec.varlen},
                            std::pair{"initial_state", &spec.initialState},
                            std::pair{"final_state", &spec.finalState},
                            std::pair{"state_indices", &spec.stateIndices}}) {
    if (const toml::node *node = table.get(key))
      if (auto value = readBool(key, *node))
        *field = *value;
  }
  // A pool is read and written in every call: h0 and ht are the pool.
  if (spec.stateIndices)
    for (auto [key, field] : {std::pair{"initial_state", spec.initialState},
                              std::pair{"final_state", spec.finalState}})
      if (!field)
        error(*table.get(key),
              std::string("'") + key +
                  " = false' conflicts with 'state_indices = true': the "
                  "state pool is both the initial and the final state");
}

void SpecParser::parseModes(const toml::table &table, AttentionSpec &spec) {
  checkKeys(table, "modes", kModeKeys);
  for (auto [key, field] : {std::pair{"prefill", &spec.prefill},
                            std::pair{"decode", &spec.decode}}) {
    if (const toml::node *node = table.get(key))
      if (auto value = readBool(key, *node))
        *field = *value;
  }
  if (!spec.prefill && !spec.decode)
    error(locOf(table.source()),
          "[modes] disables both 'prefill' and 'decode'; nothing to compile");
}

void SpecParser::parseTarget(const toml::table &table, AttentionSpec &spec) {
  checkKeys(table, "target", kTargetKeys);
  if (const toml::node *node = table.get("default"))
    if (auto name = readChoice("target", *node, kTargets))
      spec.target = *name;
  if (const toml::node *node = table.get("cpu"))
    if (auto name = readChoice("cpu", *node, kCpus))
      spec.cpu = *name;
}

std::optional<AttentionSpec> SpecParser::parse(std::string_view text) {
  // Specs are ASCII. Besides being all a spec needs, this keeps toml++ 3.3
  // away from its Unicode classification tables, some of which reach
  // __builtin_unreachable() for ordinary code points such as U+00E9 (found by
  // linac-fuzz-spec). Control characters other than tab and newline are not
  // TOML either.
  unsigned line = 1, column = 1;
  // A UTF-8 byte order mark, as some editors write, is fine; toml++ skips it.
  const size_t start = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  for (size_t i = start; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
    if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && !crlf) ||
        c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", c);
      error(SourceLoc{fileName, line, column},
            std::string("unexpected byte ") + hex +
                ": specs are ASCII text (comments included), with no control "
                "characters but tab and newline");
      return std::nullopt;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }

  toml::parse_result result = toml::parse(text, fileName);
  if (!result) {
    const toml::parse_error &parseError = result.error();
    error(locOf(parseError.source()),
          "invalid TOML: " + std::string(parseError.description()));
    return std::nullopt;
  }
  const toml::table &root = result.table();
  checkKeys(root, "", kTopLevelKeys);

  AttentionSpec spec;
  auto subTable = [&](std::string_view name) -> const toml::table * {
    const toml::node *node = root.get(name);
    if (!node)
      return nullptr;
    if (const toml::table *table = node->as_table())
      return table;
    error(*node, "'" + std::string(name) + "' must be a table ([" +
                     std::string(name) + "]); got " + typeName(*node));
    return nullptr;
  };

  if (const toml::table *attention = subTable("attention"))
    parseAttention(*attention, spec);
  else if (!root.get("attention"))
    error(SourceLoc{fileName, 1, 1}, "missing [attention] table");
  if (const toml::table *modes = subTable("modes"))
    parseModes(*modes, spec);
  if (const toml::table *target = subTable("target"))
    parseTarget(*target, spec);

  if (failed)
    return std::nullopt;
  return spec;
}

} // namespace

std::optional<AttentionSpec>
linac::spec::parseSpec(std::string_view text, std::string_view fileName,
                       std::vector<Diagnostic> &diagnostics) {
  return SpecParser(fileName, diagnostics).parse(text);
}

std::optional<AttentionSpec>
linac::spec::parseSpecFile(const std::string &path,
                           std::vector<Diagnostic> &diagnostics) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    diagnostics.push_back({{path, 0, 0}, "cannot open spec file"});
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return parseSpec(contents.str(), path, diagnostics);
}

const std::vector<std::string_view> &linac::spec::attentionKeys() {
  return kAttentionKeys;
}

std::string linac::spec::symbolPrefix(std::string_view specPath) {
  size_t slash = specPath.find_last_of('/');
  std::string_view file =
      slash == std::string_view::npos ? specPath : specPath.substr(slash + 1);
  size_t dot = file.find_last_of('.');
  std::string name(dot == std::string_view::npos || dot == 0
                       ? file
                       : file.substr(0, dot));
  for (char &c : name)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_')
      c = '_';
  return name;
}

int64_t linac::spec::flopsPerToken(CostAlgorithm algorithm,
                                   CostRankOne rankOne, int64_t chunk,
                                   int64_t stateRows, int64_t valueDim) {
  const int64_t c = chunk, k = stateRows, v = valueDim;
  switch (algorithm) {
  case CostAlgorithm::Recurrent:
    return 4 * k * v + (rankOne != CostRankOne::None ? 2 * k * v : 0);
  case CostAlgorithm::Chunked:
  case CostAlgorithm::ChunkedWY:
    break;
  }
  int64_t flops = 2 * c * (k + v) + 4 * k * v;
  if (rankOne == CostRankOne::Delta)
    flops += 2 * c * k + c * v + 2 * k * v;
  if (rankOne == CostRankOne::Dplr)
    flops += 6 * c * k + 5 * c * v + 4 * k * v;
  return flops;
}

int64_t linac::spec::defaultChunkSize(int64_t stateRows) {
  return stateRows > 256 ? 32 : 64;
}

