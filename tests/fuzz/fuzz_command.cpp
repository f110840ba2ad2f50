// Fuzzes the command parser (contract §3) and the result encoders it feeds: a StopCommand that
// exists must satisfy every rule, a rejection never echoes an unreadable id, and every encoded
// result is one JSON object that gives back the fields it was made from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "command.hpp"
#include "fuzz_check.hpp"
#include "limits.hpp"
#include "result_message.hpp"

namespace {

using swas::fuzz::member_string;
using swas::fuzz::reparse_object;

// Independent of the agent's own helpers on purpose: the oracle must not share the code under test.
bool printable_ascii(const std::string& s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool region_chars(const std::string& s) {
  if (s.empty() || s.size() > swas::limits::kMaxRegionIdChars) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool no_control_bytes(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

// True when the payload holds U+0000: a raw NUL byte, or the escape \u0000 inside a string.
// cJSON would end the string there, so the agent would act on a value the sender did not write
// ("i-1\u0000; i-2" read as "i-1"); such a payload must be refused with id null
// (docs/security.md, "Findings").
bool holds_nul(std::string_view p) {
  if (p.find('\0') != std::string_view::npos) return true;
  bool in_string = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (!in_string) {
      in_string = p[i] == '"';
    } else if (p[i] == '"') {
      in_string = false;
    } else if (p[i] == '\\') {
      if (p.substr(i + 1, 5) == "u0000") return true;
      ++i;
    }
  }
  return false;
}

void check_command(const swas::StopCommand& cmd, std::size_t payload_size) {
  SWAS_FUZZ_CHECK(payload_size <= swas::limits::kMaxCommandBytes, "an oversize payload was parsed");
  SWAS_FUZZ_CHECK(printable_ascii(cmd.id, swas::limits::kMaxCommandIdChars), "id: " + cmd.id);
  SWAS_FUZZ_CHECK(cmd.action == "StopInstance", "action: " + cmd.action);
  SWAS_FUZZ_CHECK(printable_ascii(cmd.client_token, swas::limits::kMaxClientTokenChars),
                  "ClientToken: " + cmd.client_token);
  if (cmd.client_token_derived)
    SWAS_FUZZ_CHECK(cmd.client_token == swas::derive_client_token("gw-fuzz", cmd.id) &&
                        cmd.client_token.size() == 36,
                    "derived ClientToken: " + cmd.client_token);
  SWAS_FUZZ_CHECK(region_chars(cmd.region_id), "RegionId: " + cmd.region_id);
  SWAS_FUZZ_CHECK(!cmd.instance_id.empty() && cmd.instance_id.size() <= swas::limits::kMaxInstanceIdChars &&
                      no_control_bytes(cmd.instance_id),
                  "InstanceId: " + cmd.instance_id);

  // Every encoder: one JSON object whose fields round-trip byte for byte.
  swas::CloudError err{403, "Code\"\\", "Message\n", "Req", "", ""};
  const std::string encoded[] = {
      swas::encode_success(cmd, "RID-1"), swas::encode_cloud_error(cmd, err),
      swas::encode_agent_error(cmd, swas::AgentError::Busy, "busy", 503)};
  for (const std::string& text : encoded) {
    auto root = reparse_object(text);
    SWAS_FUZZ_CHECK(member_string(root.get(), "type") == "result", text);
    SWAS_FUZZ_CHECK(member_string(root.get(), "id") == cmd.id, text);
    SWAS_FUZZ_CHECK(member_string(root.get(), "InstanceId") == cmd.instance_id, text);
    SWAS_FUZZ_CHECK(member_string(root.get(), "RegionId") == cmd.region_id, text);
    SWAS_FUZZ_CHECK(member_string(root.get(), "ClientToken") == cmd.client_token, text);
  }
}

void check_rejection(const swas::CommandRejection& r) {
  if (r.id) SWAS_FUZZ_CHECK(printable_ascii(*r.id, swas::limits::kMaxCommandIdChars), "echoed id: " + *r.id);
  SWAS_FUZZ_CHECK(!r.message.empty(), "a rejection without a message");
  const std::string text = swas::encode_rejection(r);
  auto root = reparse_object(text);
  SWAS_FUZZ_CHECK(member_string(root.get(), "type") == "result", text);
  const cJSON* id = cJSON_GetObjectItemCaseSensitive(root.get(), "id");
  if (r.id) SWAS_FUZZ_CHECK(cJSON_IsString(id) && *r.id == id->valuestring, text);
  else SWAS_FUZZ_CHECK(cJSON_IsNull(id), text);
  const cJSON* error = cJSON_GetObjectItemCaseSensitive(root.get(), "error");
  SWAS_FUZZ_CHECK(member_string(error, "Code") == std::string(swas::to_string(r.code)), text);
  SWAS_FUZZ_CHECK(member_string(error, "Message") == r.message, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const swas::ParsedCommand parsed = swas::parse_command(payload, "gw-fuzz");
  if (holds_nul(payload)) {
    SWAS_FUZZ_CHECK(!std::holds_alternative<swas::StopCommand>(parsed), "accepted a payload holding U+0000");
    if (const auto* r = std::get_if<swas::CommandRejection>(&parsed))
      SWAS_FUZZ_CHECK(!r->id, "echoed id \"" + *r->id + "\" from a payload holding U+0000");
  }
  if (const auto* cmd = std::get_if<swas::StopCommand>(&parsed)) {
    check_command(*cmd, size);
  } else if (const auto* rejection = std::get_if<swas::CommandRejection>(&parsed)) {
    check_rejection(*rejection);
  } else {
    SWAS_FUZZ_CHECK(std::get<swas::NotACommand>(parsed).type != "command", "type \"command\" ignored");
  }
  // Deterministic: the same payload always gets the same answer (retries rely on it).
  const swas::ParsedCommand again = swas::parse_command(payload, "gw-fuzz");
  SWAS_FUZZ_CHECK(again.index() == parsed.index(), "a second parse decided differently");
  if (const auto* cmd = std::get_if<swas::StopCommand>(&parsed))
    SWAS_FUZZ_CHECK(std::get<swas::StopCommand>(again).client_token == cmd->client_token, "unstable ClientToken");
  return 0;
}
