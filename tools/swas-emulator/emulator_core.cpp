// The API path: faults, then the gateway's checks in its order, then the product.
#include "emulator_core.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <memory>

#include "emulator_limits.hpp"
#include "emulator_time.hpp"

namespace swas::emulator {
namespace {

constexpr const char* kStopInstance = "StopInstance";
constexpr const char* kStopInstances = "StopInstances";
constexpr const char* kListInstanceStatus = "ListInstanceStatus";
constexpr const char* kVersion = "2020-06-01";

std::string header_or_empty(const HttpRequest& request, std::string_view name) {
  const std::string* value = find_header(request.headers, name);
  return value != nullptr ? *value : std::string();
}

std::string query_or_empty(const std::vector<QueryParam>& query, std::string_view name) {
  for (const auto& p : query)
    if (p.first == name) return p.second;
  return {};
}

ApiError missing_parameter(std::string_view name) {
  return {400, "MissingParameter",
          "The input parameter \"" + std::string(name) +
              "\" that is mandatory for processing this request is not supplied."};
}

ApiError fault_error(const Faults& faults) {
  if (faults.status == 503)
    return {503, "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server."};
  if (faults.status == 429)
    return {429, "Throttling", "Request was denied due to request throttling."};
  return {500, "InternalError", "An error occurred while processing your request."};
}

ApiError invalid_parameter(std::string_view name, std::string_view detail = "") {
  std::string message = "The specified parameter \"" + std::string(name) + "\" is not valid.";
  if (!detail.empty()) message += " " + std::string(detail);
  return {400, "InvalidParameter", message};
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) > 0x7F) return false;
  return true;
}

// A decimal integer in [1, max] written with digits only ("07" is fine, "+7", "7.0" are not).
bool parse_positive(std::string_view text, std::int64_t max, std::int64_t& out) {
  if (text.empty() || text.size() > 12) return false;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > max) return false;
  out = value;
  return true;
}

// InstanceIds: a JSON array of strings (nothing after it but whitespace, no NUL), at most
// `max_ids` of them.
bool parse_instance_ids(const std::string& text, std::size_t max_ids,
                        std::vector<std::string>& out) {
  if (text.find('\0') != std::string::npos) return false;  // cJSON would stop reading there
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(
      cJSON_ParseWithOpts(text.c_str(), nullptr, 1), &cJSON_Delete);
  if (!root || !cJSON_IsArray(root.get()) ||
      cJSON_GetArraySize(root.get()) > static_cast<int>(max_ids))
    return false;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, root.get()) {
    if (!cJSON_IsString(item)) return false;
    out.emplace_back(item->valuestring);
  }
  return true;
}

}  // namespace

EmulatorCore::EmulatorCore(EmulatorConfig config, std::uint64_t random_seed)
    : credentials_(std::move(config.credentials)),
      stop_delay_ms_(config.stop_delay_ms),
      faults_(config.faults),
      nonces_(kMaxRememberedNonces, kNonceMemoryMs),
      client_tokens_(kMaxRememberedClientTokens),
      request_ids_(random_seed) {
  quotas_.configure(std::move(config.quotas));
  for (const auto& spec : config.instances) upsert_instance(spec);
}

EmulatorReply EmulatorCore::handle(const HttpRequest& request, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string path;
  std::vector<QueryParam> ignored;
  parse_target(request.target, path, ignored);
  if (path == "/" && (request.method == "POST" || request.method == "GET"))
    return handle_api(request, now_ms);
  if (path.rfind("/__emulator/", 0) == 0) return handle_admin(request, path, now_ms);
  ApiCall call;
  call.host_id = header_or_empty(request, "host");
  return error_reply(call,
                     {404, "InvalidAction.NotFound",
                      "Specified api is not found, please check your url and method."},
                     now_ms);
}

EmulatorReply EmulatorCore::handle_api(const HttpRequest& request, std::int64_t now_ms) {
  ++api_requests_;
  ApiCall call = read_call(request);
  count_action(call.action);
  if (auto faulted = apply_faults(call, now_ms)) return *faulted;
  EmulatorReply reply;
  if (auto error = check_gateway(call, now_ms)) {
    reply = error_reply(call, *error, now_ms);
    record(call, reply.response.status, reply.code);
  } else if (auto throttled = apply_quota(call, now_ms)) {
    reply = std::move(*throttled);
    record(call, reply.response.status, reply.code);
  } else if (call.action == kStopInstance) {
    reply = stop_instance(call, now_ms);  // records for itself
  } else if (call.action == kStopInstances) {
    reply = stop_instances(call, now_ms);  // records for itself
  } else {
    reply = list_instance_status(call, now_ms);  // records for itself
  }
  reply.delay_ms = faults_.delay_ms;
  return reply;
}

