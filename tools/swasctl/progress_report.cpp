// Reading progress messages with cJSON and turning them into lines.
#include "progress_report.hpp"

#include <cjson/cJSON.h>

#include <cmath>
#include <memory>

#include "cli.hpp"               // format_duration
#include "command.hpp"           // is_printable_ascii
#include "lifecycle_report.hpp"  // kMaxLifecyclePayload, parse_strict
#include "status_report.hpp"     // printable

namespace swasctl {
namespace {

constexpr std::size_t kMaxWordLength = 64;
constexpr std::size_t kMaxMessageShown = 1000;
constexpr double kMaxWaitMs = 1e12;


bool is_word(const cJSON* item) {
  return cJSON_IsString(item) && item->valuestring && swas::is_printable_ascii(item->valuestring, kMaxWordLength);
}

// 24000 -> "24 s", 300 -> "1 s", 90000 -> "90 s": whole seconds, rounded up.
std::string about_seconds(long long ms) { return std::to_string(ms <= 0 ? 0 : (ms + 999) / 1000) + " s"; }

}  // namespace

std::optional<ProgressMessage> parse_progress(std::string_view payload, std::string_view id) {
  if (payload.empty() || payload.size() > kMaxLifecyclePayload) return std::nullopt;
  const JsonPtr root = parse_strict(payload);
  const cJSON* r = root.get();
  if (!cJSON_IsObject(r)) return std::nullopt;
  const cJSON* type = cJSON_GetObjectItemCaseSensitive(r, "type");
  if (!cJSON_IsString(type) || !type->valuestring || std::string_view(type->valuestring) != "progress")
    return std::nullopt;
  const cJSON* got_id = cJSON_GetObjectItemCaseSensitive(r, "id");
  if (!cJSON_IsString(got_id) || !got_id->valuestring || id != got_id->valuestring) return std::nullopt;
  ProgressMessage m;
  const cJSON* stage = cJSON_GetObjectItemCaseSensitive(r, "stage");
  if (!is_word(stage)) return std::nullopt;
  m.stage = stage->valuestring;
  const cJSON* action = cJSON_GetObjectItemCaseSensitive(r, "action");
  if (action) {
    if (!is_word(action)) return std::nullopt;
    m.action = action->valuestring;
  }
  const cJSON* wait = cJSON_GetObjectItemCaseSensitive(r, "waitMs");
  if (wait && !cJSON_IsNull(wait)) {
    if (!cJSON_IsNumber(wait) || !std::isfinite(wait->valuedouble) || wait->valuedouble < 0 ||
        wait->valuedouble > kMaxWaitMs)
      return std::nullopt;
    m.wait_ms = static_cast<long long>(wait->valuedouble);
  }
  const cJSON* message = cJSON_GetObjectItemCaseSensitive(r, "Message");
  if (message) {
    if (!cJSON_IsString(message) || !message->valuestring) return std::nullopt;
    m.message = printable(message->valuestring, kMaxMessageShown);
  }
  return m;
}

std::string describe_progress(const ProgressMessage& m, std::chrono::milliseconds left,
                              std::chrono::milliseconds timeout, std::chrono::milliseconds expires) {
  std::string text;
  const bool rate_limited = m.stage == "RateLimited";
  if (rate_limited) {
    text = "QUEUED  for the cloud's rate limit";
    if (!m.action.empty()) text += " of " + m.action;
    text += m.wait_ms >= 0 ? ": the gateway sends the stop in about " + about_seconds(m.wait_ms)
                           : ": the wait is not known yet (the gateway's words below say why)";
  } else {
    text = "PROGRESS  " + m.stage;
    if (!m.action.empty()) text += " (" + m.action + ")";
    if (m.wait_ms >= 0) text += ", about " + about_seconds(m.wait_ms);
  }
  text += "\n";
  if (!m.message.empty()) text += "    " + m.message + "\n";
  if (rate_limited && (m.wait_ms < 0 || m.wait_ms > left.count())) {
    text += "hint: swasctl waits for the result " + about_seconds(left.count()) + " more (--timeout " +
            format_duration(timeout) + "; progress does not extend it), and the command expires unsent " +
            format_duration(expires) + " after it was sent (--expires): under a rate limit give both more time, " +
            "or stop several instances in one command\n";
  }
  return text;
}

}  // namespace swasctl
