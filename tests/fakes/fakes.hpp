// Hand-written, scriptable fakes of every port in agent/ports.hpp.
#pragma once
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journal.hpp"
#include "ports.hpp"

namespace swas::fakes {

// Time stands still unless a sleep advances it; sleeps are recorded, never waited.
class FakeClock final : public Clock {
 public:
  std::int64_t now_ms = 1700000000000;  // 2023-11-14T22:13:20Z
  std::int64_t offset = 0;
  std::vector<std::uint32_t> sleeps;
  bool shutting_down = false;
  std::int64_t now_unix_ms() override { return now_ms + offset; }
  std::int64_t offset_ms() const override { return offset; }
  void set_offset_ms(std::int64_t o) override { offset = o; }
  bool sleep_ms(std::uint32_t ms) override {
    sleeps.push_back(ms);
    now_ms += ms;
    return !shutting_down;
  }
};

// A counter, so every nonce differs and tests are repeatable.
class FakeEntropy final : public Entropy {
 public:
  unsigned char next = 0;
  void fill(unsigned char* out, std::size_t len) override {
    for (std::size_t i = 0; i < len; ++i) out[i] = next++;
  }
};

// Told what to answer, in order; records every request it was given.
class FakeTransport final : public HttpsTransport {
 public:
  struct Sent {
    Endpoint endpoint;
    HttpRequest request;
  };
  std::deque<Expected<HttpResponse, TransportError>> script;
  std::vector<Sent> sent;
  // When set, each exchange takes this long on that clock (as a real round trip would).
  FakeClock* clock = nullptr;
  std::int64_t ms_per_call = 0;

