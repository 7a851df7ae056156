// Maps API Status bodies and bare HTTP codes to typed ApiError values.
#include "operator/rest_status.h"

#include <nlohmann/json.hpp>

namespace kubert {

std::string reason_for_code(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return code >= 500 ? "InternalError" : "";
  }
}

ApiError api_error_from_status(const nlohmann::json& status, const std::string& verb, const std::string& path) {
  const int code = status.value("code", 0);
  std::string reason = status.value("reason", "");
  if (reason.empty()) reason = reason_for_code(code);
  int retry_after = 0;
  if (const auto d = status.find("details"); d != status.end() && d->is_object())
    retry_after = d->value("retryAfterSeconds", 0);
  return ApiError(code, reason, status.value("message", ""), verb, path, retry_after);
}

ApiError api_error_from_response(int code, const std::string& body, const std::string& verb, const std::string& path,
                                 int retry_after_seconds) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    ApiError e = api_error_from_status(j, verb, path);
    // The HTTP code is authoritative; a Status without one (or a proxy's) keeps the transport's.
    const int status_code = e.code() ? e.code() : code;
    return ApiError(status_code, e.reason().empty() ? reason_for_code(status_code) : e.reason(), e.status_message(),
                    verb, path, retry_after_seconds ? retry_after_seconds : e.retry_after_seconds());
  }
  // Not a Status (a proxy or load balancer answered): keep a short, single-line excerpt.
  std::string excerpt = body.substr(0, 200);
  for (char& c : excerpt)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!excerpt.empty() && excerpt.back() == ' ') excerpt.pop_back();
  return ApiError(code, reason_for_code(code), excerpt, verb, path, retry_after_seconds);
}

}  // namespace kubert
