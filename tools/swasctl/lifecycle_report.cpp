// Reading lifecycle messages with cJSON and turning them into lines and an exit status.
#include "lifecycle_report.hpp"

#include <cjson/cJSON.h>

#include <cmath>
#include <memory>
#include <utility>

#include "cli.hpp"            // exit statuses
#include "command.hpp"        // is_printable_ascii
#include "json_text.hpp"      // json_has_nul
#include "status_report.hpp"  // printable

namespace swasctl {
namespace {

constexpr std::size_t kMaxWordLength = 64;      // Status and outcome
constexpr std::size_t kMaxMessageShown = 1000;  // Message and the error's fields (the agent's run to ~400)
constexpr double kMaxElapsedMs = 1e12;          // about 31 years: anything more is nonsense

std::string string_at(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) && item->valuestring ? item->valuestring : "";
}


bool has_control_character(std::string_view text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

// A Status or outcome: 1-64 printable ASCII characters.
std::optional<std::string> word_at(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(item) || !item->valuestring || !swas::is_printable_ascii(item->valuestring, kMaxWordLength))
    return std::nullopt;
  return std::string(item->valuestring);
}

// "cloud 403 Forbidden.RAM: User not authorized … (RequestId 5E1B…)"
std::string describe_error(const cJSON* error) {
  const std::string source = string_at(error, "source");
  const std::string code = string_at(error, "Code");
  const std::string message = string_at(error, "Message");
  const std::string request_id = string_at(error, "RequestId");
  std::string text = source.empty() ? "?" : printable(source, kMaxWordLength);
  const cJSON* status = cJSON_GetObjectItemCaseSensitive(error, "HttpStatus");
  if (cJSON_IsNumber(status) && status->valuedouble >= 100 && status->valuedouble < 1000)
    text += " " + std::to_string(static_cast<int>(status->valuedouble));
  text += " " + (code.empty() ? std::string("(no Code)") : printable(code, kMaxWordLength * 2));
  if (!message.empty()) text += ": " + printable(message, kMaxMessageShown);
  if (!request_id.empty()) text += " (RequestId " + printable(request_id, kMaxWordLength * 2) + ")";
  return text;
}

// 412 -> "0.4 s", 31870 -> "31.9 s"
std::string seconds_text(long long ms) {
  const long long tenths = (ms + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

JsonPtr parse_strict(std::string_view text) {
  JsonPtr none(nullptr, &cJSON_Delete);
  if (swas::json_has_nul(text)) return none;
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0), &cJSON_Delete);
  if (!root || !end) return none;
  for (const char* p = end; p < text.data() + text.size(); ++p)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return none;
  return root;
}

std::optional<LifecycleMessage> parse_lifecycle(std::string_view payload, std::string_view id) {
  if (payload.empty() || payload.size() > kMaxLifecyclePayload) return std::nullopt;
  const JsonPtr root = parse_strict(payload);
  const cJSON* r = root.get();
  if (!cJSON_IsObject(r) || string_at(r, "type") != "lifecycle") return std::nullopt;
  const cJSON* got_id = cJSON_GetObjectItemCaseSensitive(r, "id");
  if (!cJSON_IsString(got_id) || !got_id->valuestring || id != got_id->valuestring) return std::nullopt;
  LifecycleMessage m;
  m.instance_id = string_at(r, "InstanceId");
  const cJSON* final = cJSON_GetObjectItemCaseSensitive(r, "final");
  if (!cJSON_IsBool(final)) return std::nullopt;
  m.final = cJSON_IsTrue(final);
  if (m.final) {
    auto outcome = word_at(r, "outcome");
    if (!outcome) return std::nullopt;
    m.outcome = std::move(*outcome);
  }
  const cJSON* status = cJSON_GetObjectItemCaseSensitive(r, "Status");
  if (status && !cJSON_IsNull(status)) {
    auto word = word_at(r, "Status");
    if (!word) return std::nullopt;
    m.status = std::move(*word);
  }
  const cJSON* elapsed = cJSON_GetObjectItemCaseSensitive(r, "elapsedMs");
  if (elapsed) {
    if (!cJSON_IsNumber(elapsed) || !std::isfinite(elapsed->valuedouble) || elapsed->valuedouble < 0 ||
        elapsed->valuedouble > kMaxElapsedMs)
      return std::nullopt;
    m.elapsed_ms = static_cast<long long>(elapsed->valuedouble);
  }
  const cJSON* message = cJSON_GetObjectItemCaseSensitive(r, "Message");
  if (message) {
    if (!cJSON_IsString(message) || !message->valuestring) return std::nullopt;
    m.message = printable(message->valuestring, kMaxMessageShown);
  }
  const cJSON* error = cJSON_GetObjectItemCaseSensitive(r, "error");
  if (error) {
    if (!cJSON_IsObject(error)) return std::nullopt;
    m.error = describe_error(error);
  }
  return m;
}

std::string describe_lifecycle(const LifecycleMessage& m) {
  const std::string status = m.status.empty() ? std::string("?") : m.status;
  if (!m.final) return status + (m.elapsed_ms >= 0 ? " (" + seconds_text(m.elapsed_ms) + ")" : "") + "\n";
  std::string line = m.outcome;
  if (m.elapsed_ms >= 0) line += " after " + seconds_text(m.elapsed_ms);
  if (m.outcome != "Stopped" || m.status != "Stopped")
    line += m.status.empty() ? std::string(" (no Status seen)") : " (Status " + m.status + ")";
  if (!m.message.empty()) line += ": " + m.message;
  line += "\n";
  if (!m.error.empty()) line += "    error " + m.error + "\n";
  return line;
}

int exit_code_for_outcome(std::string_view outcome) {
  if (outcome == "Stopped") return kExitOk;
  if (outcome == "TimedOut") return kExitNotStopped;
  return kExitWontStop;
}

LifecycleWatch::LifecycleWatch(std::string id, bool json) : id_(std::move(id)), json_(json) {}

std::string LifecycleWatch::take(std::string_view payload) {
  if (finished_) return "";
  const auto m = parse_lifecycle(payload, id_);
  if (!m) return "";
  return take(*m, payload);
}

std::string LifecycleWatch::take(const LifecycleMessage& message, std::string_view payload) {
  if (finished_) return "";
  const LifecycleMessage* m = &message;
  heard_ = true;
  last_status_ = m->status;
  if (m->final) {
    finished_ = true;
    exit_code_ = exit_code_for_outcome(m->outcome);
  } else {
    if (last_shown_ && *last_shown_ == m->status) return "";
    if (progress_shown_ == kMaxProgressShown) {
      ++progress_shown_;
      return json_ ? "" : "(more progress not shown)\n";
    }
    if (progress_shown_ > kMaxProgressShown) return "";
    ++progress_shown_;
    last_shown_ = m->status;
  }
  if (!json_) return describe_lifecycle(*m);
  if (!has_control_character(payload)) return std::string(payload) + "\n";
  // One message per line whatever the sender's layout, and no raw control character (an escape
  // sequence inside a string) reaches the terminal: cJSON writes them as \u00XX.
  const JsonPtr root = parse_strict(payload);
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(root.get()), &cJSON_free);
  return text ? std::string(text.get()) + "\n" : std::string();
}

}  // namespace swasctl

