// Alibaba Cloud signature V3 (ACS3-HMAC-SHA256): canonicalisation and signing, pure functions.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_types.hpp"

namespace swas {

using QueryParam = std::pair<std::string, std::string>;

inline constexpr std::string_view kAcs3Algorithm = "ACS3-HMAC-SHA256";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding over UTF-8 bytes: A-Z a-z 0-9 - _ . ~ kept, the rest %XY (upper hex).
std::string percent_encode(std::string_view s);
// Decodes %XY escapes; '+' stays '+'. Returns false on a malformed escape.
bool percent_decode(std::string_view s, std::string& out);

std::string hex_lower(const unsigned char* data, std::size_t len);
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Parameters sorted by name, each k=v percent-encoded, joined with '&'.
std::string canonical_query_string(std::vector<QueryParam> params);

// True for the headers V3 signs: host, content-type and x-acs-* (case-insensitive).
bool is_signed_header_name(std::string_view name);

struct CanonicalRequest {
  std::string text;            // the CanonicalRequest, no trailing newline
  std::string signed_headers;  // "host;x-acs-action;..."
};

// Builds the canonical request over exactly `headers` (names lowercased and sorted, values
// trimmed). Callers pass the headers to sign; see is_signed_header_name.
CanonicalRequest canonical_request(std::string_view method, std::string_view canonical_uri,
                                   const std::vector<QueryParam>& query,
                                   const std::vector<Header>& headers,
                                   std::string_view hashed_payload);

// "ACS3-HMAC-SHA256\n" + hex(SHA256(canonical_request)).
std::string string_to_sign(std::string_view canonical_request_text);
// hex(HMAC-SHA256(secret, string_to_sign)).
std::string signature_v3(std::string_view access_key_secret, std::string_view string_to_sign);
// "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<h>,Signature=<sig>".
std::string authorization_v3(std::string_view access_key_id, std::string_view signed_headers,
                             std::string_view signature);

// Convenience: signs headers that is_signed_header_name selects, returns the Authorization value.
std::string sign_request_v3(std::string_view method, std::string_view canonical_uri,
                            const std::vector<QueryParam>& query, const std::vector<Header>& headers,
                            std::string_view hashed_payload, std::string_view access_key_id,
                            std::string_view access_key_secret);

// Constant-time comparison of two strings (signature checks).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace swas
