// Test helper: StopInstance requests signed with swas_core's signer, as the agent sends them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "http_types.hpp"
#include "signer.hpp"

namespace swas::emulator::test {

inline constexpr const char* kAccessKeyId = "YourAccessKeyId";
inline constexpr const char* kAccessKeySecret = "YourAccessKeySecret";
inline constexpr const char* kInstanceId = "ace0706b2ac4454d984295a94213abcd";
inline constexpr const char* kRegionId = "cn-hangzhou";

struct RequestSpec {
  std::string access_key_id = kAccessKeyId;
  std::string access_key_secret = kAccessKeySecret;
  std::string security_token;  // sent (and signed) when not empty
  std::string host = "swas.cn-hangzhou.aliyuncs.com";
  std::string action = "StopInstance";
  std::string version = "2020-06-01";
  std::int64_t date_s = 0;  // x-acs-date, Unix seconds
  std::string nonce;
  std::vector<QueryParam> query;  // raw (unencoded) names and values
  std::string body;
};

// POST "/?<canonical query>" with host, x-acs-* headers and a V3 Authorization over them.
HttpRequest make_signed_request(const RequestSpec& spec);

// Query for StopInstance; an empty client_token is left out.
std::vector<QueryParam> stop_query(const std::string& instance_id = kInstanceId,
                                   const std::string& region_id = kRegionId,
                                   const std::string& client_token = "");

// Removes every header called `name` (case-insensitive).
void remove_header(HttpRequest& request, const std::string& name);
void set_header(HttpRequest& request, const std::string& name, const std::string& value);

}  // namespace swas::emulator::test
