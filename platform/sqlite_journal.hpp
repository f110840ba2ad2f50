// Journal port on SQLite (WAL): durable command records, with group commit so concurrent
// commands share one fsync.
#pragma once
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "expected.hpp"
#include "journal.hpp"
#include "ports.hpp"

namespace swas {

struct SqliteJournalOptions {
  std::string path;  // <state_dir>/journal.sqlite3
  Durability durability = Durability::Full;
  std::uint32_t retention_s = 86400;
  std::size_t max_records = 10000;
};

// Thread-safe. begin()/finish() return after their transaction committed (synchronous=FULL for
// Durability::Full, OFF for Durability::Process); acknowledge() only queues and never blocks.
class SqliteJournal final : public Journal {
 public:
  // Opens (or creates) the journal and checks its integrity; the error names the path and what to do.
  static Expected<std::unique_ptr<SqliteJournal>, std::string> open(const SqliteJournalOptions& options, Clock& clock);
  ~SqliteJournal() override;
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  Expected<BeginResult, std::string> begin(const JournalRecord& rec) override;
  Expected<std::vector<BeginResult>, std::string> begin_many(const std::vector<JournalRecord>& recs) override;
  std::optional<BeginResult> find(const std::string& id) override;
  void add_waiter(const std::string& id, const Route& route) override;
  Expected<std::vector<Route>, std::string> finish(const std::string& id, const std::string& payload,
                                                   const std::vector<FollowRecord>& follows = {}) override;
  void acknowledge(const std::string& key) override;
  std::vector<JournalRecord> unfinished() override;
  std::vector<PendingResult> unacknowledged(std::int64_t before_ms) override;
  std::string follow_reported(const std::string& id, const std::string& status) override;
  std::string follow_finished(const std::string& id, const std::string& payload) override;
  std::string follow_dropped(const std::string& id) override;
  FollowBacklog follows() override;

  // Prepared statements reused across transactions. Used only by the thread running a batch.
  class StatementCache {
   public:
    explicit StatementCache(sqlite3* db) : db_(db) {}
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;
    ~StatementCache() { clear(); }
    sqlite3_stmt* get(const char* sql);  // keyed by the literal's address
    void clear();

   private:
    sqlite3* db_;
    std::map<const char*, sqlite3_stmt*> statements_;
  };

  // Commits queued acknowledgements and forgets acknowledged records past the retention time.
  void maintain();
  // Transactions committed so far (group commit makes this smaller than the number of writes).
  std::uint64_t commits() const;
  std::size_t record_count() const;

 private:
  struct Op;
  SqliteJournal(SqliteJournalOptions options, Clock& clock, sqlite3* db);
  // Runs `work` inside the next group transaction and waits until that transaction committed.
  std::string submit(const std::function<std::string(sqlite3*)>& work);
  std::string run_batch(std::vector<Op*>& batch, std::vector<std::string>& acks);
  std::size_t purge(std::int64_t now_ms, bool to_make_room);
  std::string begin_in(sqlite3* db, const JournalRecord& rec, std::int64_t now, BeginResult& result);
  void remove_waiter(const std::string& id, const Route& route);

  SqliteJournalOptions options_;
  Clock& clock_;
  sqlite3* db_;
  StatementCache statements_;
  mutable std::mutex mutex_;
  std::vector<Op*> pending_;
  std::vector<std::string> pending_acks_;
  std::vector<Op*> batch_;                // the batch being committed (only its leader touches it)
  std::vector<std::string> batch_acks_;
  bool committing_ = false;
  std::uint64_t commits_ = 0;
  std::size_t records_ = 0;
  std::map<std::string, std::vector<Route>> waiters_;
};

}  // namespace swas
