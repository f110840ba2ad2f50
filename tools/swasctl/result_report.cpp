// Building the command payload and turning a result into text, with cJSON.
#include "result_report.hpp"

#include "command_policy.hpp"
#include "limits.hpp"
#include "status_report.hpp"  // printable

#include <cjson/cJSON.h>

#include <memory>
#include <vector>
#include <utility>

namespace swasctl {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

JsonPtr parse(std::string_view text) {
  return JsonPtr(cJSON_ParseWithLength(text.data(), text.size()), &cJSON_Delete);
}

std::string string_at(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) && item->valuestring ? item->valuestring : "";
}

// "403", or "" when absent.
std::string status_at(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(item)) return "";
  return std::to_string(static_cast<long long>(item->valuedouble));
}

const std::pair<const char*, const char*> kHints[] = {
    {"IncorrectInstanceStatus",
     "the instance is not Running (already stopped or stopping?); check its state in the console"},
    {"InvalidInstanceId.NotFound", "no such instance in that region: check --instance and --region"},
    {"CloudUnreachable",
     "the gateway could not reach the cloud (network, DNS, proxy or TLS) and gave up retrying; fix that, then "
     "send a new command (a new --id: the agent answers a known id with its recorded result)"},
    {"Busy", "the gateway's command queue is full; retry in a few seconds with the same --id"},
    {"InvalidParameter",
     "a parameter is malformed: RegionId is a-z 0-9 -, ClientToken at most 64 ASCII characters, each --instance "
     "at most 256 characters (the message names the one)"},
    {"MissingParameter", "InstanceId and RegionId are both required"},
    {"Forbidden", "the gateway's RAM user is not allowed swas-open:StopInstance on this instance; grant it in RAM"},
    {"Throttled", "the cloud is throttling requests; wait a little, then send a new command"},
    {"Throttling", "the cloud is throttling requests; wait a little, then send a new command"},
    {"RateLimited",
     "the gateway waited for the cloud's rate limit until the command expired and did not send it; send a new "
     "command (a new --id) with a longer --timeout and --expires, or stop several instances in one command"},
    {"CredentialsMissing",
     "the gateway has no Alibaba Cloud credentials: provide credentials_file (mode 600) and restart the agent"},
    {"SignatureDoesNotMatch", "the gateway's AccessKey secret is wrong (or a proxy altered the request)"},
    {"InvalidAccessKeyId.NotFound", "the gateway's AccessKeyId does not exist or is disabled"},
    {"InvalidTimeStamp.Expired", "the gateway's clock is more than 15 minutes off; enable NTP on it"},
    {"IdempotentParameterMismatch", "this ClientToken was used before with other parameters; use a new --id"},
    {"InvalidCloudResponse",
     "the cloud's answer was unreadable and the stop may have happened: check the instance before a new command"},
    {"CommandExpired",
     "the command expired before it started (the gateway was offline or busy); unless the message says it may "
     "have been sent, the cloud was not called: send a new command if it is still wanted"},
    {"InvalidCommand", "the agent could not read the command; is the gateway's agent a compatible version?"},
    {"UnsupportedAction", "the gateway's agent does not support this action"},
};

void append_line(std::string& text, const std::string& line) { text += line + "\n"; }

std::string describe_error(const cJSON* error) {
  const std::string source = string_at(error, "source");
  const std::string status = status_at(error, "HttpStatus");
  const std::string code = string_at(error, "Code");
  const std::string message = string_at(error, "Message");
  const std::string request_id = string_at(error, "RequestId");
  std::string line = "FAILED  " + (source.empty() ? std::string("?") : source);
  if (!status.empty()) line += " " + status;
  line += " " + (code.empty() ? std::string("(no Code)") : code);
  if (!message.empty()) line += ": " + message;
  if (!request_id.empty()) line += " (RequestId " + request_id + ")";
  std::string text;
  append_line(text, line);
  if (auto hint = hint_for(code)) append_line(text, "hint: " + *hint);
  return text;
}

// The string members of the array `key`, or nullopt when it is absent or not an array.
std::optional<std::vector<std::string>> strings_at(const cJSON* obj, const char* key) {
  const cJSON* array = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsArray(array)) return std::nullopt;
  std::vector<std::string> out;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, array) {
    out.push_back(cJSON_IsString(item) && item->valuestring ? item->valuestring : "?");
  }
  return out;
}

