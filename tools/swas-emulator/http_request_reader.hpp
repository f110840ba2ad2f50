// Frames HTTP/1.1 requests out of a byte stream with http_parser, one request at a time, bounded.
#pragma once
#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "http_types.hpp"
#include "limits.hpp"

namespace swas::emulator {

// Feed it the bytes read from a connection; it says when a whole request is there. Bytes of a
// following (pipelined) request stay buffered for the next one. Not thread-safe; one per
// connection. Not copyable or movable (http_parser keeps a pointer back to it).
class HttpRequestReader {
 public:
  enum class Status {
    kNeedMore,   // read more bytes and feed them
    kComplete,   // take() the request
    kTooLarge,   // the request exceeds the bound: answer 413 and close
    kMalformed,  // not HTTP/1.x: answer 400 and close
  };

  explicit HttpRequestReader(std::size_t max_request_bytes = limits::kMaxHttpRequestBytes);
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  // Appends `data` (may be empty, to continue with buffered bytes) and parses up to the end of
  // one request. Once kTooLarge or kMalformed, it stays so.
  Status feed(std::string_view data);

  // After kComplete: the request, and whether the client keeps the connection open (HTTP/1.1
  // default, or HTTP/1.0 with keep-alive). Resets the reader for the next request.
  HttpRequest take(bool& keep_alive);

 private:
  static int on_message_begin(http_parser* parser);
  static int on_url(http_parser* parser, const char* at, std::size_t length);
  static int on_header_field(http_parser* parser, const char* at, std::size_t length);
  static int on_header_value(http_parser* parser, const char* at, std::size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_message_complete(http_parser* parser);
  void reset_parser();

  std::size_t max_request_bytes_;
  http_parser parser_{};
  http_parser_settings settings_{};
  std::string pending_;  // received, not yet parsed
  std::size_t message_bytes_ = 0;
  HttpRequest request_;
  bool in_value_ = false;  // last header callback was a value: a field starts a new header
  bool complete_ = false;
  bool keep_alive_ = false;
  bool announced_too_large_ = false;  // Content-Length above the bound
  Status failed_ = Status::kNeedMore;  // kTooLarge or kMalformed once failed
};

}  // namespace swas::emulator
