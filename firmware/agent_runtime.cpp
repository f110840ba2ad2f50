// Wiring: Paho thread -> intake queue -> intake thread (parse, journal in batches) -> work queue ->
// N workers (one HTTPS client each) -> results.
#include "agent_runtime.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "command_processor.hpp"
#include "instance_lock.hpp"
#include "maintenance_schedule.hpp"
#include "ctr_drbg_entropy.hpp"
#include "follow_mailbox.hpp"
#include "mbedtls_https_client.hpp"
#include "paho_message_bus.hpp"
#include "sqlite_journal.hpp"
#include "shared_call_pacer.hpp"
#include "status_reporter.hpp"
#include "stop_follower.hpp"
#include "system_clock.hpp"
#include "time_format.hpp"
#include "wakeup.hpp"
#include "work_queue.hpp"

namespace swas {
namespace {

constexpr std::uint32_t kConnectTimeoutMs = 10000;
constexpr std::uint32_t kDisconnectTimeoutMs = 5000;

SqliteJournalOptions journal_options(const Config& cfg) {
  return SqliteJournalOptions{cfg.state_dir + "/journal.sqlite3", cfg.journal.durability, cfg.journal.retention_s,
                              cfg.journal.max_records};
}

HttpsClientOptions https_options(const Config& cfg) {
  return HttpsClientOptions{cfg.cloud.ca_file, cfg.cloud.timeout_ms, limits::kMaxHttpResponseBytes};
}

// What the intake thread publishes (answers to invalid and duplicate commands, Busy, progress)
// goes out through its own thread: Paho holds its client lock while its thread waits for room in
// the intake queue, so an intake thread waiting for that lock in publish() would never make the
// room (a deadlock the bench's 1,000-command bursts against a 64-deep work queue found). Everyone
// else publishes directly. The outbox takes at most what the intake thread answers while Paho's
// thread waits, one batch of the inbox at a time.
class IntakeAwarePublisher final : public MessagePublisher {
 public:
  explicit IntakeAwarePublisher(MessagePublisher& bus) : bus_(bus), outbox_(SIZE_MAX) {}
  void set_intake_thread(std::thread::id id) { intake_ = id; }
  void publish(const OutgoingMessage& message) override {
    if (std::this_thread::get_id() == intake_.load()) outbox_.force_push(message);
    else bus_.publish(message);
  }
  // The outbox's thread: publishes until close() and the outbox is drained.
  void run() {
    while (auto m = outbox_.pop()) bus_.publish(*m);
  }
  void close() { outbox_.close(); }

