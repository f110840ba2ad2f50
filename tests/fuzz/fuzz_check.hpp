// Invariant checks for the fuzz targets: a broken invariant aborts, which libFuzzer reports as a
// crash and saves the input, like a sanitizer finding.
#pragma once
#include <cjson/cJSON.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#define SWAS_FUZZ_CHECK(cond, what)                                                   \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, std::string(what).c_str());                                \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

namespace swas::fuzz {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

// Re-parses encoded JSON text; aborts unless it is one JSON object and nothing else.
inline JsonPtr reparse_object(const std::string& text) {
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0), &cJSON_Delete);
  SWAS_FUZZ_CHECK(root != nullptr, "encoded JSON does not parse: " + text.substr(0, 300));
  SWAS_FUZZ_CHECK(cJSON_IsObject(root.get()), "encoded JSON is not an object: " + text.substr(0, 300));
  SWAS_FUZZ_CHECK(end == text.data() + text.size(), "data after the encoded JSON object");
  return root;
}

inline std::string member_string(const cJSON* object, const char* name) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, name);
  return cJSON_IsString(item) && item->valuestring ? item->valuestring : "<absent>";
}

}  // namespace swas::fuzz
