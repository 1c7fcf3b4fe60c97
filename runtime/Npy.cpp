//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// The header of a .npy file is the repr of a Python dict, e.g.
///
///   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
///
/// The parser here accepts exactly the subset NumPy writes (plus either quote
/// style and free whitespace), never evaluates anything, and reads nothing
/// beyond the buffer it is given: every access goes through `Cursor`, which
/// checks its bound.
///
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace linac;

// The codec copies element bytes verbatim, which is right only on a
// little-endian host; every platform linac targets is one.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy codec assumes a little-endian host");

static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/// Sets `error` and returns false, so that error paths stay one statement.
static bool fail(std::string &error, std::string message) {
  error = std::move(message);
  return false;
}

int64_t NpyArray::numElements() const {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

const char *linac::npyDescr(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::BF16:
    return "<u2";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return "";
}

NpyArray linac::makeNpyArray(DType dtype, std::vector<int64_t> shape) {
  NpyArray array;
  array.dtype = dtype;
  array.shape = std::move(shape);
  array.bytes.assign(
      static_cast<size_t>(array.numElements()) * dtypeSize(dtype), 0);
  return array;
}

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

namespace {

/// A bounded reader over the header text.
class HeaderParser {
public:
  HeaderParser(const char *begin, const char *end, std::string &error)
      : pos(begin), end(end), error(error) {}

  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape);

private:
  bool fail(const std::string &message) {
    error = "invalid .npy header: " + message;
    return false;
  }
  bool atEnd() const { return pos >= end; }
  char peek() const { return atEnd() ? '\0' : *pos; }
  void skipSpace() {
    while (!atEnd() &&
           (*pos == ' ' || *pos == '\t' || *pos == '\n' || *pos == '\r'))
      ++pos;
  }
  bool expect(char c) {
    skipSpace();
    if (peek() != c)
      return fail(std::string("expected '") + c + "'");
    ++pos;
    return true;
  }
  bool consumeWord(const char *word) {
    size_t length = std::strlen(word);
    if (static_cast<size_t>(end - pos) < length ||
        std::memcmp(pos, word, length) != 0)
      return false;
    pos += length;
    return true;
  }

  bool parseString(std::string &out);
  bool parseBool(bool &out);
  bool parseShape(std::vector<int64_t> &out);

  const char *pos;
  const char *end;
  std::string &error;
};

bool HeaderParser::parseString(std::string &out) {
  skipSpace();
  char quote = peek();
  if (quote != '\'' && quote != '"')
    return fail("expected a quoted string");
  ++pos;
  out.clear();
  while (!atEnd() && *pos != quote) {
    // NumPy never escapes anything in its headers; refusing backslashes keeps
    // the grammar trivial.
    if (*pos == '\\' || *pos == '\n')
      return fail("unsupported character in string");
    out += *pos++;
  }
  if (atEnd())
    return fail("unterminated string");
  ++pos;
  return true;
}

bool HeaderParser::parseBool(bool &out) {
  skipSpace();
  if (consumeWord("True")) {
    out = true;
    return true;
  }
  if (consumeWord("False")) {
    out = false;
    return true;
  }
  return fail("expected True or False");
}

bool HeaderParser::parseShape(std::vector<int64_t> &out) {
  out.clear();
  if (!expect('('))
    return false;
  bool trailingComma = false;
  for (;;) {
    skipSpace();
    if (peek() == ')') {
      ++pos;
      break;
    }
    if (!out.empty() && !trailingComma)
      return fail("expected ',' or ')' in shape");
    if (peek() < '0' || peek() > '9')
      return fail("expected a non-negative integer in shape");
    int64_t value = 0;
    while (!atEnd() && *pos >= '0' && *pos <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, *pos - '0', &value))
        return fail("shape extent does not fit in 64 bits");
      ++pos;
    }
    if (peek() == 'L') // Python 2 long literals, as old NumPy wrote them.
      ++pos;
    if (static_cast<int>(out.size()) == kNpyMaxRank)
      return fail("more than " + std::to_string(kNpyMaxRank) + " dimensions");
    out.push_back(value);
    skipSpace();
    trailingComma = peek() == ',';
    if (trailingComma)
      ++pos;
  }
  // In Python "(3)" is the integer 3, not a tuple; NumPy writes "(3,)".
  if (out.size() == 1 && !trailingComma)
    return fail("a one-dimensional shape needs a trailing comma, as in (3,)");
  return true;
}

