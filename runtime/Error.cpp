//===- Error.cpp - Filling linac_error without allocating -----------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "Error.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

using namespace linac::detail;

void Message::appendV(const char *format, va_list args) {
  size_t room = sizeof(buffer) - length;
  if (room <= 1)
    return;
  int written = std::vsnprintf(buffer + length, room, format, args);
  if (written < 0)
    return;
  // vsnprintf reports the untruncated length; clamp to what fits.
  length += static_cast<size_t>(written) < room ? static_cast<size_t>(written)
                                                : room - 1;
}

void Message::append(const char *format, ...) {
  va_list args;
  va_start(args, format);
  appendV(format, args);
  va_end(args);
}

void Message::appendShape(const int64_t *values, int32_t rank) {
  append("[");
  for (int32_t d = 0; d < rank; ++d)
    append(d ? ", %" PRId64 : "%" PRId64, values[d]);
  append("]");
}

int32_t linac::detail::fail(linac_error *err, int32_t code, const char *format,
                            ...) {
  if (err) {
    err->code = code;
    va_list args;
    va_start(args, format);
    std::vsnprintf(err->message, sizeof(err->message), format, args);
    va_end(args);
  }
  return code;
}

int32_t linac::detail::fail(linac_error *err, int32_t code,
                            const Message &message) {
  if (err) {
    err->code = code;
    std::snprintf(err->message, sizeof(err->message), "%s", message.str());
  }
  return code;
}

void linac::detail::prependError(linac_error *err, const char *format, ...) {
  if (!err)
    return;
  Message message;
  va_list args;
  va_start(args, format);
  message.appendV(format, args);
  va_end(args);
  message.append("%s", err->message);
  std::snprintf(err->message, sizeof(err->message), "%s", message.str());
}