 private:
  MessagePublisher& bus_;
  std::atomic<std::thread::id> intake_{};
  WorkQueue<OutgoingMessage> outbox_;
};

// The name `top -H`, /proc/<pid>/task/*/comm and scripts/footprint show for this thread.
void name_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

// Waits up to `ms` (forever when negative) for SIGTERM/SIGINT; true when one arrived.
bool wait_for_stop_signal(Logger& log, long ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    if (ms < 0) {
      if (sigwait(&set, &sig) != 0) continue;
    } else {
      timespec ts{ms / 1000, (ms % 1000) * 1000000L};
      sig = sigtimedwait(&set, nullptr, &ts);
      if (sig < 0) return false;
    }
    if (sig == SIGHUP) {
      log.write(LogLevel::Warn, "SIGHUP: reloading is not supported; restart the agent to apply changes");
      continue;
    }
    log.write(LogLevel::Info, std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    return true;
  }
}

}  // namespace

Expected<bool, std::string> check_runtime_resources(const AgentSetup& setup) {
  auto tls = TlsClientContext::create(https_options(setup.config));
  if (!tls) return unexpected("cloud.ca_file " + tls.error());
  SystemClock clock;
  auto journal = SqliteJournal::open(journal_options(setup.config), clock);
  if (!journal) return unexpected(journal.error());
  return true;
}

int run_agent(AgentSetup setup, const RuntimeOptions& options, Logger& log) {
  const Config cfg = setup.config;
  auto lock = InstanceLock::acquire(cfg.state_dir);
  if (!lock) {
    log.write(LogLevel::Error, lock.error());
    return 2;
  }
  SystemClock clock;
  auto tls = TlsClientContext::create(https_options(cfg));
  auto entropy = CtrDrbgEntropy::create("swas-agent workflow");
  auto journal = SqliteJournal::open(journal_options(cfg), clock);
  if (!tls || !entropy || !journal) {
    log.write(LogLevel::Error, !tls ? "cloud.ca_file " + tls.error() : !entropy ? entropy.error() : journal.error());
    return 2;
  }
  const std::int64_t started_ms = clock.now_unix_ms();
  const std::string started_at = format_iso8601_utc(started_ms / 1000);
  StatusSnapshot offline{cfg.gateway_id, options.version, started_at, false, 0, 0, 0, 0, 0, ""};
  PahoMessageBus bus(MessageBusOptions{cfg.mqtt, setup.mqtt_password, 1000, cfg.mqtt.status_topic, encode_status(offline)},
                     clock, log);
  wipe(setup.mqtt_password);
  StatusReporter status(cfg.gateway_id, options.version, started_at, cfg.mqtt.status_topic, bus);

  ProcessorSettings settings{cfg.gateway_id, cfg.mqtt.command_topic, cfg.cloud.endpoint, cfg.cloud.retry,
                             cfg.policy, setup.command_key, cfg.follow.deadline_s, cfg.cloud.quota_max_wait_s};
  wipe(setup.command_key);
  IntakeAwarePublisher publisher(bus);
  std::thread outbox([&] {
    name_thread("swas-outbox");
    publisher.run();
  });
  CommandProcessor processor(settings, std::move(setup.credentials), clock, **entropy, **journal, publisher, status,
                             log);
  // One pacer for every cloud call of this agent: workers and the poll thread (cloud.quota).
  SharedCallPacer pacer(cfg.cloud.quota, clock);
  processor.set_pacer(&pacer);

  // Following successful stops to Stopped: one poll thread owns the follower; workers and the MQTT
  // thread reach it through the mailbox.
  std::optional<FollowMailbox> mailbox;
  std::optional<StopFollower> follower;
  if (cfg.follow.enabled) {
    mailbox.emplace(cfg.follow.max_instances);
    follower.emplace(cfg.follow, processor.cloud(), clock, **journal, bus, log);
    follower->set_pacer(&pacer);
    follower->resume();
    processor.set_follow_sink(&*mailbox);
  } else if (auto left = (*journal)->follows().following; !left.empty()) {
    log.write(LogLevel::Warn, std::to_string(left.size()) + " follow(s) in the journal are dropped: follow.enabled "
                              "is false");
    for (const auto& rec : left) (*journal)->follow_dropped(rec.id);
  }

  WorkQueue<ExecutionItem> queue(cfg.commands.queue_depth);
  for (auto& item : processor.recover()) queue.force_push(std::move(item));
  std::atomic<bool> stopping{false};
  // Set when something the status shows changed, cleared when the status is published. Only its
  // first change since then wakes the maintenance thread (which publishes at most once a second):
  // waking it for every command cost a context switch per command (docs/performance.md).
  std::atomic<bool> status_dirty{true};
  std::atomic<bool> reconnected{false};
  Wakeup wake;  // the maintenance thread's sleep: cut short when the status changed or on a reconnect
  const auto status_changed = [&] {
    if (!status_dirty.exchange(true)) wake.notify();
  };
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < cfg.commands.max_in_flight; ++i) {
    workers.emplace_back([&, context = *tls] {
      name_thread("swas-worker");
      MbedTlsHttpsClient https(context);
      while (auto item = queue.pop()) {
        if (stopping) continue;  // left accepted in the journal: resumed at the next start
        processor.execute(*item, https);
        status_changed();
      }
    });
  }
  bus.set_delivery_listener([&](const std::string& key, bool refused, int reason_code) {
    // A refused result (e.g. 135: the broker's ACL forbids its topic) is settled like an
    // acknowledged one: never republished, forgotten after the retention time, so refusals can
    // never fill the journal and turn every later command into Busy. The same for final
    // lifecycle messages, whose follow is then forgotten.
    const bool lifecycle = is_lifecycle_ack_key(key);
    const std::string id(lifecycle ? id_of_lifecycle_ack_key(key) : std::string_view(key));
    std::string what = id;  // a follow's key is "<command id>\x1f<instance>" for InstanceIds commands
    if (const auto sep = what.find('\x1f'); sep != std::string::npos) what.replace(sep, 1, ", instance ");
    if (refused)
      log.write(LogLevel::Warn, std::string("the broker refused the ") + (lifecycle ? "final lifecycle message" : "result") +
                                    " of command " + what + " (PUBACK reason code " + std::to_string(reason_code) +
                                    "); it is not published again");
    (*journal)->acknowledge(key);
    if (lifecycle && mailbox) mailbox->settled(id);
  });
  bus.set_connected_hook([&] {
    status_dirty = true;
    reconnected = true;
    wake.notify();
  });
  // The MQTT thread only hands messages over; the intake thread parses and journals them, several
  // in one commit, so an fsync never stalls Paho's callbacks (acknowledgements, reconnects). When
  // the intake queue is full the MQTT thread waits: it reads nothing more from the broker, which
  // keeps the rest in the session (docs/reliability.md, "The window no agent can close").
  WorkQueue<IncomingMessage> inbox(limits::kIntakeQueueDepth);
  auto on_message = [&](IncomingMessage&& msg) {
    if (!inbox.push_wait(msg)) log.write(LogLevel::Warn, "a message arrived after the intake stopped; it is dropped");
  };
  std::thread intake([&] {
    name_thread("swas-intake");
    publisher.set_intake_thread(std::this_thread::get_id());
    std::vector<IncomingMessage> batch, admitted;
    while (inbox.pop_many(batch, limits::kIntakeQueueDepth)) {
      admitted.clear();
      for (auto& msg : batch) {
        if (queue.size() + admitted.size() >= queue.capacity()) {
          if (auto busy = processor.busy_answer(
                  msg, "the agent's command queue is full (" + std::to_string(queue.capacity()) + ")")) {
            log.write(LogLevel::Warn, "command queue full: answering Busy");
            publisher.publish(*busy);
          }
          continue;
        }
        admitted.push_back(std::move(msg));
      }
      for (auto& item : processor.intake_many(admitted)) queue.force_push(std::move(item));
      status_changed();
    }
  });
  // Maintenance (agent/maintenance_schedule.hpp): status when something changed (at most once a
  // second) and every interval; journal upkeep and republishing unacknowledged results. The thread
  // sleeps until the next of these is due or something changes.
  std::thread maintenance([&] {
    name_thread("swas-maint");
    const auto steady_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    MaintenanceSchedule schedule(steady_ms(), cfg.mqtt.status_interval_s);
    do {
      if (status_dirty) schedule.status_changed();
      if (reconnected.exchange(false)) schedule.reconnected();
      const auto due = schedule.take(steady_ms());
      if (due.status) {
        status_dirty = false;  // before the snapshot: a change after it wakes this thread again
        status.publish(true);
      }
      if (due.upkeep) (*journal)->maintain();
      if (due.republish)
        processor.republish_unacknowledged(due.republish->earlier_runs ? started_ms
                                                                        : clock.now_unix_ms() - due.republish->older_than_ms);
    } while (wake.wait_ms(schedule.next_ms() - steady_ms()));
  });

