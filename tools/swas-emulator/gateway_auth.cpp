// V3 verification reuses swas_core's signer, so the emulator and the agent can only disagree
// about what was sent, never about how it is signed.
#include "gateway_auth.hpp"

#include <algorithm>
#include <cctype>

namespace swas::emulator {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_lower(std::string_view list, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(separator, start);
    if (end == std::string_view::npos) end = list.size();
    out.push_back(lowercase(trim_spaces(list.substr(start, end - start))));
    start = end + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Every header the client was obliged to sign is in SignedHeaders, and every signed one exists.
bool signed_headers_cover(const HttpRequest& request, const std::vector<std::string>& names) {
  if (!contains(names, "host")) return false;
  for (const auto& h : request.headers) {
    const std::string name = lowercase(h.name);
    if (name.rfind("x-acs-", 0) == 0 && !contains(names, name)) return false;
  }
  for (const auto& name : names)
    if (name.empty() || find_header(request.headers, name) == nullptr) return false;
  return true;
}

}  // namespace

bool parse_authorization(std::string_view value, AuthorizationV3& out) {
  value = trim_spaces(value);
  const std::string prefix = std::string(kAcs3Algorithm) + " ";
  if (value.substr(0, prefix.size()) != prefix) return false;
  value.remove_prefix(prefix.size());
  out = AuthorizationV3{};
  bool have_signed_headers = false;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    const std::string_view field = trim_spaces(value.substr(start, end - start));
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = field.substr(0, eq);
    const std::string_view val = field.substr(eq + 1);
    if (key == "Credential") {
      out.access_key_id = std::string(val);
    } else if (key == "SignedHeaders") {
      out.signed_headers = split_lower(val, ';');
      have_signed_headers = !val.empty();
    } else if (key == "Signature") {
      out.signature = std::string(val);
    }
    start = end + 1;
  }
  return !out.access_key_id.empty() && have_signed_headers && !out.signature.empty();
}

bool parse_target(std::string_view target, std::string& path, std::vector<QueryParam>& query) {
  query.clear();
  const std::size_t question = target.find('?');
  path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return true;
  std::string_view rest = target.substr(question + 1);
  const std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  std::size_t start = 0;
  while (start < rest.size()) {
    std::size_t end = rest.find('&', start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view pair = rest.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    QueryParam param;
    if (!percent_decode(pair.substr(0, eq), param.first)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), param.second))
      return false;
    query.push_back(std::move(param));
  }
  return true;
}

SignatureCheck verify_signature(const HttpRequest& request, std::string_view path,
                                const std::vector<QueryParam>& query, const AuthorizationV3& auth,
                                std::string_view access_key_secret) {
  SignatureCheck check;
  if (!signed_headers_cover(request, auth.signed_headers)) return check;
  std::vector<Header> signed_headers;
  for (const auto& name : auth.signed_headers)
    signed_headers.push_back({name, *find_header(request.headers, name)});
  const std::string* content_sha = find_header(request.headers, "x-acs-content-sha256");
  const std::string hashed_payload = content_sha != nullptr ? *content_sha : "";
  const CanonicalRequest canonical =
      canonical_request(request.method, path, query, signed_headers, hashed_payload);
  check.server_string_to_sign = string_to_sign(canonical.text);
  const std::string expected = signature_v3(access_key_secret, check.server_string_to_sign);
  const bool body_matches = constant_time_equal(hashed_payload, sha256_hex(request.body));
  const bool signature_matches = constant_time_equal(expected, auth.signature);
  check.ok = body_matches && signature_matches;
  return check;
}

}  // namespace swas::emulator
