// StopFollower: shared ListInstanceStatus polls per region, the status rules and the lifecycle
// messages (docs/contract.md, "Following a stop to Stopped").
#include "stop_follower.hpp"

#include <algorithm>

#include "attempt_rules.hpp"
#include "cloud_response.hpp"
#include "limits.hpp"
#include "status_request.hpp"

namespace swas {

struct StopFollower::PollResult {
  // Deferred: not sent or throttled under the account's rate quota: polled again later, never
  // counted as a failure.
  enum Kind { Statuses, Retry, Failed, Deferred } kind = Failed;
  InstanceStatuses statuses;
  std::optional<std::uint32_t> retry_after_ms;
  PollError error;  // Failed; and for Retry, what is reported if the retries run out
};

namespace {

std::string seconds_text(std::int64_t ms) {
  if (ms < 0) ms = 0;
  const std::int64_t tenths = (ms + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

bool will_not_stop(const std::string& status) {
  return status == "Running" || status == "Starting" || status == "Disabled";
}

PollError agent_error(AgentError code, std::string message, std::optional<int> http_status = std::nullopt) {
  return PollError{std::nullopt, code, std::move(message), http_status};
}

std::string describe(const PollError& e) {
  if (e.cloud) return e.cloud->code + ": " + e.cloud->message;
  return std::string(to_string(e.code)) + ": " + e.message;
}

}  // namespace

StopFollower::StopFollower(FollowConfig settings, CloudSession& cloud, Clock& clock, Journal& journal,
                           MessagePublisher& publisher, Logger& logger)
    : settings_(settings), cloud_(cloud), clock_(clock), journal_(journal), publisher_(publisher), logger_(logger) {}

void StopFollower::log(LogLevel level, const std::string& line) {
  if (logger_.enabled(level)) logger_.write(level, line);
}

void StopFollower::resume() {
  FollowBacklog backlog = journal_.follows();
  for (auto& rec : backlog.following) {
    regions_[rec.region_id].next_due_ms = 0;  // at once
    std::string id = rec.key();
    // The status reported before the restart is the last one seen, until a poll says otherwise.
    std::optional<std::string> seen;
    if (!rec.reported_status.empty()) seen = rec.reported_status;
    follows_.emplace(std::move(id), Follow{std::move(rec), std::move(seen), 0, 0});
  }
  awaiting_ack_.insert(backlog.awaiting_ack.begin(), backlog.awaiting_ack.end());
  if (!follows_.empty() || !awaiting_ack_.empty())
    log(LogLevel::Info, "resuming " + std::to_string(follows_.size()) + " follow(s) of stopped instances (" +
                            std::to_string(awaiting_ack_.size()) + " final message(s) awaiting the broker's ack)");
}

bool StopFollower::has_follows(const std::string& region_id) const {
  return std::any_of(follows_.begin(), follows_.end(), [&](const auto& f) { return f.second.rec.region_id == region_id; });
}

std::vector<std::string> StopFollower::ids_in(const std::string& region_id) const {
  std::vector<std::string> ids;
  for (const auto& [id, f] : follows_)
    if (f.rec.region_id == region_id) ids.push_back(id);
  return ids;
}

void StopFollower::add(FollowRecord rec, bool journaled) {
  if (!journaled) {
    not_followed(rec, "the journal could not record the follow (see the agent's log); check the instance in the "
                      "console");
    return;
  }
  if (follows_.count(rec.key()) || awaiting_ack_.count(rec.key())) return;  // already known (resumed)
  if (slots_used() >= settings_.max_instances) {
    if (auto err = journal_.follow_dropped(rec.key()); !err.empty())
      log(LogLevel::Error, "command " + rec.id + ": the journal could not drop the follow: " + err);
    not_followed(rec, "the agent is already following " + std::to_string(settings_.max_instances) +
                          " instances (follow.max_instances); check this one in the console");
    return;
  }
  const std::int64_t now = clock_.now_unix_ms();
  const bool region_idle = !has_follows(rec.region_id);
  Region& region = regions_[rec.region_id];
  if (region_idle)
    region.next_due_ms = region.last_poll_ms ? std::max(now, *region.last_poll_ms + settings_.interval_ms) : now;
  // A follow is judged on a fresh status at its deadline, even when that comes before the interval.
  region.next_due_ms = std::min(region.next_due_ms, rec.deadline_ms);
  log(LogLevel::Debug, "command " + rec.id + ": following " + rec.instance_id + " in " + rec.region_id);
  std::string key = rec.key();
  follows_.emplace(std::move(key), Follow{std::move(rec), std::nullopt, 0, 0});
}

void StopFollower::settled(const std::string& id) { awaiting_ack_.erase(id); }

std::optional<std::int64_t> StopFollower::poll_due(HttpsTransport& transport) {
  std::optional<std::int64_t> next;
  for (auto it = regions_.begin(); it != regions_.end();) {
    const std::int64_t now = clock_.now_unix_ms();
    Region& region = it->second;
    if (!has_follows(it->first)) {
      // Kept one interval after its last poll, so a new follow cannot poll it sooner.
      if (!region.last_poll_ms || now - *region.last_poll_ms >= settings_.interval_ms) {
        it = regions_.erase(it);
        continue;
      }
    } else {
      if (region.next_due_ms <= now) poll_region(it->first, region, transport);
      if (has_follows(it->first)) next = next ? std::min(*next, region.next_due_ms) : region.next_due_ms;
    }
    ++it;
  }
  return next;
}

StopFollower::PollResult StopFollower::call(const std::string& region_id, const std::vector<std::string>& instance_ids,
                                            Region& region, HttpsTransport& transport) {
  PollResult r;
  const Credentials* credentials = cloud_.credentials();
  if (!credentials) {
    r.error = agent_error(AgentError::CredentialsMissing, "no credentials are configured on the gateway");
    return r;
  }
  const Endpoint endpoint = cloud_.endpoint_for(region_id);
  static constexpr std::string_view kAction = "ListInstanceStatus";
  for (;;) {
    if (pacer_ && pacer_->acquire(kAction, clock_.now_unix_ms() + kMaxPaceWaitMs,
                                  [](std::optional<std::int64_t>) {}) != CallPacer::Turn::Go) {
      r.kind = PollResult::Deferred;
      return r;
    }
    const auto response = transport.round_trip(
        endpoint, build_list_status_request(region_id, instance_ids, endpoint, *credentials, cloud_.x_acs_date(),
                                            cloud_.fresh_nonce()));
    std::optional<CloudOutcome> parsed;
    if (response) parsed = parse_cloud_response(*response);
    const AttemptJudgement j = judge_attempt(response, parsed ? &*parsed : nullptr);
    const CloudError* cloud_error = parsed ? std::get_if<CloudError>(&*parsed) : nullptr;
    const bool throttled = response && (response->status == 429 || (cloud_error && is_throttling(*cloud_error)));
    if (pacer_) {
      pacer_->ended(kAction, !response ? CallEnd::NoAnswer : throttled ? CallEnd::Throttled : CallEnd::Answered,
                    j.retry_after_ms);
      if (throttled) {
        log(LogLevel::Warn, "ListInstanceStatus in " + region_id + " was throttled by the cloud; polled again when "
                            "its rate limit allows");
        r.kind = PollResult::Deferred;
        return r;
      }
    }
    if (j.verdict == AttemptVerdict::FixClock && !region.clock_fixed) {
      region.clock_fixed = true;
      if (cloud_.correct_clock(*j.server_time_ms)) continue;
    }
    if (j.verdict == AttemptVerdict::NewNonce && !region.nonce_renewed) {
      region.nonce_renewed = true;
      continue;
    }
    if (!response) {
      r.kind = PollResult::Retry;
      r.error = agent_error(AgentError::CloudUnreachable,
                            "cloud " + std::string(to_string(response.error().kind)) + ": " + response.error().detail);
      return r;
    }
    if (std::holds_alternative<CloudSuccess>(*parsed)) {
      auto statuses = parse_instance_statuses(response->body);
      if (auto* bad = std::get_if<StatusListUnreadable>(&statuses)) {
        r.error = agent_error(AgentError::InvalidCloudResponse,
                              "the cloud answered HTTP " + std::to_string(response->status) + " but " + bad->reason,
                              response->status);
        return r;
      }
      r.kind = PollResult::Statuses;
      r.statuses = std::move(std::get<InstanceStatuses>(statuses));
      return r;
    }
    if (const auto* err = std::get_if<CloudError>(&*parsed)) {
      r.error = PollError{*err, AgentError::CloudUnreachable, "", std::nullopt};
    } else {
      const auto& unreadable = std::get<CloudUnreadable>(*parsed);
      r.error = agent_error(AgentError::InvalidCloudResponse,
                            "the cloud answered HTTP " + std::to_string(unreadable.http_status) + " but " +
                                unreadable.reason,
                            unreadable.http_status);
    }
    if (j.verdict == AttemptVerdict::Retry) {
      r.kind = PollResult::Retry;
      r.retry_after_ms = j.retry_after_ms;
    }
    return r;
  }
}

void StopFollower::poll_region(const std::string& region_id, Region& region, HttpsTransport& transport) {
  // The distinct instances followed in the region (sorted), in calls of at most 100; found once per
  // poll, so a round stays O(n log n) up to follow.max_instances.
  std::map<std::string, std::vector<std::string>> follows_of;  // InstanceId -> command ids
  for (const auto& id : ids_in(region_id)) follows_of[follows_.at(id).rec.instance_id].push_back(id);
  std::vector<std::string> instances;
  instances.reserve(follows_of.size());
  for (const auto& entry : follows_of) instances.push_back(entry.first);
  region.last_poll_ms = clock_.now_unix_ms();
  std::size_t start = 0;
  if (region.retry_from)
    start = static_cast<std::size_t>(std::lower_bound(instances.begin(), instances.end(), *region.retry_from) -
                                      instances.begin());
  region.retry_from.reset();
  bool retry_scheduled = false;
  for (std::size_t first = start; first < instances.size() && !retry_scheduled;
       first += limits::kMaxInstanceIdsPerPoll) {
    const std::size_t last = std::min(instances.size(), first + limits::kMaxInstanceIdsPerPoll);
    const std::vector<std::string> chunk(instances.begin() + static_cast<std::ptrdiff_t>(first),
                                         instances.begin() + static_cast<std::ptrdiff_t>(last));
    PollResult r = call(region_id, chunk, region, transport);
    const std::int64_t now = clock_.now_unix_ms();
    std::vector<std::string> covered;
    for (const auto& instance : chunk)
      for (const auto& id : follows_of[instance])
        if (follows_.count(id)) covered.push_back(id);
    std::sort(covered.begin(), covered.end());
    if (r.kind == PollResult::Statuses) {
      region.failures = 0;
      region.clock_fixed = region.nonce_renewed = false;
      for (const auto& id : covered) {
        const auto found = r.statuses.by_instance.find(follows_.at(id).rec.instance_id);
        observe(follows_.at(id),
                found == r.statuses.by_instance.end() ? std::nullopt : std::optional<std::string>(found->second), now);
      }
      continue;
    }
    if (r.kind == PollResult::Deferred) {
      region.next_due_ms = now + kDeferredPollMs;
      region.retry_from = chunk.front();
      retry_scheduled = true;
      continue;
    }
    if (r.kind == PollResult::Retry) {
      if (region.failures == 0) region.first_failure_ms = now;
      ++region.failures;
      const RetryPolicy& rule = cloud_.retry();
      const std::uint32_t wait = cloud_.backoff_ms(region.failures, r.retry_after_ms);
      if (region.failures < rule.max_attempts && now + wait < region.first_failure_ms + rule.deadline_ms) {
        log(LogLevel::Warn, "ListInstanceStatus in " + region_id + " failed (" + describe(r.error) + "); retrying in " +
                                seconds_text(wait));
        region.next_due_ms = now + wait;
        region.retry_from = chunk.front();
        retry_scheduled = true;
        continue;
      }
    }
    // A final error, or the retries ran out: every follow this call covered ends. A final error is
    // one attempt more than the failures before it; run-out retries were counted above.
    const int attempts = r.kind == PollResult::Retry ? region.failures : region.failures + 1;
    region.failures = 0;
    region.clock_fixed = region.nonce_renewed = false;
    for (const auto& id : covered) {
      const Follow& f = follows_.at(id);
      std::string message = "ListInstanceStatus failed (" + describe(r.error) + ", after " + std::to_string(attempts) +
                            " attempt" + (attempts == 1 ? "" : "s") + "); the stop itself was accepted (RequestId " +
                            f.rec.request_id + "): check the instance in the console";
      if (r.error.cloud && r.error.cloud->http_status == 403)
        message += "; the gateway's AccessKey may lack the permission swas-open:ListInstanceStatus (grant it, or set "
                   "follow.enabled to false)";
      finish(id, FollowOutcome::PollFailed, f.last_seen, std::move(message), r.error, now);
    }
  }
  // Deadlines: judged after the poll, so a follow ends on a fresh status.
  const std::int64_t now = clock_.now_unix_ms();
  std::optional<std::int64_t> earliest;
  for (const auto& id : ids_in(region_id)) {
    const Follow& f = follows_.at(id);
    if (f.rec.deadline_ms <= now) {
      // elapsedMs counts to the deadline, however late the poll that judged it came.
      const std::string seen = f.last_seen ? "still " + *f.last_seen : "without a status from the cloud";
      finish(id, FollowOutcome::TimedOut, f.last_seen,
             "the instance was " + seen + " " + seconds_text(f.rec.deadline_ms - f.rec.accepted_ms) +
                 " after the command (follow.deadline_s); it is no longer followed: check it in the console",
             std::nullopt, f.rec.deadline_ms);
      continue;
    }
    earliest = earliest ? std::min(*earliest, f.rec.deadline_ms) : f.rec.deadline_ms;
  }
  if (!retry_scheduled) region.next_due_ms = *region.last_poll_ms + settings_.interval_ms;
  if (earliest) region.next_due_ms = std::min(region.next_due_ms, *earliest);
}

void StopFollower::observe(Follow& f, const std::optional<std::string>& status, std::int64_t now) {
  if (!status) {
    f.not_stopping_polls = 0;
    if (++f.absent_polls >= 2)
      finish(f.rec.key(), FollowOutcome::NotFound, std::nullopt,
             "ListInstanceStatus did not list the instance on two polls in a row: it was released, or it is not in " +
                 f.rec.region_id,
             std::nullopt, now);
    return;
  }
  f.absent_polls = 0;
  f.last_seen = *status;
  if (*status == "Stopped") {
    finish(f.rec.key(), FollowOutcome::Stopped, *status, "", std::nullopt, now);
    return;
  }
  if (will_not_stop(*status)) {
    if (++f.not_stopping_polls >= 2) {
      finish(f.rec.key(), FollowOutcome::UnexpectedStatus, *status,
             "the instance is " + *status + " on two polls in a row after the stop: it will not become Stopped by "
                 "itself; check it in the console, and send a new stop command if it should stop",
             std::nullopt, now);
      return;
    }
  } else {
    f.not_stopping_polls = 0;
  }
  // Running right after a stop may only mean the cloud has not begun: never reported as progress.
  if (*status != "Running" && *status != f.rec.reported_status) progress(f, *status, now);
}

void StopFollower::progress(Follow& f, const std::string& status, std::int64_t now) {
  if (auto err = journal_.follow_reported(f.rec.key(), status); !err.empty())
    log(LogLevel::Error, "command " + f.rec.id + ": the journal could not record the reported status: " + err);
  f.rec.reported_status = status;
  LifecycleReport report;
  report.status = status;
  report.elapsed_ms = now - f.rec.accepted_ms;
  log(LogLevel::Info, "command " + f.rec.id + ": " + f.rec.instance_id + " is " + status + " (" +
                          seconds_text(report.elapsed_ms) + " after the command)");
  publisher_.publish(OutgoingMessage{f.rec.route.topic, encode_lifecycle(f.rec, report), f.rec.route.correlation_data,
                                     "", false});
}

void StopFollower::finish(std::string key, FollowOutcome outcome, std::optional<std::string> status,
                          std::string message, std::optional<PollError> error, std::int64_t now) {
  const auto it = follows_.find(key);
  if (it == follows_.end()) return;
  const FollowRecord rec = std::move(it->second.rec);
  follows_.erase(it);
  LifecycleReport report{std::move(status), outcome, now - rec.accepted_ms, std::move(message), std::move(error)};
  const std::string payload = encode_lifecycle(rec, report);
  const std::string err = journal_.follow_finished(key, payload);
  if (!err.empty())
    log(LogLevel::Error, "command " + rec.id + ": the journal could not record the final lifecycle message: " + err);
  else
    awaiting_ack_.insert(key);
  const bool stopped = outcome == FollowOutcome::Stopped;
  log(stopped ? LogLevel::Info : LogLevel::Warn,
      "command " + rec.id + ": " + rec.instance_id + " " + (stopped ? "Stopped" : std::string(to_string(outcome))) +
          " after " + seconds_text(report.elapsed_ms) + (stopped ? "" : ": " + report.message));
  publisher_.publish(OutgoingMessage{rec.route.topic, payload, rec.route.correlation_data,
                                     err.empty() ? lifecycle_ack_key(key) : "", false});
}

void StopFollower::not_followed(const FollowRecord& rec, const std::string& why) {
  LifecycleReport report;
  report.outcome = FollowOutcome::NotFollowed;
  report.elapsed_ms = clock_.now_unix_ms() - rec.accepted_ms;
  report.message = why;
  log(LogLevel::Warn, "command " + rec.id + ": " + rec.instance_id + " is not followed: " + why);
  publisher_.publish(OutgoingMessage{rec.route.topic, encode_lifecycle(rec, report), rec.route.correlation_data, "",
                                     false});
}

}  // namespace swas
