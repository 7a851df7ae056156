// ApiError's message shape and predicates, and describe() over nested exceptions.
#include <catch2/catch.hpp>

#include "operator/errors.h"

using kubert::ApiError;

TEST_CASE("ApiError reads as verb, path, code, reason and message") {
  const ApiError e(409, "Conflict", "the object has been modified", "PATCH",
                   "/apis/apps/v1/namespaces/x/deployments/y");
  CHECK(std::string(e.what()) ==
        "PATCH /apis/apps/v1/namespaces/x/deployments/y: 409 Conflict: the object has been modified");
  CHECK(e.is_conflict());
  CHECK_FALSE(e.is_already_exists());
  CHECK(e.code() == 409);
  CHECK(e.verb() == "PATCH");
}

TEST_CASE("ApiError predicates follow code and reason") {
  CHECK(ApiError(409, "AlreadyExists", "", "POST", "/p").is_already_exists());
  CHECK_FALSE(ApiError(409, "AlreadyExists", "", "POST", "/p").is_conflict());
  CHECK(ApiError(404, "NotFound", "", "GET", "/p").is_not_found());
  CHECK(ApiError(410, "Gone", "", "GET", "/p").is_gone());
  CHECK(ApiError(429, "TooManyRequests", "", "GET", "/p", 3).retry_after_seconds() == 3);
  CHECK(ApiError(503, "ServiceUnavailable", "", "GET", "/p").is_server_error());
  CHECK(std::string(ApiError(500, "", "", "GET", "/p").what()) == "GET /p: 500");
}

TEST_CASE("describe joins nested causes outermost first") {
  try {
    try {
      throw ApiError(409, "Conflict", "stale", "PATCH", "/x");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("restart apps/v1/deployments shop/web"));
    }
  } catch (const std::exception& e) {
    CHECK(kubert::describe(e) == "restart apps/v1/deployments shop/web: PATCH /x: 409 Conflict: stale");
  }
  CHECK(kubert::describe(std::runtime_error("plain")) == "plain");
}
