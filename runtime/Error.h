//===- Error.h - Filling linac_error without allocating ---------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Private helpers of the C API implementation. Messages are formatted
/// straight into fixed-size buffers: the C API reports out-of-memory as an
/// error code, so the error path itself must not need the heap.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_ERROR_H
#define LINAC_RUNTIME_ERROR_H

#include "linac/runtime/linac.h"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string_view>

/// printf arguments for a std::string_view: `"%.*s", LINAC_SV(name)`.
#define LINAC_SV(view) static_cast<int>((view).size()), (view).data()

namespace linac::detail {

/// A message of at most sizeof(linac_error::message) - 1 characters; longer
/// text is truncated, never overflowed.
class Message {
public:
  void append(const char *format, ...) __attribute__((format(printf, 2, 3)));
  void appendV(const char *format, va_list args);
  /// "[2, 64, 8]".
  void appendShape(const int64_t *values, int32_t rank);
  void clear() {
    length = 0;
    buffer[0] = '\0';
  }
  const char *str() const { return buffer; }

private:
  char buffer[sizeof(linac_error::message)] = {};
  size_t length = 0;
};

/// Stores `code` and the formatted message in `err` (when non-null) and
/// returns `code`, so that failure paths read `return fail(err, ...)`.
int32_t fail(linac_error *err, int32_t code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/// Stores `code` and `message` in `err` (when non-null); returns `code`.
int32_t fail(linac_error *err, int32_t code, const Message &message);

/// Puts `prefix` (formatted) in front of the message already in `err`, for
/// callers that add context (a path, a kernel name) to an inner error.
void prependError(linac_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/// Marks `err` (when non-null) as success: code LINAC_OK, empty message.
inline int32_t succeed(linac_error *err) {
  if (err) {
    err->code = LINAC_OK;
    err->message[0] = '\0';
  }
  return LINAC_OK;
}

} // namespace linac::detail

#endif // LINAC_RUNTIME_ERROR_H