EmulatorCore::ApiCall EmulatorCore::read_call(const HttpRequest& request) const {
  ApiCall call;
  call.request = &request;
  call.host_id = header_or_empty(request, "host");
  call.query_ok = parse_target(request.target, call.path, call.query);
  call.action = header_or_empty(request, "x-acs-action");
  call.version = header_or_empty(request, "x-acs-version");
  call.date = header_or_empty(request, "x-acs-date");
  call.nonce = header_or_empty(request, "x-acs-signature-nonce");
  call.instance_id = query_or_empty(call.query, "InstanceId");
  call.region_id = query_or_empty(call.query, "RegionId");
  call.client_token = query_or_empty(call.query, "ClientToken");
  call.instance_ids_text = query_or_empty(call.query, "InstanceIds");
  call.force_stop_text = query_or_empty(call.query, "ForceStop");
  return call;
}

void EmulatorCore::count_action(const std::string& action) {
  const std::string name = action.empty() ? "(none)" : action;
  auto it = actions_.find(name);
  if (it == actions_.end())
    it = actions_.try_emplace(actions_.size() < kMaxActionNames ? name : "(other)", 0).first;
  ++it->second;
}

std::optional<EmulatorReply> EmulatorCore::apply_faults(const ApiCall& call, std::int64_t now_ms) {
  if (faults_.drop_count > 0) {
    --faults_.drop_count;
    record(call, 0, "ConnectionDropped");
    EmulatorReply reply;
    reply.drop_connection = true;
    reply.code = "ConnectionDropped";
    return reply;
  }
  if (faults_.count <= 0) return std::nullopt;
  --faults_.count;
  EmulatorReply reply = error_reply(call, fault_error(faults_), now_ms);
  if (faults_.status == 429 && faults_.retry_after_ms > 0)
    reply.response.headers.push_back({"x-acs-retry-after", std::to_string(faults_.retry_after_ms)});
  reply.delay_ms = faults_.delay_ms;
  record(call, reply.response.status, reply.code);
  return reply;
}

EmulatorCore::MaybeError EmulatorCore::check_gateway(ApiCall& call, std::int64_t now_ms) {
  if (auto e = check_authorization(call)) return e;
  if (auto e = check_access_key(call)) return e;
  if (auto e = check_timestamp(call, now_ms)) return e;
  if (auto e = check_signature(call)) return e;
  if (auto e = check_security_token(call)) return e;
  if (auto e = check_nonce(call, now_ms)) return e;
  if (auto e = check_api(call)) return e;
  return check_parameters(call);
}

