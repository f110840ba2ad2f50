// Incremental HTTP/1.1 response framing on http_parser: Content-Length, chunked, or until EOF.
// Interim (1xx) responses before the final one are skipped, at most kMaxInterimResponses.
#pragma once
#include <http_parser.h>

#include <cstddef>
#include <string>

#include "http_types.hpp"

namespace swas {

// Not thread-safe. One reader per response.
class HttpResponseReader {
 public:
  enum class State { NeedMore, Complete, Error };
  // More interim responses than this before the final one: an error.
  static constexpr int kMaxInterimResponses = 4;

  explicit HttpResponseReader(std::size_t max_bytes);
  HttpResponseReader(const HttpResponseReader&) = delete;
  HttpResponseReader& operator=(const HttpResponseReader&) = delete;

  // Feeds received bytes; len == 0 means the peer closed the connection.
  State feed(const char* data, std::size_t len);

  State state() const { return state_; }
  const HttpResponse& response() const { return response_; }
  HttpResponse take_response() { return std::move(response_); }
  // True when the connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_; }
  // Bytes received so far (0: the peer sent nothing before closing).
  std::size_t bytes_seen() const { return seen_; }
  // True when bytes followed the complete response in what was fed: the peer sent something
  // nobody asked for, so its connection must not carry another request.
  bool trailing_bytes() const { return trailing_; }
  const std::string& error() const { return error_; }

 private:
  static int on_header_field(http_parser* p, const char* at, std::size_t len);
  static int on_header_value(http_parser* p, const char* at, std::size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t len);
  static int on_message_complete(http_parser* p);

  http_parser parser_{};
  http_parser_settings settings_{};
  HttpResponse response_;
  std::size_t max_bytes_;
  std::size_t seen_ = 0;
  bool in_value_ = false;
  bool keep_alive_ = false;
  bool trailing_ = false;
  int interim_ = 0;
  State state_ = State::NeedMore;
  std::string error_;
};

}  // namespace swas