  // The poll thread: hands what the mailbox brought to the follower and makes the polls that are
  // due; its own HTTPS connection, so a follow never delays a stop.
  std::thread poller;
  if (follower) {
    poller = std::thread([&, context = *tls] {
      name_thread("swas-poll");
      MbedTlsHttpsClient https(context);
      std::optional<std::int64_t> due = follower->poll_due(https);
      for (;;) {
        std::optional<std::chrono::milliseconds> timeout;
        if (due) timeout = std::chrono::milliseconds(std::max<std::int64_t>(0, *due - clock.now_unix_ms()));
        auto batch = mailbox->wait(timeout);
        if (!batch) break;
        for (auto& [rec, journaled] : batch->added) follower->add(std::move(rec), journaled);
        for (const auto& id : batch->settled) follower->settled(id);
        due = follower->poll_due(https);
      }
    });
  }

  bool stop = false;
  bus.set_message_handler(on_message);
  for (long backoff_ms = 1000; !stop;) {
    auto connected = bus.connect(kConnectTimeoutMs);
    if (connected) break;
    log.write(LogLevel::Warn, connected.error() + "; retrying in " + std::to_string(backoff_ms / 1000) + " s");
    stop = wait_for_stop_signal(log, backoff_ms);
    backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
  }
  if (!stop) {
    log.write(LogLevel::Info, "swas-agent " + options.version + " running for gateway " + cfg.gateway_id);
    wait_for_stop_signal(log, -1);
  }
  // Orderly stop: attempts under way finish, no new retry waits start; queued commands (and any
  // that still arrive before the disconnect) stay accepted in the journal and resume at the next
  // start. The subscription is kept: the persistent session holds new commands meanwhile.
  stopping = true;
  queue.close();  // the intake thread still journals what arrives: accepted, resumed at the next start
  clock.shutdown();
  wake.close();
  pacer.shutdown();  // a command waiting for its turn stays accepted and resumes at the next start
  for (auto& w : workers) w.join();
  if (mailbox) mailbox->close();  // after the workers: every follow they handed over is journaled
  if (poller.joinable()) poller.join();
  maintenance.join();
  status.publish(false);
  bus.disconnect(kDisconnectTimeoutMs);
  inbox.close();  // after the disconnect: every message Paho acknowledged is journaled
  intake.join();
  publisher.close();
  outbox.join();
  (*journal)->maintain();
  const auto https = (*tls)->stats();
  log.write(LogLevel::Info, "https: " + std::to_string(https.requests) + " requests, " +
                                std::to_string(https.full_handshakes) + " full TLS handshakes, " +
                                std::to_string(https.resumed_handshakes) + " resumed");
  log.write(LogLevel::Info, "stopped");
  return 0;
}

}  // namespace swas