EmulatorCore::MaybeError EmulatorCore::check_authorization(ApiCall& call) const {
  const std::string* authorization = find_header(call.request->headers, "authorization");
  // With no V3 Authorization the gateway falls back to the older scheme, which then misses
  // its AccessKeyId parameter: that is the code the real cloud answers.
  if (authorization == nullptr || authorization->empty())
    return ApiError{400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action."};
  if (!parse_authorization(*authorization, call.auth))
    return ApiError{400, "IncompleteSignature",
                    "The request signature does not conform to Aliyun standards."};
  for (const char* name : {"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                           "x-acs-content-sha256"}) {
    const std::string* value = find_header(call.request->headers, name);
    if (value == nullptr || value->empty()) return missing_parameter(name);
  }
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_access_key(ApiCall& call) const {
  for (const auto& credential : credentials_)
    if (credential.access_key_id == call.auth.access_key_id) call.credential = &credential;
  if (call.credential == nullptr)
    return ApiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."};
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_timestamp(const ApiCall& call,
                                                       std::int64_t now_ms) const {
  std::int64_t date_s = 0;
  if (!parse_acs_date(call.date, date_s))
    return ApiError{400, "InvalidTimeStamp.Format",
                    "Specified time stamp or date value is not well formatted."};
  const std::int64_t skew_ms = date_s * 1000 - now_ms;
  if (skew_ms > kMaxClockSkewMs || skew_ms < -kMaxClockSkewMs)
    return ApiError{400, "InvalidTimeStamp.Expired",
                    "Specified time stamp or date value is expired."};
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_signature(const ApiCall& call) const {
  if (!call.query_ok)
    return ApiError{400, "InvalidParameter", "The query string has a malformed %-escape."};
  const SignatureCheck check = verify_signature(*call.request, call.path, call.query, call.auth,
                                                call.credential->access_key_secret);
  if (check.ok) return std::nullopt;
  std::string message = "Specified signature is not matched with our calculation.";
  if (check.server_string_to_sign.empty())
    message += " SignedHeaders must list host and every x-acs-* header sent.";
  else
    message += " server string to sign is:" + check.server_string_to_sign;
  return ApiError{400, "SignatureDoesNotMatch", message};
}

EmulatorCore::MaybeError EmulatorCore::check_security_token(const ApiCall& call) const {
  const std::string sent = header_or_empty(*call.request, "x-acs-security-token");
  const std::string& expected = call.credential->security_token;
  if (!expected.empty() && sent.empty())
    return ApiError{400, "MissingSecurityToken", "SecurityToken is mandatory for this action."};
  // A long-term key sent with a token is refused too: it means the client mixed credentials.
  if (!sent.empty() && (expected.empty() || !constant_time_equal(sent, expected)))
    return ApiError{400, "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey."};
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_nonce(const ApiCall& call, std::int64_t now_ms) {
  if (nonces_.seen(call.nonce, now_ms))
    return ApiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."};
  nonces_.remember(call.nonce, now_ms);
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_api(const ApiCall& call) const {
  if (call.action != kStopInstance && call.action != kStopInstances &&
      call.action != kListInstanceStatus)
    return ApiError{404, "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method."};
  if (call.version != kVersion)
    return ApiError{400, "InvalidVersion", "Specified parameter Version is not valid."};
  return std::nullopt;
}

EmulatorCore::MaybeError EmulatorCore::check_parameters(ApiCall& call) const {
  if (call.action == kListInstanceStatus) return check_list_parameters(call);
  if (call.action == kStopInstances) return check_stop_instances_parameters(call);
  if (call.instance_id.empty()) return missing_parameter("InstanceId");
  if (call.region_id.empty()) return missing_parameter("RegionId");
  if (call.client_token.size() > kMaxClientTokenChars || !is_ascii(call.client_token))
    return invalid_parameter("ClientToken");
  return std::nullopt;
}

// Empty values count as absent, as for every optional parameter here.
EmulatorCore::MaybeError EmulatorCore::check_list_parameters(ApiCall& call) const {
  if (call.region_id.empty()) return missing_parameter("RegionId");
  if (!call.instance_ids_text.empty() &&
      !parse_instance_ids(call.instance_ids_text, kMaxListInstanceIds, call.instance_ids))
    return invalid_parameter("InstanceIds",
                             "It must be a JSON array of at most 100 instance ids (strings).");
  call.page_number = 1;
  const std::string page_number = query_or_empty(call.query, "PageNumber");
  if (!page_number.empty() && !parse_positive(page_number, kMaxPageNumber, call.page_number))
    return invalid_parameter("PageNumber", "It must be a whole number from 1.");
  call.page_size = kDefaultPageSize;
  const std::string page_size = query_or_empty(call.query, "PageSize");
  if (!page_size.empty() && !parse_positive(page_size, kMaxPageSize, call.page_size))
    return invalid_parameter("PageSize", "It must be a whole number from 1 to 100.");
  return std::nullopt;
}

// InstanceIds is required and names 1..100 instances; ForceStop is "true" or "false" (absent or
// empty: false).
EmulatorCore::MaybeError EmulatorCore::check_stop_instances_parameters(ApiCall& call) const {
  if (call.instance_ids_text.empty()) return missing_parameter("InstanceIds");
  if (call.region_id.empty()) return missing_parameter("RegionId");
  const bool ids_ok =
      parse_instance_ids(call.instance_ids_text, kMaxStopInstanceIds, call.instance_ids) &&
      !call.instance_ids.empty() &&
      std::none_of(call.instance_ids.begin(), call.instance_ids.end(),
                   [](const std::string& id) { return id.empty(); });
  if (!ids_ok)
    return invalid_parameter(
        "InstanceIds", "It must be a JSON array of 1 to 100 instance ids (non-empty strings).");
  if (call.force_stop_text == "true")
    call.force_stop = true;
  else if (!call.force_stop_text.empty() && call.force_stop_text != "false")
    return invalid_parameter("ForceStop", "It must be true or false.");
  if (call.client_token.size() > kMaxClientTokenChars || !is_ascii(call.client_token))
    return invalid_parameter("ClientToken");
  return std::nullopt;
}

// Authenticated, well-formed calls only: the gateway's checks have all passed. A throttled call
// changes nothing (no ClientToken is remembered); its nonce is spent like any checked request's.
std::optional<EmulatorReply> EmulatorCore::apply_quota(const ApiCall& call, std::int64_t now_ms) {
  const QuotaLimiter::Decision decision =
      quotas_.admit(call.action, call.credential->access_key_id, now_ms);
  if (decision.allowed) return std::nullopt;
  EmulatorReply reply = error_reply(
      call, {400, "Throttling.User", "Request was denied due to user flow control."}, now_ms);
  if (quotas_.settings().retry_after)
    reply.response.headers.push_back(
        {"x-acs-retry-after", std::to_string(decision.retry_after_ms)});
  return reply;
}

EmulatorReply EmulatorCore::error_reply(const ApiCall& call, const ApiError& error,
                                        std::int64_t now_ms) {
  const std::string request_id = request_ids_.next();
  EmulatorReply reply;
  reply.response =
      json_response(error.status, error_body(request_id, call.host_id, error), request_id, now_ms);
  reply.code = error.code;
  return reply;
}

void EmulatorCore::record(const ApiCall& call, int status, const std::string& code) {
  log_.push_back({call.action, call.instance_id, call.instance_ids_text, call.region_id,
                  call.client_token, call.nonce, call.force_stop_text, status, code});
  while (log_.size() > kMaxLogEntries) log_.pop_front();
}

}  // namespace swas::emulator