bool HeaderParser::parse(std::string &descr, bool &fortranOrder,
                         std::vector<int64_t> &shape) {
  bool haveDescr = false, haveFortran = false, haveShape = false;
  if (!expect('{'))
    return false;
  for (;;) {
    skipSpace();
    if (peek() == '}') {
      ++pos;
      break;
    }
    std::string key;
    if (!parseString(key) || !expect(':'))
      return false;
    if (key == "descr") {
      if (haveDescr)
        return fail("duplicate key 'descr'");
      haveDescr = true;
      if (!parseString(descr))
        return false;
    } else if (key == "fortran_order") {
      if (haveFortran)
        return fail("duplicate key 'fortran_order'");
      haveFortran = true;
      if (!parseBool(fortranOrder))
        return false;
    } else if (key == "shape") {
      if (haveShape)
        return fail("duplicate key 'shape'");
      haveShape = true;
      if (!parseShape(shape))
        return false;
    } else {
      return fail("unexpected key '" + key + "'");
    }
    skipSpace();
    if (peek() == ',') {
      ++pos;
      continue;
    }
    if (peek() != '}')
      return fail("expected ',' or '}'");
  }
  skipSpace();
  if (!atEnd())
    return fail("unexpected text after the dict");
  if (!haveDescr || !haveFortran || !haveShape)
    return fail(std::string("missing key '") +
                (!haveDescr     ? "descr"
                 : !haveFortran ? "fortran_order"
                                : "shape") +
                "'");
  return true;
}

bool dtypeFromDescr(const std::string &descr, DType &dtype,
                    std::string &error) {
  for (DType candidate : {DType::F32, DType::F16, DType::BF16, DType::F64,
                          DType::I32, DType::I64}) {
    if (descr == npyDescr(candidate)) {
      dtype = candidate;
      return true;
    }
  }
  if (!descr.empty() && descr[0] == '>')
    error = "unsupported .npy dtype '" + descr +
            "': big-endian data is not supported";
  else
    error = "unsupported .npy dtype '" + descr +
            "'; expected one of '<f4', '<f2', '<u2' (bf16), '<f8', '<i4', "
            "'<i8'";
  return false;
}

uint32_t readLittleEndian(const uint8_t *bytes, int count) {
  uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

} // namespace

bool linac::parseNpy(const uint8_t *data, size_t size, NpyArray &array,
                     std::string &error) {
  if (size < 10)
    return fail(error, "truncated .npy file: " + std::to_string(size) +
                           " bytes is shorter than the 10-byte preamble");
  if (std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
    return fail(error, "not a .npy file: bad magic string");
  int major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0)
    return fail(error, "unsupported .npy format version " +
                           std::to_string(major) + "." + std::to_string(minor) +
                           " (expected 1.0, 2.0, 3.0)");
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t headerStart = 8 + lengthBytes;
  if (size < headerStart)
    return fail(error, "truncated .npy file: incomplete header length");
  size_t headerLength =
      readLittleEndian(data + 8, static_cast<int>(lengthBytes));
  if (headerLength > kNpyMaxHeaderSize)
    return fail(error, ".npy header of " + std::to_string(headerLength) +
                           " bytes exceeds the limit of " +
                           std::to_string(kNpyMaxHeaderSize));
  if (size - headerStart < headerLength)
    return fail(error, "truncated .npy file: header needs " +
                           std::to_string(headerLength) + " bytes, " +
                           std::to_string(size - headerStart) + " remain");

  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  const char *header = reinterpret_cast<const char *>(data + headerStart);
  if (!HeaderParser(header, header + headerLength, error)
           .parse(descr, fortranOrder, shape))
    return false;
  DType dtype;
  if (!dtypeFromDescr(descr, dtype, error))
    return false;
  if (fortranOrder)
    return fail(error,
                "fortran_order True is not supported: linac reads C-order "
                "(row-major) arrays only");

  // Element and byte counts, overflow-checked, must match the payload exactly
  // before anything is allocated.
  int64_t count = 1, byteCount;
  for (int64_t extent : shape)
    if (__builtin_mul_overflow(count, extent, &count))
      return fail(error, "shape " +
                             formatShape(shape.data(), int(shape.size())) +
                             " has more elements than fit in 64 bits");
  if (__builtin_mul_overflow(count, static_cast<int64_t>(dtypeSize(dtype)),
                             &byteCount))
    return fail(error, "shape " + formatShape(shape.data(), int(shape.size())) +
                           " has more bytes than fit in 64 bits");
  size_t dataStart = headerStart + headerLength;
  size_t payload = size - dataStart;
  if (static_cast<uint64_t>(byteCount) != payload)
    return fail(error, "data size mismatch: the header describes " +
                           std::to_string(byteCount) + " bytes (shape " +
                           formatShape(shape.data(), int(shape.size())) + ", " +
                           descr + "), the file holds " +
                           std::to_string(payload));

  array.dtype = dtype;
  array.shape = std::move(shape);
  array.bytes.assign(data + dataStart, data + size);
  return true;
}

