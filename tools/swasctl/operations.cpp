// stop: subscribe to a reply topic of our own, publish the command, wait for its result.
// status: subscribe to the status topics and collect the retained messages for a while.
#include "operations.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <vector>

#include "lifecycle_report.hpp"
#include "mqtt_link.hpp"
#include "progress_report.hpp"
#include "result_report.hpp"
#include "status_report.hpp"
#include "time_format.hpp"

namespace swasctl {
namespace {

constexpr std::chrono::milliseconds kConnectTimeout{10000};
constexpr std::chrono::milliseconds kBrokerStepTimeout{10000};

// swasctl-20261126T030000Z-1a2b3c: sortable, and unique enough with the random tail.
std::string new_command_id() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return "swasctl-" + std::string(stamp) + "-" + random_hex(3);
}

int broker_failure(std::ostream& err, const std::string& what) {
  err << "swasctl: " << what << "\n";
  return kExitBroker;
}

int report_timeout(const StopOptions& o, const std::string& id, bool queued, std::ostream& err) {
  const std::string what = o.instances.size() == 1 ? "the instance" : "an instance";
  err << "TIMEOUT  no result from gateway " << o.gateway << " within " << format_duration(o.timeout)
      << " (command " << id << ")\n";
  if (queued) {
    // The gateway answered with progress: it is online, and the command waits for the rate limit.
    err << "hint: the command was waiting for the cloud's rate limit; it expires unsent after "
        << format_duration(o.expires) << " (--expires). Under a rate limit give a longer --timeout and --expires; "
        << "the same stop with --id " << id << " gets its result and never stops " << what << " twice\n";
    return kExitTimeout;
  }
  err << "hint: is the gateway online (swasctl status --gateway " << o.gateway << ")? The command expires "
      << "unstarted after " << format_duration(o.expires) << "; if it started, the same stop with --id " << id
      << " gets its result and never stops " << what << " twice\n";
  return kExitTimeout;
}

// --wait ran out. Exit 3 when no lifecycle message came at all (nothing says the agent follows
// stops); otherwise FollowWatch's rule: 6 when an instance will not stop, else 5.
int report_wait_timeout(const StopOptions& o, const std::string& id, const FollowWatch& watch,
                        std::ostream& err) {
  if (!watch.heard()) {
    err << "TIMEOUT  no lifecycle message from gateway " << o.gateway << " within " << format_duration(o.wait_timeout)
        << " after the result (command " << id << "); the stop itself was accepted\n"
        << "hint: the gateway may run an older agent, which does not follow stops, or have follow.enabled false; "
        << "a command id sent before gets its recorded result but no second follow. Check the instance"
        << (watch.size() == 1 ? "" : "s") << " in the console\n";
    return kExitTimeout;
  }
  const std::string waited = " when swasctl stopped waiting after " + format_duration(o.wait_timeout) + " (command " + id + ")";
  if (watch.size() == 1) {
    const std::string& status = watch.watches().front().last_status();
    err << "NOT STOPPED  the instance was still " << (status.empty() ? std::string("?") : status) << waited << "\n";
  } else {
    err << "NOT STOPPED  " << watch.unfinished_count() << " of " << watch.size()
        << " instances had no final state" << waited << ": " << watch.unfinished() << "\n";
  }
  err << "hint: the gateway may still be following "
      << (watch.size() == 1 ? "it" : "them") << " (follow.deadline_s); check the instance"
      << (watch.size() == 1 ? "" : "s") << " in the console, or wait longer with --wait-timeout\n";
  return watch.exit_code(true);
}

// After a successful result: print the lifecycle messages of command `id` up to the final one of
// every instance.
int follow_lifecycle(MqttLink& link, const StopOptions& o, const std::string& id, const std::string& correlation,
                     std::ostream& out, std::ostream& err) {
  FollowWatch watch(id, o.instances, o.json);
  const auto deadline = MqttLink::Clock::now() + o.wait_timeout;
  while (auto msg = link.next(deadline)) {
    if (msg->correlation_data != correlation) continue;
    out << watch.take(msg->payload) << std::flush;
    if (watch.finished()) return watch.exit_code(false);
  }
  if (MqttLink::Clock::now() < deadline)
    return broker_failure(err, "lost the broker connection while waiting for the instance" +
                                   std::string(o.instances.size() == 1 ? "" : "s") + " of command " + id +
                                   " to stop; the stop itself was accepted");
  return report_wait_timeout(o, id, watch, err);
}

// The MQTT password from --password-file; an unreadable or unsafe file is a usage error.
std::optional<std::string> load_password(const BrokerOptions& b, std::ostream& err) {
  if (b.password_file.empty()) return std::string();
  PasswordOrError read = read_password_file(b.password_file);
  if (read.error.empty()) return std::move(read.password);
  err << "swasctl: --password-file: " << read.error << "\n";
  return std::nullopt;
}

}  // namespace

