// Builds the emulator's answers in the real gateway's form: JSON bodies, RequestIds, headers.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "http_types.hpp"

struct cJSON;

namespace swas::emulator {

// Prints `object` compactly and frees it.
std::string print_and_delete(cJSON* object);


// Uppercase UUID-like RequestIds ("8-4-4-4-12" hex). Not thread-safe: the core's lock guards it.
class RequestIdGenerator {
 public:
  explicit RequestIdGenerator(std::uint64_t seed);
  std::string next();

 private:
  std::mt19937_64 random_;
  std::uint64_t salt_;
  std::uint64_t sequence_ = 0;
};

// A gateway or product error, before it is given a RequestId.
struct ApiError {
  int status = 0;
  std::string code;
  std::string message;
};

// {"RequestId","HostId","Code","Message","Recommend"}, as the cloud sends it.
std::string error_body(std::string_view request_id, std::string_view host_id,
                       const ApiError& error);
// {"RequestId": "..."}
std::string success_body(std::string_view request_id);

// A JSON response with the headers every answer carries: Date (from now_ms), Content-Type and
// x-acs-request-id. Content-Length and Connection are the transport's job.
HttpResponse json_response(int status, std::string body, std::string_view request_id,
                           std::int64_t now_ms);

}  // namespace swas::emulator
