// Fuzzes the credentials parser. Beyond memory safety: a success has both keys, and an error never
// depends on (so never quotes) the secret values: the same document with every value replaced
// gets the very same answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "credentials.hpp"
#include "fuzz_check.hpp"

namespace {

using swas::fuzz::JsonPtr;

// The answer for `json`: "ok" or the error message.
std::string answer(std::string_view json) {
  auto c = swas::parse_credentials_json(json);
  if (!c) return "error: " + c.error();
  SWAS_FUZZ_CHECK(!c->access_key_id().empty() && !c->access_key_secret().empty(), "credentials without a key");
  return "ok";
}

// cJSON's text of `root`, optionally with every non-empty top-level string value replaced.
std::string print(cJSON* root, bool redact) {
  if (redact)
    for (cJSON* c = root->child; c; c = c->next)
      if (cJSON_IsString(c) && c->valuestring && c->valuestring[0] != '\0')
        cJSON_SetValuestring(c, "REDACTED");
  char* text = cJSON_PrintUnformatted(root);
  std::string out = text ? text : "";
  cJSON_free(text);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  answer(json);

  JsonPtr root(cJSON_ParseWithLength(json.data(), json.size()), &cJSON_Delete);
  if (!root || !cJSON_IsObject(root.get())) return 0;
  const std::string original = print(root.get(), false);
  const std::string redacted = print(root.get(), true);
  const std::string a = answer(original);
  const std::string b = answer(redacted);
  SWAS_FUZZ_CHECK(a == b, "the answer depends on a secret value: \"" + a + "\" vs \"" + b + "\"");
  return 0;
}