bool linac::readNpyFile(const std::string &path, NpyArray &array,
                        std::string &error) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return fail(error, path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> contents;
  uint8_t buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    contents.insert(contents.end(), buffer, buffer + got);
  bool readError = std::ferror(file) != 0;
  std::fclose(file);
  if (readError)
    return fail(error, path + ": read error");
  if (!parseNpy(contents.data(), contents.size(), array, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

bool linac::serializeNpy(const NpyArray &array, std::vector<uint8_t> &out,
                         std::string &error) {
  int64_t count = 1, byteCount;
  for (int64_t extent : array.shape)
    if (extent < 0 || __builtin_mul_overflow(count, extent, &count))
      return fail(error,
                  "cannot write .npy: invalid shape " +
                      formatShape(array.shape.data(), int(array.shape.size())));
  if (__builtin_mul_overflow(count, int64_t(dtypeSize(array.dtype)),
                             &byteCount) ||
      static_cast<uint64_t>(byteCount) != array.bytes.size())
    return fail(error,
                "cannot write .npy: " + std::to_string(array.bytes.size()) +
                    " bytes do not match shape " +
                    formatShape(array.shape.data(), int(array.shape.size())) +
                    " of " + dtypeName(array.dtype));

  std::string header = std::string("{'descr': '") + npyDescr(array.dtype) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t d = 0; d < array.shape.size(); ++d) {
    if (d)
      header += ", ";
    header += std::to_string(array.shape[d]);
  }
  if (array.shape.size() == 1)
    header += ",";
  header += "), }";

  // Pad with spaces and a final newline so the data is 64-byte aligned.
  size_t preamble = 10;
  if (header.size() + 1 + preamble > 65535 + 10)
    preamble = 12;
  size_t total = preamble + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  out.clear();
  out.reserve(preamble + header.size() + array.bytes.size());
  out.insert(out.end(), kMagic, kMagic + sizeof(kMagic));
  out.push_back(preamble == 10 ? 1 : 2);
  out.push_back(0);
  uint32_t length = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < preamble - 8; ++i)
    out.push_back(static_cast<uint8_t>(length >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.bytes.begin(), array.bytes.end());
  return true;
}

bool linac::writeNpyFile(const std::string &path, const NpyArray &array,
                         std::string &error) {
  std::vector<uint8_t> image;
  if (!serializeNpy(array, image, error))
    return false;
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return fail(error,
                path + ": cannot open for writing: " + std::strerror(errno));
  bool ok = std::fwrite(image.data(), 1, image.size(), file) == image.size();
  ok = (std::fclose(file) == 0) && ok;
  if (!ok)
    return fail(error, path + ": write failed");
  return true;
}

bool linac::getTensorView(const NpyArray &array, TensorView &view,
                          std::string &error) {
  if (array.shape.size() > static_cast<size_t>(kMaxRank))
    return fail(error, "array of rank " + std::to_string(array.shape.size()) +
                           " exceeds the tensor view limit of " +
                           std::to_string(kMaxRank));
  int64_t count = 1, byteCount;
  for (int64_t extent : array.shape)
    if (extent < 0 || __builtin_mul_overflow(count, extent, &count))
      return fail(error, "invalid shape");
  if (__builtin_mul_overflow(count, int64_t(dtypeSize(array.dtype)),
                             &byteCount) ||
      static_cast<uint64_t>(byteCount) != array.bytes.size())
    return fail(error, "array holds " + std::to_string(array.bytes.size()) +
                           " bytes, its shape needs " +
                           std::to_string(byteCount));
  view = makeContiguousView(array.bytes.data(), array.dtype, array.shape.data(),
                            int(array.shape.size()));
  return true;
}
