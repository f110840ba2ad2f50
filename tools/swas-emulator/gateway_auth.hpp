// Pure pieces of the gateway's V3 signature check: Authorization parsing, query parsing, verify.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"
#include "signer.hpp"

namespace swas::emulator {

// "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<h1;h2>,Signature=<hex>".
struct AuthorizationV3 {
  std::string access_key_id;
  std::vector<std::string> signed_headers;  // lowercased, in the order the client listed them
  std::string signature;
};

// False unless the value has the V3 algorithm and all three non-empty fields (any order,
// optional spaces after commas).
bool parse_authorization(std::string_view value, AuthorizationV3& out);

// Splits a request target into its path and query parameters: split on '&' and the first '=',
// names and values percent-decoded ('+' stays '+'). False on a malformed %-escape.
bool parse_target(std::string_view target, std::string& path, std::vector<QueryParam>& query);

struct SignatureCheck {
  bool ok = false;
  std::string server_string_to_sign;  // empty when the headers alone ruled the request out
};

// Rebuilds the canonical request from what was received and compares signatures in constant
// time. Fails as well when SignedHeaders omits host or any x-acs-* header the request carries,
// names a header that is absent, or when x-acs-content-sha256 is not the body's hash.
SignatureCheck verify_signature(const HttpRequest& request, std::string_view path,
                                const std::vector<QueryParam>& query, const AuthorizationV3& auth,
                                std::string_view access_key_secret);

}  // namespace swas::emulator