  void reply(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    script.emplace_back(std::move(r));
  }
  void fail(TransportFailure kind, std::string detail) {
    script.emplace_back(unexpected(TransportError{kind, std::move(detail)}));
  }
  Expected<HttpResponse, TransportError> round_trip(const Endpoint& endpoint,
                                                    const HttpRequest& request) override {
    sent.push_back({endpoint, request});
    if (clock) clock->now_ms += ms_per_call;
    if (script.empty()) return unexpected(TransportError{TransportFailure::Connect, "no scripted answer"});
    auto r = std::move(script.front());
    script.pop_front();
    return r;
  }
};

class FakePublisher final : public MessagePublisher {
 public:
  std::vector<OutgoingMessage> published;
  void publish(const OutgoingMessage& m) override { published.push_back(m); }
};

class FakeLogger final : public Logger {
 public:
  std::vector<std::string> lines;
  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::string all() const {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

// An in-memory journal with the port's semantics; `fail_writes` simulates a broken disk.
class FakeJournal final : public Journal {
 public:
  struct Entry {
    JournalRecord rec;
    bool finished = false;
    bool acknowledged = false;
    std::string payload;
    std::vector<Route> waiters;
  };
  std::map<std::string, Entry> entries;
  std::size_t max_records = 1000;
  bool fail_writes = false;

  Expected<BeginResult, std::string> begin(const JournalRecord& rec) override {
    if (fail_writes) return unexpected(std::string("disk I/O error"));
    auto it = entries.find(rec.id);
    if (it != entries.end() && it->second.finished) return BeginResult{BeginState::Finished, it->second.payload};
    if (it != entries.end()) {
      it->second.waiters.push_back(rec.route);  // the port: registered with the InFlight answer
      return BeginResult{BeginState::InFlight, "", true};
    }
    if (entries.size() >= max_records) return BeginResult{BeginState::Full, ""};
    entries[rec.id] = Entry{rec, false, false, "", {}};
    return BeginResult{BeginState::New, ""};
  }
  // The port's default (begin() for each record), counted: one call is one journal transaction.
  int begin_many_calls = 0;
  Expected<std::vector<BeginResult>, std::string> begin_many(const std::vector<JournalRecord>& recs) override {
    ++begin_many_calls;
    return Journal::begin_many(recs);
  }
  std::optional<BeginResult> find(const std::string& id) override {
    auto it = entries.find(id);
    if (it == entries.end()) return std::nullopt;
    return BeginResult{it->second.finished ? BeginState::Finished : BeginState::InFlight, it->second.payload};
  }
  void add_waiter(const std::string& id, const Route& route) override { entries[id].waiters.push_back(route); }
  Expected<std::vector<Route>, std::string> finish(const std::string& id, const std::string& payload,
                                                   const std::vector<FollowRecord>& follows = {}) override {
    if (fail_writes) return unexpected(std::string("disk I/O error"));
    auto& e = entries[id];
    e.finished = true;
    e.payload = payload;
    for (const auto& follow : follows) follow_rows.emplace(follow.key(), FollowRow{follow, false, ""});
    return std::move(e.waiters);
  }
  void acknowledge(const std::string& key) override {
    if (is_lifecycle_ack_key(key)) {
      auto it = follow_rows.find(std::string(id_of_lifecycle_ack_key(key)));
      if (it != follow_rows.end() && it->second.finished) follow_rows.erase(it);
      return;
    }
    entries[key].acknowledged = true;
  }
  std::vector<JournalRecord> unfinished() override {
    std::vector<JournalRecord> out;
    for (const auto& [id, e] : entries)
      if (!e.finished) out.push_back(e.rec);
    return out;
  }
  std::vector<PendingResult> unacknowledged(std::int64_t) override {
    std::vector<PendingResult> out;
    for (const auto& [id, e] : entries)
      if (e.finished && !e.acknowledged) out.push_back({id, e.rec.route, e.payload});
    for (const auto& [id, f] : follow_rows)
      if (f.finished) out.push_back({lifecycle_ack_key(id), f.rec.route, f.final_payload});
    return out;
  }

  struct FollowRow {
    FollowRecord rec;
    bool finished = false;
    std::string final_payload;
  };
  std::map<std::string, FollowRow> follow_rows;
  std::string follow_reported(const std::string& id, const std::string& status) override {
    if (fail_writes) return "disk I/O error";
    auto it = follow_rows.find(id);
    if (it != follow_rows.end() && !it->second.finished) it->second.rec.reported_status = status;
    return "";
  }
  std::string follow_finished(const std::string& id, const std::string& payload) override {
    if (fail_writes) return "disk I/O error";
    auto it = follow_rows.find(id);
    if (it != follow_rows.end() && !it->second.finished) {
      it->second.finished = true;
      it->second.final_payload = payload;
    }
    return "";
  }
  std::string follow_dropped(const std::string& id) override {
    follow_rows.erase(id);
    return "";
  }
  FollowBacklog follows() override {
    FollowBacklog out;
    for (const auto& [id, f] : follow_rows) {
      if (f.finished) out.awaiting_ack.push_back(id);  // the follow's key
      else out.following.push_back(f.rec);
    }
    return out;
  }
};

class FakeTelemetry final : public Telemetry {
 public:
  int received_count = 0, started_count = 0, succeeded = 0, failed = 0, rejected = 0;
  std::string last_error;
  void received() override { ++received_count; }
  void started() override { ++started_count; }
  void finished(CommandOutcome o, bool, std::string_view error) override {
    (o == CommandOutcome::Succeeded ? succeeded : o == CommandOutcome::Failed ? failed : rejected)++;
    if (!error.empty()) last_error = std::string(error);
  }
};

// The rate-quota pacer, scripted: each acquire() takes the next step (Go when none is left). A step
// may first call on_wait, and may move the clock (the time the caller waited); `until_deadline`
// moves it to the caller's deadline and answers Deadline. Records every acquire() and ended(), and
// counts a Go not followed by its ended() (`unended`).
class FakePacer final : public CallPacer {
 public:
  struct Step {
    Turn turn = Turn::Go;
    bool call_on_wait = false;
    std::optional<std::int64_t> wait_ms;  // what on_wait is told
    std::int64_t advance_ms = 0;          // the clock moves this much before the answer
    bool until_deadline = false;          // the clock moves to the deadline; the answer is Deadline
  };
  struct Acquired {
    std::string action;
    std::int64_t deadline_ms;
  };
  struct Ended {
    std::string action;
    CallEnd end;
    std::optional<std::uint32_t> retry_after_ms;
  };
  static Step go() { return Step{}; }
  static Step wait_then_go(std::optional<std::int64_t> told, std::int64_t ms) {
    return Step{Turn::Go, true, told, ms, false};
  }
  static Step wait_until_deadline(std::optional<std::int64_t> told) {
    return Step{Turn::Deadline, true, told, 0, true};
  }
  static Step shutting_down() { return Step{Turn::ShuttingDown, false, std::nullopt, 0, false}; }

  FakeClock* clock = nullptr;
  std::deque<Step> script;
  std::vector<Acquired> acquired;
  std::vector<Ended> ended_calls;
  std::map<std::string, std::string> quota_texts;
  int unended = 0;

  Turn acquire(std::string_view action, std::int64_t deadline_ms,
               const std::function<void(std::optional<std::int64_t>)>& on_wait) override {
    acquired.push_back({std::string(action), deadline_ms});
    Step step;
    if (!script.empty()) {
      step = script.front();
      script.pop_front();
    }
    if (step.call_on_wait) on_wait(step.wait_ms);
    if (clock) {
      clock->now_ms += step.advance_ms;
      if (step.until_deadline && clock->now_unix_ms() < deadline_ms) clock->now_ms = deadline_ms - clock->offset;
    }
    if (step.turn == Turn::Go) ++unended;
    return step.turn;
  }
  void ended(std::string_view action, CallEnd end, std::optional<std::uint32_t> retry_after_ms) override {
    ended_calls.push_back({std::string(action), end, retry_after_ms});
    --unended;
  }
  std::string quota_text(std::string_view action) const override {
    auto it = quota_texts.find(std::string(action));
    return it == quota_texts.end() ? "" : it->second;
  }
  // Calls "already waiting" as the processor's intake sees them (0: none).
  std::size_t waiting_calls = 0;
  std::size_t waiting(std::string_view) override { return waiting_calls; }
};

}  // namespace swas::fakes
