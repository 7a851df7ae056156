// Turning an HTTP error answer into ApiError: the API's Status when there is one, else the HTTP code's reason.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "operator/errors.h"

namespace kubert {

// The reason the API server would give for a bare HTTP code ("NotFound" for 404, "" if none is known).
std::string reason_for_code(int code);

// body: the response body (a Status JSON, or anything else); retry_after: seconds from Retry-After (0 none).
ApiError api_error_from_response(int code, const std::string& body, const std::string& verb, const std::string& path,
                                 int retry_after_seconds = 0);

// An ERROR watch event's object (a Status) as ApiError.
ApiError api_error_from_status(const nlohmann::json& status, const std::string& verb, const std::string& path);

}  // namespace kubert
