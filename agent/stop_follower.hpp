// Following successful stops to Stopped with shared ListInstanceStatus polls, and the lifecycle
// messages that report it (docs/contract.md, "Following a stop to Stopped").
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloud_session.hpp"
#include "config.hpp"
#include "journal.hpp"
#include "ports.hpp"
#include "result_message.hpp"

namespace swas {

// Not thread-safe: one thread (the agent's poll thread) calls every method. Workers reach it
// through a FollowSink that the platform drains into add(). It never sleeps: poll_due() makes the
// calls that are due and says when the next one is.
class StopFollower {
 public:
  StopFollower(FollowConfig settings, CloudSession& cloud, Clock& clock, Journal& journal,
               MessagePublisher& publisher, Logger& logger);

  // Polls wait for their turn under the account's rate quota; none by default. Call before
  // poll_due().
  void set_pacer(CallPacer* pacer) { pacer_ = pacer; }
  // A poll waits at most this long for its turn, then is deferred; a deferred or throttled poll
  // is made again after kDeferredPollMs (the pacer then holds it until the quota allows).
  static constexpr std::int64_t kMaxPaceWaitMs = 60000;
  static constexpr std::int64_t kDeferredPollMs = 1000;

  // Start-up: every follow the journal holds is resumed and polled at once; final messages still
  // awaiting the broker's ack keep their slots (they are republished with the results).
  void resume();
  // A successful stop, already journaled with its result unless `journaled` is false (then, and
  // when follow.max_instances follows are kept, it is answered NotFollowed at once).
  void add(FollowRecord record, bool journaled);
  // The broker acknowledged (or refused) the final message of the follow with this key(): its
  // slot is free.
  void settled(const std::string& key);
  // Makes every poll that is due now. Returns when the next one is due (the Clock's unix ms), or
  // nullopt when nothing is followed.
  std::optional<std::int64_t> poll_due(HttpsTransport& transport);

  std::size_t following() const { return follows_.size(); }
  // Follows kept against follow.max_instances: polling, or final message awaiting its ack.
  std::size_t slots_used() const { return follows_.size() + awaiting_ack_.size(); }

 private:
  struct Follow {
    FollowRecord rec;
    std::optional<std::string> last_seen;  // the Status of the latest poll that listed it
    int not_stopping_polls = 0;            // Running, Starting or Disabled, in a row
    int absent_polls = 0;                  // not listed, in a row
  };
  struct Region {
    std::int64_t next_due_ms = 0;
    std::optional<std::int64_t> last_poll_ms;
    int failures = 0;  // failed polls in a row (the retry rule's attempts)
    // A retry goes on from the call that failed (its first InstanceId): the calls before it in the
    // same round were answered and are not made again before the interval.
    std::optional<std::string> retry_from;
    std::int64_t first_failure_ms = 0;
    bool clock_fixed = false;
    bool nonce_renewed = false;
  };
  // One ListInstanceStatus call's conclusion for the follows it covered.
  struct PollResult;

  PollResult call(const std::string& region_id, const std::vector<std::string>& instance_ids, Region& region,
                  HttpsTransport& transport);
  void poll_region(const std::string& region_id, Region& region, HttpsTransport& transport);
  void observe(Follow& follow, const std::optional<std::string>& status, std::int64_t now);
  void progress(Follow& follow, const std::string& status, std::int64_t now);
  void finish(std::string key, FollowOutcome outcome, std::optional<std::string> status, std::string message,
              std::optional<PollError> error, std::int64_t now);
  void not_followed(const FollowRecord& rec, const std::string& why);
  bool has_follows(const std::string& region_id) const;
  std::vector<std::string> ids_in(const std::string& region_id) const;
  void log(LogLevel level, const std::string& line);

  FollowConfig settings_;
  CloudSession& cloud_;
  Clock& clock_;
  Journal& journal_;
  MessagePublisher& publisher_;
  Logger& logger_;
  CallPacer* pacer_ = nullptr;
  std::map<std::string, Follow> follows_;  // by FollowRecord::key()
  std::map<std::string, Region> regions_;  // by RegionId; kept one interval after its last follow
  std::set<std::string> awaiting_ack_;     // keys of follows whose final message is not acknowledged
};

}  // namespace swas
