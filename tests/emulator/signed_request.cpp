// Signing goes through swas::sign_request_v3, the same code the agent uses.
#include "signed_request.hpp"

#include <algorithm>
#include <cctype>

#include "emulator_time.hpp"

namespace swas::emulator::test {
namespace {

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

HttpRequest make_signed_request(const RequestSpec& spec) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/?" + canonical_query_string(spec.query);
  request.body = spec.body;
  request.headers = {
      {"host", spec.host},
      {"x-acs-action", spec.action},
      {"x-acs-version", spec.version},
      {"x-acs-date", format_acs_date(spec.date_s)},
      {"x-acs-signature-nonce", spec.nonce},
      {"x-acs-content-sha256", sha256_hex(spec.body)},
  };
  if (!spec.security_token.empty())
    request.headers.push_back({"x-acs-security-token", spec.security_token});
  const std::string authorization =
      sign_request_v3(request.method, "/", spec.query, request.headers, sha256_hex(spec.body),
                      spec.access_key_id, spec.access_key_secret);
  request.headers.push_back({"Authorization", authorization});
  return request;
}

std::vector<QueryParam> stop_query(const std::string& instance_id, const std::string& region_id,
                                   const std::string& client_token) {
  std::vector<QueryParam> query = {{"InstanceId", instance_id}, {"RegionId", region_id}};
  if (!client_token.empty()) query.push_back({"ClientToken", client_token});
  return query;
}

void remove_header(HttpRequest& request, const std::string& name) {
  auto& headers = request.headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const Header& h) { return same_name(h.name, name); }),
                headers.end());
}

void set_header(HttpRequest& request, const std::string& name, const std::string& value) {
  remove_header(request, name);
  request.headers.push_back({name, value});
}

}  // namespace swas::emulator::test
