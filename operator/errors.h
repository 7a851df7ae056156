// Typed errors: an API Status with its verb and path, a terminal error, and describe() for nested causes.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace kubert {

// The API server answered with a Status (or an HTTP error we map to one).
class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, std::string message, std::string verb, std::string path,
           int retry_after_seconds = 0);

  int code() const noexcept { return code_; }
  const std::string& reason() const noexcept { return reason_; }      // NotFound, Conflict, Gone, ...
  const std::string& status_message() const noexcept { return message_; }
  const std::string& verb() const noexcept { return verb_; }
  const std::string& path() const noexcept { return path_; }
  int retry_after_seconds() const noexcept { return retry_after_; }

  bool is_not_found() const noexcept { return code_ == 404; }
  bool is_conflict() const noexcept { return code_ == 409 && reason_ != "AlreadyExists"; }
  bool is_already_exists() const noexcept { return reason_ == "AlreadyExists"; }
  bool is_gone() const noexcept { return code_ == 410; }
  bool is_forbidden() const noexcept { return code_ == 403; }
  bool is_invalid() const noexcept { return code_ == 422; }
  bool is_too_many_requests() const noexcept { return code_ == 429; }
  bool is_server_error() const noexcept { return code_ >= 500; }

 private:
  int code_;
  std::string reason_, message_, verb_, path_;
  int retry_after_;
};

// A failure that retrying cannot fix (a bad spec, a forbidden path): reported, not retried.
class TerminalError : public std::runtime_error {
 public:
  TerminalError(std::string reason, const std::string& message)
      : std::runtime_error(message), reason_(std::move(reason)) {}
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

// "outer: inner: innermost" through std::nested_exception.
std::string describe(const std::exception& e);

}  // namespace kubert
