// Credentials parsing; error messages name keys, never values, so they are safe to log.
#include "credentials.hpp"

#include "json_text.hpp"

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include <cstring>
#include <memory>

namespace swas {

void wipe(std::string& s) {
  // The whole buffer, not only size(): a string that was moved from keeps its bytes past size()
  // (a short one keeps them in the object itself: a move copies them out and only sets the size to
  // 0), and so does one that was shortened. resize() up to the capacity never reallocates.
  s.resize(s.capacity());
  mbedtls_platform_zeroize(s.data(), s.size());
  s.clear();
}

Credentials::~Credentials() {
  wipe(access_key_secret_);
  wipe(security_token_);
}

Expected<Credentials, std::string> parse_credentials_json(std::string_view json) {
  struct Deleter {
    void operator()(cJSON* j) const {
      // Wipe string values before cJSON frees them: they hold the secret.
      for (cJSON* c = j ? j->child : nullptr; c; c = c->next)
        if (cJSON_IsString(c) && c->valuestring)
          mbedtls_platform_zeroize(c->valuestring, std::strlen(c->valuestring));
      cJSON_Delete(j);
    }
  };
  if (json_has_nul(json)) return unexpected(std::string("holds a NUL character (U+0000)"));
  std::unique_ptr<cJSON, Deleter> root(cJSON_ParseWithLength(json.data(), json.size()));
  if (!root || !cJSON_IsObject(root.get())) return unexpected(std::string("not a JSON object"));
  std::string values[3];
  static const char* kKeys[] = {"access_key_id", "access_key_secret", "security_token"};
  for (const cJSON* c = root->child; c; c = c->next) {
    int index = -1;
    for (int k = 0; k < 3; ++k)
      if (c->string && std::strcmp(c->string, kKeys[k]) == 0) index = k;
    if (index < 0) return unexpected(std::string("unknown key \"") + (c->string ? c->string : "") + "\"");
    if (!cJSON_IsString(c)) return unexpected(std::string(kKeys[index]) + " must be a string");
    values[index] = c->valuestring;
  }
  if (values[0].empty()) return unexpected(std::string("access_key_id is required"));
  if (values[1].empty()) return unexpected(std::string("access_key_secret is required"));
  Credentials out(std::move(values[0]), std::move(values[1]), std::move(values[2]));
  for (auto& v : values) wipe(v);
  return out;
}

}  // namespace swas
