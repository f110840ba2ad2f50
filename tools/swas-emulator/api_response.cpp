// Response construction; cJSON does the escaping so any text (a StringToSign) is safe in a body.
#include "api_response.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <memory>

#include "emulator_time.hpp"

namespace swas::emulator {

std::string print_and_delete(cJSON* object) {
  char* text = cJSON_PrintUnformatted(object);
  std::string out = text != nullptr ? text : "{}";
  cJSON_free(text);
  cJSON_Delete(object);
  return out;
}

namespace {

void add_string(cJSON* object, const char* key, std::string_view value) {
  cJSON_AddStringToObject(object, key, std::string(value).c_str());
}

}  // namespace

RequestIdGenerator::RequestIdGenerator(std::uint64_t seed) : random_(seed), salt_(random_()) {}

std::string RequestIdGenerator::next() {
  // The last group is the sequence number scrambled by a bijection (odd multiplier, fixed salt)
  // on 48 bits: it looks random, yet no two ids of one generator can ever be equal.
  constexpr std::uint64_t kMask48 = 0xFFFFFFFFFFFFULL;
  const std::uint64_t r = random_();
  const std::uint64_t unique = ((++sequence_ * 0x9E3779B97F4BULL) ^ salt_) & kMask48;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08llX-%04llX-%04llX-%04llX-%012llX",
                static_cast<unsigned long long>(r >> 32),
                static_cast<unsigned long long>((r >> 16) & 0xFFFF),
                static_cast<unsigned long long>(0x4000 | (r & 0x0FFF)),
                static_cast<unsigned long long>(0x8000 | ((r >> 12) & 0x0FFF)),
                static_cast<unsigned long long>(unique));
  return buf;
}

std::string error_body(std::string_view request_id, std::string_view host_id,
                       const ApiError& error) {
  cJSON* object = cJSON_CreateObject();
  add_string(object, "RequestId", request_id);
  add_string(object, "HostId", host_id);
  add_string(object, "Code", error.code);
  add_string(object, "Message", error.message);
  std::string recommend = "https://api.aliyun.com/troubleshoot?q=" + error.code +
                          "&product=SWAS&requestId=" + std::string(request_id);
  add_string(object, "Recommend", recommend);
  return print_and_delete(object);
}

std::string success_body(std::string_view request_id) {
  cJSON* object = cJSON_CreateObject();
  add_string(object, "RequestId", request_id);
  return print_and_delete(object);
}

HttpResponse json_response(int status, std::string body, std::string_view request_id,
                           std::int64_t now_ms) {
  HttpResponse response;
  response.status = status;
  response.headers.push_back({"Date", format_http_date(floor_seconds(now_ms))});
  response.headers.push_back({"Content-Type", "application/json;charset=utf-8"});
  response.headers.push_back({"x-acs-request-id", std::string(request_id)});
  response.body = std::move(body);
  return response;
}

}  // namespace swas::emulator