int run_stop(const StopOptions& options, std::ostream& out, std::ostream& err) {
  StopOptions o = options;
  if (!o.command_key_file.empty()) {
    PasswordOrError key = read_password_file(o.command_key_file);  // same rules: private, one line
    if (!key.error.empty()) {
      err << "swasctl: --command-key-file: " << key.error << "\n";
      return kExitUsage;
    }
    o.command_key = std::move(key.password);
    o.issued_at = swas::format_iso8601_utc(std::time(nullptr));
  }
  auto password = load_password(o.broker, err);
  if (!password) return kExitUsage;
  MqttLink link(o.broker, std::move(*password));
  if (auto e = link.connect(kConnectTimeout)) return broker_failure(err, *e);
  const std::string id = o.id.empty() ? new_command_id() : o.id;
  const std::string reply_topic = "swas/" + o.gateway + "/replies/" + random_hex(8);
  const std::string correlation = random_hex(16);
  // Subscribe first, so the result cannot arrive before we listen.
  if (auto e = link.subscribe(reply_topic, kBrokerStepTimeout)) return broker_failure(err, *e);
  const std::string command = build_stop_command(o, id);
  if (auto problem = command_size_problem(command)) {
    err << "swasctl stop: " << *problem << "\n";
    return kExitUsage;
  }
  const auto deadline = MqttLink::Clock::now() + o.timeout;
  const int expiry_s = static_cast<int>((o.expires.count() + 999) / 1000);
  if (auto e = link.publish({o.command_topic, command, reply_topic, correlation, expiry_s}, kBrokerStepTimeout))
    return broker_failure(err, *e);
  std::size_t progress_shown = 0;
  while (auto msg = link.next(deadline)) {
    if (msg->correlation_data != correlation) continue;
    // The agent's progress while the command waits for its turn (a rate limit): a line on stderr,
    // so stdout stays the result (and the lifecycle), as scripts read it. Never the result, and
    // the --timeout wait goes on unchanged.
    if (auto progress = parse_progress(msg->payload, id)) {
      if (progress_shown++ < kMaxProgressShown) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - MqttLink::Clock::now());
        out << std::flush;
        err << describe_progress(*progress, std::max(left, std::chrono::milliseconds(0)), o.timeout, o.expires)
            << std::flush;
      }
      continue;
    }
    if (!is_result_for(msg->payload, id)) continue;
    int code = kExitFailed;
    if (o.json) {
      out << msg->payload << "\n";
      code = exit_code_for(msg->payload);
    } else {
      const ResultReport report = describe_result(msg->payload);
      out << report.text;
      code = report.exit_code;
    }
    // The agent follows successful stops only.
    if (!o.wait || code != kExitOk) return code;
    out << std::flush;
    return follow_lifecycle(link, o, id, correlation, out, err);
  }
  if (MqttLink::Clock::now() < deadline)
    return broker_failure(err, "lost the broker connection while waiting for the result of command " + id);
  return report_timeout(o, id, progress_shown > 0, err);
}

int run_status(const StatusOptions& o, std::ostream& out, std::ostream& err) {
  auto password = load_password(o.broker, err);
  if (!password) return kExitUsage;
  MqttLink link(o.broker, std::move(*password));
  if (auto e = link.connect(kConnectTimeout)) return broker_failure(err, *e);
  if (auto e = link.subscribe(o.status_topic, kBrokerStepTimeout)) return broker_failure(err, *e);
  std::map<std::string, GatewayStatus> seen;  // sorted by gateway
  const auto deadline = MqttLink::Clock::now() + o.wait;
  while (auto msg = link.next(deadline)) {
    auto status = parse_status(msg->topic, msg->payload);
    if (!status || (!o.gateway.empty() && status->gateway != o.gateway)) continue;
    const std::string gateway = status->gateway;
    seen[gateway] = std::move(*status);
    if (!o.gateway.empty()) break;  // the one asked for: no need to wait longer
  }
  if (seen.empty()) {
    err << "swasctl: no status message on " << o.status_topic << " within " << format_duration(o.wait) << "\n";
    return kExitTimeout;
  }
  std::vector<GatewayStatus> list;
  for (auto& [gateway, status] : seen) list.push_back(std::move(status));
  out << (o.json ? format_status_json(list) : format_status_table(list));
  if (!o.gateway.empty() && list.front().state != "online") return kExitFailed;
  return kExitOk;
}

}  // namespace swasctl
