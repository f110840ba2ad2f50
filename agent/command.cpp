// Command validation: every rule of contract §3, in the order a sender would fix them.
#include "command.hpp"

#include <cjson/cJSON.h>

#include <cstring>
#include <memory>

#include "json_text.hpp"
#include "limits.hpp"
#include "signer.hpp"
#include "time_format.hpp"

namespace swas {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

CommandRejection reject(std::optional<std::string> id, AgentError code, std::string message) {
  return CommandRejection{std::move(id), code, std::move(message)};
}

bool is_region_id(std::string_view s) {
  if (s.empty() || s.size() > limits::kMaxRegionIdChars) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

const char* duplicate_key(const cJSON* object) {
  for (const cJSON* a = object->child; a != nullptr; a = a->next)
    for (const cJSON* b = a->next; b != nullptr; b = b->next)
      if (a->string && b->string && std::strcmp(a->string, b->string) == 0) return a->string;
  return nullptr;
}

// Looks up an optional string member: absent -> nullopt; wrong type -> sets `wrong_type`.
std::optional<std::string> string_member(const cJSON* object, const char* name, bool& wrong_type) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, name);
  if (item == nullptr) return std::nullopt;
  if (!cJSON_IsString(item) || item->valuestring == nullptr) {
    wrong_type = true;
    return std::nullopt;
  }
  return std::string(item->valuestring);
}

// Reads id, the first thing every rejection wants to echo.
std::variant<std::string, CommandRejection> read_id(const cJSON* object) {
  bool wrong_type = false;
  auto id = string_member(object, "id", wrong_type);
  if (wrong_type) return reject(std::nullopt, AgentError::InvalidCommand, "id must be a string");
  if (!id) return reject(std::nullopt, AgentError::InvalidCommand, "id is required");
  if (!is_printable_ascii(*id, limits::kMaxCommandIdChars))
    return reject(std::nullopt, AgentError::InvalidCommand,
                  "id must be 1-128 printable ASCII characters");
  return *id;
}

bool is_instance_id(std::string_view s) {
  return !s.empty() && s.size() <= limits::kMaxInstanceIdChars && is_clean_utf8(s);
}

// InstanceIds (1..100 distinct ids, each an InstanceId) and ForceStop (docs/contract.md, "Many
// instances in one command"), checked at the place of InstanceId: their types with the other
// fields' types (step 7), then their values (step 9, after the missing fields of step 8).
std::optional<CommandRejection> check_many_types(const cJSON* ids, const cJSON* force, const StopCommand& cmd) {
  if (ids && !cJSON_IsArray(ids)) return reject(cmd.id, AgentError::InvalidCommand, "InstanceIds must be an array of strings");
  if (ids)
    for (const cJSON* item = ids->child; item; item = item->next)
      if (!cJSON_IsString(item) || !item->valuestring)
        return reject(cmd.id, AgentError::InvalidCommand, "InstanceIds must be an array of strings");
  if (force && !cJSON_IsBool(force)) return reject(cmd.id, AgentError::InvalidCommand, "ForceStop must be true or false");
  return std::nullopt;
}

// The values of InstanceIds (present and of the right type) into `cmd`.
std::optional<CommandRejection> read_many(const cJSON* ids, const cJSON* force, StopCommand& cmd) {
  const int n = cJSON_GetArraySize(ids);
  if (n == 0 || n > static_cast<int>(limits::kMaxInstanceIdsPerCommand))
    return reject(cmd.id, AgentError::InvalidParameter,
                  "InstanceIds must list 1-" + std::to_string(limits::kMaxInstanceIdsPerCommand) + " instances (it lists " +
                      std::to_string(n) + ")");
  int position = 0;
  for (const cJSON* item = ids->child; item; item = item->next, ++position) {
    const std::string id = item->valuestring;
    if (!is_instance_id(id))
      return reject(cmd.id, AgentError::InvalidParameter,
                    "InstanceIds[" + std::to_string(position) +
                        "] must be 1-256 bytes of UTF-8 text without control characters");
    for (const auto& earlier : cmd.instance_ids)
      if (earlier == id) return reject(cmd.id, AgentError::InvalidParameter, "InstanceIds lists " + id + " twice");
    cmd.instance_ids.push_back(id);
  }
  cmd.force_stop = force && cJSON_IsTrue(force);
  return std::nullopt;
}