namespace swasctl {

FollowWatch::FollowWatch(std::string id, std::vector<std::string> instances, bool json)
    : id_(std::move(id)), instances_(std::move(instances)), outcomes_(instances_.size()), json_(json) {
  watches_.reserve(instances_.size());
  for (std::size_t i = 0; i < instances_.size(); ++i) watches_.emplace_back(id_, json);
}

std::string FollowWatch::take(std::string_view payload) {
  const auto m = parse_lifecycle(payload, id_);
  if (!m) return "";
  std::size_t at = 0;
  while (at < instances_.size() && instances_[at] != m->instance_id) ++at;
  if (at == instances_.size()) return "";
  LifecycleWatch& watch = watches_[at];
  const bool was_finished = watch.finished();
  std::string text = watch.take(*m, payload);
  if (!was_finished && watch.finished()) outcomes_[at] = m->outcome;
  if (instances_.size() == 1 || json_ || text.empty()) return text;
  // Several instances: say which one each line is about (an error line stays indented under it).
  text = instances_[at] + "  " + text;
  if (finished()) text += summary();
  return text;
}

bool FollowWatch::finished() const {
  for (const LifecycleWatch& w : watches_)
    if (!w.finished()) return false;
  return true;
}

bool FollowWatch::heard() const {
  for (const LifecycleWatch& w : watches_)
    if (w.heard()) return true;
  return false;
}

int FollowWatch::exit_code(bool waited_out) const {
  bool not_stopped = false;
  for (const LifecycleWatch& w : watches_) {
    if (!w.finished()) {
      not_stopped = true;
      continue;
    }
    if (w.exit_code() == kExitWontStop) return kExitWontStop;
    if (w.exit_code() != kExitOk) not_stopped = true;
  }
  if (!not_stopped) return kExitOk;
  if (waited_out && !heard()) return kExitTimeout;
  return kExitNotStopped;
}

std::size_t FollowWatch::unfinished_count() const {
  std::size_t n = 0;
  for (const LifecycleWatch& w : watches_) n += w.finished() ? 0 : 1;
  return n;
}

std::string FollowWatch::unfinished() const {
  std::string text;
  for (std::size_t i = 0; i < instances_.size(); ++i) {
    const LifecycleWatch& w = watches_[i];
    if (w.finished()) continue;
    if (!text.empty()) text += ", ";
    text += instances_[i] + " (" +
            (!w.heard() ? std::string("nothing reported")
                        : w.last_status().empty() ? std::string("no Status seen") : w.last_status()) +
            ")";
  }
  return text;
}

std::string FollowWatch::summary() const {
  std::size_t stopped = 0;
  std::vector<std::pair<std::string, std::string>> others;  // outcome -> its instances, first seen first
  for (std::size_t i = 0; i < instances_.size(); ++i) {
    if (outcomes_[i] == "Stopped") {
      ++stopped;
      continue;
    }
    auto it = others.begin();
    while (it != others.end() && it->first != outcomes_[i]) ++it;
    if (it == others.end()) it = others.insert(others.end(), {outcomes_[i], ""});
    it->second += " " + instances_[i];
  }
  std::string line = std::to_string(stopped) + " of " + std::to_string(instances_.size()) + " instances Stopped";
  for (const auto& [outcome, ids] : others) line += "; " + outcome + ids;
  return line + "\n";
}

}  // namespace swasctl
