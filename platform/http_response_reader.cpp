// http_parser does the framing; this class bounds sizes and collects status, headers and body.
#include "http_response_reader.hpp"

namespace swas {

HttpResponseReader::HttpResponseReader(std::size_t max_bytes) : max_bytes_(max_bytes) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_header_field = &HttpResponseReader::on_header_field;
  settings_.on_header_value = &HttpResponseReader::on_header_value;
  settings_.on_headers_complete = &HttpResponseReader::on_headers_complete;
  settings_.on_body = &HttpResponseReader::on_body;
  settings_.on_message_complete = &HttpResponseReader::on_message_complete;
}

int HttpResponseReader::on_header_field(http_parser* p, const char* at, std::size_t len) {
  auto* self = static_cast<HttpResponseReader*>(p->data);
  if (self->in_value_ || self->response_.headers.empty()) {
    if (self->response_.headers.size() >= 100) return 1;  // a header flood is not a cloud answer
    self->response_.headers.push_back({});
    self->in_value_ = false;
  }
  self->response_.headers.back().name.append(at, len);
  return 0;
}

int HttpResponseReader::on_header_value(http_parser* p, const char* at, std::size_t len) {
  auto* self = static_cast<HttpResponseReader*>(p->data);
  if (self->response_.headers.empty()) return 1;
  self->in_value_ = true;
  self->response_.headers.back().value.append(at, len);
  return 0;
}

int HttpResponseReader::on_headers_complete(http_parser* p) {
  auto* self = static_cast<HttpResponseReader*>(p->data);
  self->response_.status = static_cast<int>(p->status_code);
  if (p->status_code == 101) {  // the agent never asks to switch protocols
    self->error_ = "unexpected 101 Switching Protocols";
    return -1;
  }
  return p->status_code / 100 == 1 ? 1 : 0;  // 1: an interim response has no body
}

int HttpResponseReader::on_body(http_parser* p, const char* at, std::size_t len) {
  auto* self = static_cast<HttpResponseReader*>(p->data);
  self->response_.body.append(at, len);
  return 0;
}

int HttpResponseReader::on_message_complete(http_parser* p) {
  auto* self = static_cast<HttpResponseReader*>(p->data);
  if (p->status_code / 100 == 1) {  // interim (100 Continue, 103 Early Hints...): the final one follows
    if (++self->interim_ > kMaxInterimResponses) {
      self->error_ = "more than " + std::to_string(kMaxInterimResponses) + " interim (1xx) responses";
      return -1;
    }
    self->response_ = HttpResponse{};
    self->in_value_ = false;
    return 0;
  }
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  self->state_ = State::Complete;
  http_parser_pause(p, 1);  // anything after this response is not ours to read
  return 0;
}

HttpResponseReader::State HttpResponseReader::feed(const char* data, std::size_t len) {
  if (state_ != State::NeedMore) return state_;
  seen_ += len;
  if (seen_ > max_bytes_) {
    state_ = State::Error;
    error_ = "response larger than " + std::to_string(max_bytes_) + " bytes";
    return state_;
  }
  const std::size_t used = http_parser_execute(&parser_, &settings_, data, len);
  if (state_ == State::Complete) {
    trailing_ = used < len;
    return state_;
  }
  const auto err = static_cast<http_errno>(parser_.http_errno);
  if (err != HPE_OK || (len > 0 && used != len)) {
    state_ = State::Error;
    if (error_.empty()) error_ = std::string("malformed HTTP response: ") + http_errno_description(err);
  } else if (len == 0) {
    state_ = State::Error;
    error_ = seen_ == 0 ? "the connection closed before any response"
                        : "the connection closed in the middle of the response";
  }
  return state_;
}

}  // namespace swas