// "    command c-1, InstanceId i-1, RegionId cn-hangzhou, ClientToken tok"; for InstanceIds
// "    command c-1, 3 instances, RegionId …, ClientToken …, ForceStop true" and then the
// instances, one line: "    InstanceIds i-1 i-2 i-3".
std::string describe_subject(const cJSON* root) {
  const std::string instance = string_at(root, "InstanceId");
  const auto instances = strings_at(root, "InstanceIds");
  const std::string region = string_at(root, "RegionId");
  const std::string token = string_at(root, "ClientToken");
  const cJSON* force = cJSON_GetObjectItemCaseSensitive(root, "ForceStop");
  std::string line = "    command " + string_at(root, "id");
  if (!instance.empty()) line += ", InstanceId " + instance;
  if (instances)
    line += ", " + std::to_string(instances->size()) + (instances->size() == 1 ? " instance" : " instances");
  if (!region.empty()) line += ", RegionId " + region;
  if (!token.empty()) line += ", ClientToken " + token;
  if (cJSON_IsBool(force)) line += std::string(", ForceStop ") + (cJSON_IsTrue(force) ? "true" : "false");
  if (instances && !instances->empty()) {
    line += "\n    InstanceIds";
    for (const std::string& id : *instances) line += " " + printable(id, 256);
  }
  return line;
}

}  // namespace

std::string build_stop_command(const StopOptions& o, const std::string& id) {
  JsonPtr root(cJSON_CreateObject(), &cJSON_Delete);
  cJSON_AddStringToObject(root.get(), "type", "command");
  cJSON_AddStringToObject(root.get(), "id", id.c_str());
  cJSON_AddStringToObject(root.get(), "action", "StopInstance");
  const std::string single = o.instances.empty() ? std::string() : o.instances.front();
  if (o.uses_instance_ids()) {
    cJSON* ids = cJSON_AddArrayToObject(root.get(), "InstanceIds");
    for (const std::string& instance : o.instances) cJSON_AddItemToArray(ids, cJSON_CreateString(instance.c_str()));
  } else {
    cJSON_AddStringToObject(root.get(), "InstanceId", single.c_str());
  }
  cJSON_AddStringToObject(root.get(), "RegionId", o.region.c_str());
  if (o.force) cJSON_AddTrueToObject(root.get(), "ForceStop");
  if (!o.client_token.empty()) cJSON_AddStringToObject(root.get(), "ClientToken", o.client_token.c_str());
  if (!o.command_key.empty() && !o.uses_instance_ids()) {
    // The agent's authenticated-command form (docs/security.md): HMAC-SHA256 over the canonical form.
    const swas::SignedFields f{id, "StopInstance", single, o.region, o.client_token, o.issued_at, ""};
    cJSON_AddStringToObject(root.get(), "issuedAt", o.issued_at.c_str());
    cJSON_AddStringToObject(root.get(), "signature", swas::command_signature(o.command_key, o.gateway, f).c_str());
  }
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(root.get()), &cJSON_free);
  return text ? std::string(text.get()) : std::string();
}

std::optional<std::string> command_size_problem(std::string_view payload) {
  if (payload.size() <= swas::limits::kMaxCommandBytes) return std::nullopt;
  return "the command is " + std::to_string(payload.size()) + " bytes, over the gateway's limit of " +
         std::to_string(swas::limits::kMaxCommandBytes) +
         " (docs/contract.md): give fewer --instance options per command";
}

bool is_result_for(std::string_view payload, std::string_view id) {
  const JsonPtr root = parse(payload);
  if (!cJSON_IsObject(root.get()) || string_at(root.get(), "type") != "result") return false;
  const cJSON* got = cJSON_GetObjectItemCaseSensitive(root.get(), "id");
  return cJSON_IsString(got) && got->valuestring && id == got->valuestring;
}

int exit_code_for(std::string_view payload) {
  const JsonPtr root = parse(payload);
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root.get(), "ok")) ? kExitOk : kExitFailed;
}

ResultReport describe_result(std::string_view payload) {
  const JsonPtr root = parse(payload);
  ResultReport report;
  if (!cJSON_IsObject(root.get())) {
    report.text = "FAILED  unreadable result: " + std::string(payload.substr(0, 200)) + "\n";
    return report;
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root.get(), "ok"))) {
    report.exit_code = kExitOk;
    append_line(report.text, "OK  RequestId " + string_at(root.get(), "RequestId"));
  } else {
    report.text = describe_error(cJSON_GetObjectItemCaseSensitive(root.get(), "error"));
  }
  append_line(report.text, describe_subject(root.get()));
  return report;
}

std::optional<std::string> hint_for(std::string_view code) {
  for (const auto& [known, hint] : kHints) {
    const std::string_view k(known);
    if (code == k || (code.size() > k.size() && code.substr(0, k.size()) == k && code[k.size()] == '.'))
      return std::string(hint);
  }
  return std::nullopt;
}

}  // namespace swasctl