std::variant<StopCommand, CommandRejection> read_stop_fields(const cJSON* object, StopCommand cmd,
                                                              std::string_view gateway_id) {
  bool wrong = false;
  auto instance = string_member(object, "InstanceId", wrong);
  if (wrong) return reject(cmd.id, AgentError::InvalidCommand, "InstanceId must be a string");
  const cJSON* ids = cJSON_GetObjectItemCaseSensitive(object, "InstanceIds");
  const cJSON* force = cJSON_GetObjectItemCaseSensitive(object, "ForceStop");
  if (auto r = check_many_types(ids, force, cmd)) return std::move(*r);
  auto region = string_member(object, "RegionId", wrong);
  if (wrong) return reject(cmd.id, AgentError::InvalidCommand, "RegionId must be a string");
  auto token = string_member(object, "ClientToken", wrong);
  if (wrong) return reject(cmd.id, AgentError::InvalidCommand, "ClientToken must be a string");
  auto expires = string_member(object, "expiresAt", wrong);
  if (wrong) return reject(cmd.id, AgentError::InvalidCommand, "expiresAt must be a string");

  if (ids && instance)
    return reject(cmd.id, AgentError::InvalidParameter, "give InstanceId or InstanceIds, not both");
  if (!ids && (!instance || instance->empty()))
    return reject(cmd.id, AgentError::MissingParameter, "InstanceId is required");
  if (!region || region->empty())
    return reject(cmd.id, AgentError::MissingParameter, "RegionId is required");
  if (ids) {
    if (auto r = read_many(ids, force, cmd)) return std::move(*r);
  } else if (force) {
    return reject(cmd.id, AgentError::InvalidParameter,
                  "ForceStop needs InstanceIds (the StopInstance API has no force stop): send \"InstanceIds\": [\"…\"]");
  } else if (!is_instance_id(*instance)) {
    return reject(cmd.id, AgentError::InvalidParameter,
                  "InstanceId must be at most 256 bytes of UTF-8 text without control characters");
  }
  if (!is_region_id(*region))
    return reject(cmd.id, AgentError::InvalidParameter,
                  "RegionId must be 1-64 characters of a-z, 0-9 and -");
  if (token && !token->empty() && !is_printable_ascii(*token, limits::kMaxClientTokenChars))
    return reject(cmd.id, AgentError::InvalidParameter,
                  "ClientToken must be at most 64 printable ASCII characters");

  if (expires) {
    std::int64_t ms = 0;
    if (!parse_rfc3339_utc_ms(*expires, ms))
      return reject(cmd.id, AgentError::InvalidParameter,
                    "expiresAt must be an RFC 3339 UTC time such as 2026-11-26T10:00:00Z");
    cmd.expires_at_ms = ms;
  }
  if (!cmd.many()) cmd.instance_id = std::move(*instance);
  cmd.region_id = std::move(*region);
  if (token && !token->empty()) {
    cmd.client_token = std::move(*token);
  } else {
    cmd.client_token = derive_client_token(gateway_id, cmd.id);
    cmd.client_token_derived = true;
  }
  return cmd;
}

std::size_t member_count(const cJSON* object, const char* name) {
  std::size_t n = 0;
  for (const cJSON* item = object->child; item != nullptr; item = item->next)
    if (item->string && std::strcmp(item->string, name) == 0) ++n;
  return n;
}

ParsedCommand parse_object(const cJSON* object, std::string_view gateway_id) {
  bool wrong = false;
  // Only one "type" can say what a payload is. Two are ambiguous (the first is not more right than
  // the last), so such a payload is not ignored as another type: it goes on as a command and is
  // refused for its duplicate key below, with an answer.
  if (member_count(object, "type") < 2) {
    auto type = string_member(object, "type", wrong);
    if (wrong) return reject(std::nullopt, AgentError::InvalidCommand, "type must be a string");
    if (type && *type != "command") return NotACommand{*type};
  }

  auto id_or = read_id(object);
  if (auto* r = std::get_if<CommandRejection>(&id_or)) return *r;
  StopCommand cmd;
  cmd.id = std::get<std::string>(std::move(id_or));

  if (const char* dup = duplicate_key(object))
    return reject(cmd.id, AgentError::InvalidCommand,
                  std::string("duplicate key \"") + dup + "\" is ambiguous");

  auto action = string_member(object, "action", wrong);
  if (wrong) return reject(cmd.id, AgentError::InvalidCommand, "action must be a string");
  if (!action) return reject(cmd.id, AgentError::InvalidCommand, "action is required");
  if (*action != "StopInstance")
    return reject(cmd.id, AgentError::UnsupportedAction,
                  "action \"" + *action + "\" is not supported; supported: StopInstance");
  cmd.action = std::move(*action);

  auto result = read_stop_fields(object, std::move(cmd), gateway_id);
  if (auto* r = std::get_if<CommandRejection>(&result)) return std::move(*r);
  return std::get<StopCommand>(std::move(result));
}

bool only_whitespace(const char* p, const char* end) {
  for (; p < end; ++p)
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return false;
  return true;
}

}  // namespace

bool is_printable_ascii(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

bool is_clean_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; }
    else return false;
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return false;
    i += len;
  }
  return true;
}

std::string derive_client_token(std::string_view gateway_id, std::string_view command_id) {
  std::string material = "swas-agent/client-token/v1\n";
  material.append(gateway_id).push_back('\n');
  material.append(command_id);
  const std::string h = sha256_hex(material);
  // 8-4-4-4-12 over the first 128 bits.
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

ParsedCommand parse_command(std::string_view payload, std::string_view gateway_id) {
  if (payload.size() > limits::kMaxCommandBytes)
    return reject(std::nullopt, AgentError::InvalidCommand,
                  "payload of " + std::to_string(payload.size()) + " bytes is over the " +
                      std::to_string(limits::kMaxCommandBytes) + "-byte limit");
  if (json_has_nul(payload))
    return reject(std::nullopt, AgentError::InvalidCommand, "payload holds a NUL character (U+0000)");
  if (json_nesting_depth(payload) > limits::kMaxJsonDepth)
    return reject(std::nullopt, AgentError::InvalidCommand,
                  "payload nests objects and arrays more than " + std::to_string(limits::kMaxJsonDepth) +
                      " levels deep");
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(payload.data(), payload.size(), &end, 0), &cJSON_Delete);
  if (!root) return reject(std::nullopt, AgentError::InvalidCommand, "payload is not valid JSON");
  if (end != nullptr && !only_whitespace(end, payload.data() + payload.size()))
    return reject(std::nullopt, AgentError::InvalidCommand, "payload has data after the JSON value");
  if (!cJSON_IsObject(root.get()))
    return reject(std::nullopt, AgentError::InvalidCommand, "payload is not a JSON object");
  return parse_object(root.get(), gateway_id);
}

}  // namespace swas
