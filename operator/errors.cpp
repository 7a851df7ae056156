// ApiError's one-line message ("VERB PATH: CODE Reason: message") and describe() over nested causes.
#include "operator/errors.h"

namespace kubert {

namespace {

std::string api_error_what(int code, const std::string& reason, const std::string& message,
                           const std::string& verb, const std::string& path) {
  std::string out = verb + " " + path + ": " + std::to_string(code);
  if (!reason.empty()) out += " " + reason;
  if (!message.empty()) out += ": " + message;
  return out;
}

void append_nested(const std::exception& e, std::string& out) {
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception& inner) {
    out += ": ";
    out += inner.what();
    append_nested(inner, out);
  } catch (...) {
    out += ": unknown error";
  }
}

}  // namespace

ApiError::ApiError(int code, std::string reason, std::string message, std::string verb, std::string path,
                   int retry_after_seconds)
    : std::runtime_error(api_error_what(code, reason, message, verb, path)),
      code_(code),
      reason_(std::move(reason)),
      message_(std::move(message)),
      verb_(std::move(verb)),
      path_(std::move(path)),
      retry_after_(retry_after_seconds) {}

std::string describe(const std::exception& e) {
  std::string out = e.what();
  append_nested(e, out);
  return out;
}

}  // namespace kubert
