// Signature V3 canonicalisation and signing (the rules and the vectors: docs/signature.md).
#include "signer.hpp"

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <cctype>

namespace swas {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(h.name[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return &h.value;
  }
  return nullptr;
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

bool percent_decode(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

std::string hex_lower(const unsigned char* data, std::size_t len) {
  static const char* kHex = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0F];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, 0);
  return hex_lower(digest, sizeof digest);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[32];
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                  reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac);
  return hex_lower(mac, sizeof mac);
}

std::string canonical_query_string(std::vector<QueryParam> params) {
  // Sort by encoded name (for ASCII names this is the raw order, as the official SDKs do); a
  // stable sort keeps repeated names in the order given.
  for (auto& p : params) {
    p.first = percent_encode(p.first);
    p.second = percent_encode(p.second);
  }
  std::stable_sort(params.begin(), params.end(),
                   [](const QueryParam& a, const QueryParam& b) { return a.first < b.first; });
  std::string out;
  for (const auto& p : params) {
    if (!out.empty()) out.push_back('&');
    out += p.first;
    out.push_back('=');
    out += p.second;
  }
  return out;
}

bool is_signed_header_name(std::string_view name) {
  const std::string lower = to_lower(name);
  return lower == "host" || lower == "content-type" || lower.rfind("x-acs-", 0) == 0;
}

CanonicalRequest canonical_request(std::string_view method, std::string_view canonical_uri,
                                   const std::vector<QueryParam>& query,
                                   const std::vector<Header>& headers,
                                   std::string_view hashed_payload) {
  std::vector<Header> canon;
  canon.reserve(headers.size());
  for (const auto& h : headers) canon.push_back({to_lower(h.name), std::string(trim(h.value))});
  std::stable_sort(canon.begin(), canon.end(),
                   [](const Header& a, const Header& b) { return a.name < b.name; });

  CanonicalRequest out;
  out.text.reserve(512);
  out.text.append(method).push_back('\n');
  out.text.append(canonical_uri).push_back('\n');
  out.text.append(canonical_query_string(query)).push_back('\n');
  for (const auto& h : canon) {
    out.text.append(h.name).push_back(':');
    out.text.append(h.value).push_back('\n');
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += h.name;
  }
  out.text.push_back('\n');
  out.text.append(out.signed_headers).push_back('\n');
  out.text.append(hashed_payload);
  return out;
}

std::string string_to_sign(std::string_view canonical_request_text) {
  std::string out(kAcs3Algorithm);
  out.push_back('\n');
  out += sha256_hex(canonical_request_text);
  return out;
}

std::string signature_v3(std::string_view access_key_secret, std::string_view sts) {
  return hmac_sha256_hex(access_key_secret, sts);
}

std::string authorization_v3(std::string_view access_key_id, std::string_view signed_headers,
                             std::string_view signature) {
  std::string out(kAcs3Algorithm);
  out += " Credential=";
  out += access_key_id;
  out += ",SignedHeaders=";
  out += signed_headers;
  out += ",Signature=";
  out += signature;
  return out;
}

std::string sign_request_v3(std::string_view method, std::string_view canonical_uri,
                            const std::vector<QueryParam>& query, const std::vector<Header>& headers,
                            std::string_view hashed_payload, std::string_view access_key_id,
                            std::string_view access_key_secret) {
  std::vector<Header> to_sign;
  for (const auto& h : headers)
    if (is_signed_header_name(h.name)) to_sign.push_back(h);
  const CanonicalRequest cr = canonical_request(method, canonical_uri, query, to_sign, hashed_payload);
  const std::string sig = signature_v3(access_key_secret, string_to_sign(cr.text));
  return authorization_v3(access_key_id, cr.signed_headers, sig);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i])));
  return diff == 0;
}

}  // namespace swas
