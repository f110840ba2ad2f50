// http_parser is paused at the end of each message so pipelined bytes wait for the next take().
#include "http_request_reader.hpp"

#include <climits>

namespace swas::emulator {

HttpRequestReader::HttpRequestReader(std::size_t max_request_bytes)
    : max_request_bytes_(max_request_bytes) {
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &on_message_begin;
  settings_.on_url = &on_url;
  settings_.on_header_field = &on_header_field;
  settings_.on_header_value = &on_header_value;
  settings_.on_headers_complete = &on_headers_complete;
  settings_.on_body = &on_body;
  settings_.on_message_complete = &on_message_complete;
  reset_parser();
}

void HttpRequestReader::reset_parser() {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  request_ = HttpRequest{};
  message_bytes_ = 0;
  in_value_ = false;
  complete_ = false;
  keep_alive_ = false;
  announced_too_large_ = false;
}

HttpRequestReader::Status HttpRequestReader::feed(std::string_view data) {
  if (failed_ != Status::kNeedMore) return failed_;
  pending_.append(data);
  if (complete_) return Status::kComplete;  // the new bytes wait for the next request
  if (pending_.empty()) return Status::kNeedMore;
  const std::size_t parsed =
      http_parser_execute(&parser_, &settings_, pending_.data(), pending_.size());
  pending_.erase(0, parsed);
  message_bytes_ += parsed;
  const auto error = HTTP_PARSER_ERRNO(&parser_);
  if (message_bytes_ > max_request_bytes_ || announced_too_large_) {
    failed_ = Status::kTooLarge;
  } else if (error != HPE_OK && !(error == HPE_PAUSED && complete_)) {
    failed_ = Status::kMalformed;
  } else if (complete_) {
    return Status::kComplete;
  }
  if (failed_ != Status::kNeedMore) pending_.clear();
  return failed_;
}

HttpRequest HttpRequestReader::take(bool& keep_alive) {
  keep_alive = keep_alive_;
  HttpRequest out = std::move(request_);
  reset_parser();
  return out;
}

int HttpRequestReader::on_message_begin(http_parser* parser) {
  static_cast<HttpRequestReader*>(parser->data)->request_ = HttpRequest{};
  return 0;
}

int HttpRequestReader::on_url(http_parser* parser, const char* at, std::size_t length) {
  static_cast<HttpRequestReader*>(parser->data)->request_.target.append(at, length);
  return 0;
}

int HttpRequestReader::on_header_field(http_parser* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpRequestReader*>(parser->data);
  if (self->in_value_ || self->request_.headers.empty()) self->request_.headers.push_back({});
  self->in_value_ = false;
  self->request_.headers.back().name.append(at, length);
  return 0;
}

int HttpRequestReader::on_header_value(http_parser* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpRequestReader*>(parser->data);
  self->in_value_ = true;
  self->request_.headers.back().value.append(at, length);
  return 0;
}

int HttpRequestReader::on_headers_complete(http_parser* parser) {
  auto* self = static_cast<HttpRequestReader*>(parser->data);
  self->request_.method = http_method_str(static_cast<http_method>(parser->method));
  // Refuse an announced oversized body at once instead of reading up to the bound first.
  const bool has_length = parser->content_length != ULLONG_MAX;
  if (has_length && parser->content_length > self->max_request_bytes_) {
    self->announced_too_large_ = true;
    return -1;
  }
  return 0;
}

int HttpRequestReader::on_body(http_parser* parser, const char* at, std::size_t length) {
  static_cast<HttpRequestReader*>(parser->data)->request_.body.append(at, length);
  return 0;
}

int HttpRequestReader::on_message_complete(http_parser* parser) {
  auto* self = static_cast<HttpRequestReader*>(parser->data);
  self->keep_alive_ = http_should_keep_alive(parser) != 0;
  self->complete_ = true;
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace swas::emulator
