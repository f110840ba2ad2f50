// swas-sign-cli: a test-only front end to swas::sign_request_v3 for the interop tests.
//
// Reads one JSON object per line on stdin:
//   {"method": "POST", "pathname": "/", "query": {"k": "v", ...},
//    "headers": {"host": "...", "x-acs-...": "..."}, "payload_hash": "<hex>",
//    "access_key_id": "...", "access_key_secret": "..."}
// and writes exactly one line per input line: the Authorization value, or "error: <reason>".
// All headers are passed to the signer, which selects the signed ones itself. Query and header
// members are passed in document order (duplicate names included). Lines longer than
// kMaxLineBytes are rejected (and skipped up to their end) instead of being buffered.
#include <cjson/cJSON.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"
#include "signer.hpp"

namespace {

constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // 1 MiB

struct JsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

struct LineResult {
  bool got_any = false;  // false at end of input
  bool too_long = false;
};

// Reads up to '\n' (not stored). Stops storing after `limit` bytes but consumes the whole line.
LineResult read_line(std::FILE* in, std::string& line, std::size_t limit) {
  LineResult r;
  line.clear();
  for (;;) {
    const int c = std::fgetc(in);
    if (c == EOF) return r;
    r.got_any = true;
    if (c == '\n') return r;
    if (line.size() >= limit) {
      r.too_long = true;
      continue;
    }
    line.push_back(static_cast<char>(c));
  }
}

bool has_control_char(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// Fetches a required string member.
bool get_string(const cJSON* obj, const char* name, std::string& out, std::string& err) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (item == nullptr) {
    err = std::string("missing \"") + name + "\"";
    return false;
  }
  if (!cJSON_IsString(item) || item->valuestring == nullptr) {
    err = std::string("\"") + name + "\" must be a string";
    return false;
  }
  out = item->valuestring;
  return true;
}

// Reads an optional object of string members into (name, value) pairs, in document order.
bool get_string_map(const cJSON* obj, const char* name,
                    std::vector<std::pair<std::string, std::string>>& out, std::string& err) {
  out.clear();
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (item == nullptr || cJSON_IsNull(item)) return true;
  if (!cJSON_IsObject(item)) {
    err = std::string("\"") + name + "\" must be an object";
    return false;
  }
  for (const cJSON* m = item->child; m != nullptr; m = m->next) {
    if (m->string == nullptr || !cJSON_IsString(m) || m->valuestring == nullptr) {
      err = std::string("\"") + name + "\" members must be strings";
      return false;
    }
    out.emplace_back(m->string, m->valuestring);
  }
  return true;
}

std::string process(const std::string& line) {
  if (line.empty()) return "error: empty line";
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(line.data(), line.size(), &end, 0));
  if (!root) return "error: invalid JSON";
  for (const char* p = end; p != nullptr && p < line.data() + line.size(); ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r') return "error: trailing data after JSON";
  }
  if (!cJSON_IsObject(root.get())) return "error: input must be a JSON object";

  std::string err;
  std::string method, pathname, payload_hash, ak_id, ak_secret;
  std::vector<std::pair<std::string, std::string>> query, headers_in;
  if (!get_string(root.get(), "method", method, err) ||
      !get_string(root.get(), "pathname", pathname, err) ||
      !get_string(root.get(), "payload_hash", payload_hash, err) ||
      !get_string(root.get(), "access_key_id", ak_id, err) ||
      !get_string(root.get(), "access_key_secret", ak_secret, err) ||
      !get_string_map(root.get(), "query", query, err) ||
      !get_string_map(root.get(), "headers", headers_in, err)) {
    return "error: " + err;
  }
  if (method.empty()) return "error: empty \"method\"";
  // The result is one output line: nothing copied into it (the key id, the signed header
  // names) may break the line.
  if (has_control_char(ak_id)) return "error: control character in \"access_key_id\"";
  std::vector<swas::Header> headers;
  headers.reserve(headers_in.size());
  for (auto& h : headers_in) {
    if (has_control_char(h.first)) return "error: control character in a header name";
    headers.push_back({std::move(h.first), std::move(h.second)});
  }
  std::vector<swas::QueryParam> params(query.begin(), query.end());
  return swas::sign_request_v3(method, pathname, params, headers, payload_hash, ak_id, ak_secret);
}

}  // namespace

int main() {
  std::string line;
  line.reserve(4096);
  for (;;) {
    const LineResult r = read_line(stdin, line, kMaxLineBytes);
    if (!r.got_any) break;
    std::string out;
    if (r.too_long) {
      out = "error: line longer than 1048576 bytes";
    } else {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out = process(line);
    }
    out.push_back('\n');
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return 2;
  }
  if (std::fflush(stdout) != 0) return 2;
  return std::ferror(stdin) ? 2 : 0;
}
