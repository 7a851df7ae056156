// RestClient's watch: one streamed GET, framed into JSON lines, cancelled through a pplx token on stop.
#include "operator/rest_client_impl.h"

namespace kubert {

void RestClient::Impl::watch(const std::string& path_and_query,
                             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  const std::string path = path_only(path_and_query);
  if (stop.stop_requested()) return;
  if (!limiter.acquire(stop)) return;
  pplx::cancellation_token_source cts;
  // Cancelling the request closes its connection, which fails the pending body read at once.
  std::stop_callback on_stop(stop, [&cts] { cts.cancel(); });
  const auto start = std::chrono::steady_clock::now();
  http::http_response resp;
  try {
    resp = watch_client->request(make_request("GET", path_and_query, nullptr, ""), cts.get_token()).get();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception&) {
    observe("GET", 0, start);
    if (stop.stop_requested()) return;
    std::throw_with_nested(std::runtime_error("GET " + path + " (watch): transport error"));
  }
  observe("GET", resp.status_code(), start);
  if (resp.status_code() != 200) {
    std::string body;
    try {
      body = resp.extract_utf8string(true).get();
    } catch (const std::exception&) {
    }
    throw api_error_from_response(resp.status_code(), body, "GET", path);
  }
  // Read from the stream buffer, not the istream: istream reads rethrow a transport error as soon as it is
  // recorded, dropping events that had already arrived; the buffer hands those out first.
  auto in = resp.body().streambuf();
  using traits = concurrency::streams::streambuf<uint8_t>::traits;
  std::string pending;
  std::vector<uint8_t> chunk(16 * 1024);
  bool stopped_by_us = false;
  std::exception_ptr handler_error;
  // Returns false when on_event asked to stop.
  const auto dispatch = [&](const std::string& text) {
    if (text.find_first_not_of(" \r\n\t") == std::string::npos) return true;  // keep-alive blank line
    json ev = json::parse(text, nullptr, false);
    if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string())
      throw std::runtime_error("GET " + path + " (watch): event is not JSON: " + text.substr(0, 80));
    const std::string type = ev["type"].get<std::string>();
    if (type == "ERROR") {
      const json& obj = ev["object"];
      if (obj.is_object() && obj.value("kind", "") == "Status") throw api_error_from_status(obj, "GET", path);
      throw ApiError(500, "InternalError", "watch ERROR event without a Status", "GET", path);
    }
    try {
      return on_event(WatchEvent{type, ev["object"]});
    } catch (...) {
      handler_error = std::current_exception();  // the caller's own failure: passed through unwrapped
      throw;
    }
  };
  try {
    while (!stop.stop_requested() && !stopped_by_us) {
      // Wait for one byte (EOF, or the transport error after the data), then take what is already there.
      const auto c = in.bumpc().get();
      if (c == traits::eof()) break;  // the server ended the watch
      pending.push_back(static_cast<char>(c));
      if (const std::size_t avail = in.in_avail(); avail > 0) {
        const std::size_t n = in.getn(chunk.data(), std::min(avail, chunk.size())).get();
        pending.append(reinterpret_cast<const char*>(chunk.data()), n);
      }
      std::size_t nl;
      while (!stopped_by_us && (nl = pending.find('\n')) != std::string::npos) {
        const std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!dispatch(line)) stopped_by_us = true;
      }
    }
    if (!stopped_by_us && !stop.stop_requested() && !pending.empty() && !dispatch(pending)) stopped_by_us = true;
  } catch (const ApiError&) {
    cts.cancel();
    throw;
  } catch (const std::exception&) {
    cts.cancel();
    if (handler_error) std::rethrow_exception(handler_error);
    if (stop.stop_requested()) return;
    std::throw_with_nested(std::runtime_error("GET " + path + " (watch): stream broken"));
  }
  // Do not leave a half-read response on a connection that could be reused.
  if (stopped_by_us || stop.stop_requested()) cts.cancel();
}

}  // namespace kubert
