// SQLite journal. One connection; writers hand their work to whichever thread is committing
// (leader/follower group commit), so N concurrent commands cost one fsync, not N.
#include "sqlite_journal.hpp"

#include <algorithm>

namespace swas {
namespace {

enum State { kAccepted = 0, kFinished = 1, kAcknowledged = 2 };

const char* kSchema =
    "CREATE TABLE IF NOT EXISTS commands ("
    " id TEXT PRIMARY KEY, action TEXT NOT NULL, instance_id TEXT NOT NULL, region_id TEXT NOT NULL,"
    " client_token TEXT NOT NULL, route_topic TEXT NOT NULL, route_correlation BLOB NOT NULL,"
    " accepted_ms INTEGER NOT NULL, expires_at_ms INTEGER, state INTEGER NOT NULL,"
    " result TEXT, finished_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS commands_by_state ON commands(state, finished_ms);"
    // Follows of successful stops: state 0 polling, 1 final message recorded and not yet acknowledged
    // (the row is deleted once it is).
    "CREATE TABLE IF NOT EXISTS follows ("
    " id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, region_id TEXT NOT NULL, request_id TEXT NOT NULL,"
    " route_topic TEXT NOT NULL, route_correlation BLOB NOT NULL, accepted_ms INTEGER NOT NULL,"
    " deadline_ms INTEGER NOT NULL, reported_status TEXT NOT NULL, state INTEGER NOT NULL,"
    " final TEXT, finished_ms INTEGER);";

// A prepared statement: one-shot (finalized at the end) or borrowed from the journal's cache
// (reset for the next use). Preparing was 14 % of the agent's CPU per command (docs/performance.md).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  Stmt(SqliteJournal::StatementCache& cache, const char* sql) : s_(cache.get(sql)), cached_(true) {}
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(s_);
    } else if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  // A named string is bound without a copy (SQLITE_STATIC): it outlives the statement's use, which
  // ends when this object is destroyed (bindings cleared). A temporary is copied.
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& text(int i, std::string&& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& blob(int i, std::string&& v) = delete;
  Stmt& i64(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return s_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  std::string col_text(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  std::int64_t col_i64(int i) const { return sqlite3_column_int64(s_, i); }
  bool col_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool cached_ = false;
};

// A statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT...), prepared once: through
// sqlite3_exec every transaction parsed its BEGIN and COMMIT again.
std::string run_cached(SqliteJournal::StatementCache& cache, sqlite3* db, const char* sql) {
  Stmt s(cache, sql);
  return s.step() == SQLITE_DONE ? "" : sqlite3_errmsg(db);
}

std::string exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return "";
  std::string out = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return out;
}

JournalRecord read_record(const Stmt& s) {
  JournalRecord r;
  r.id = s.col_text(0);
  r.action = s.col_text(1);
  r.instance_id = s.col_text(2);
  r.region_id = s.col_text(3);
  r.client_token = s.col_text(4);
  r.route = Route{s.col_text(5), s.col_text(6)};
  r.accepted_ms = s.col_i64(7);
  if (!s.col_null(8)) r.expires_at_ms = s.col_i64(8);
  // An InstanceIds command's ids, one per line (instance ids hold no control characters).
  const std::string ids = s.col_text(9);
  for (std::size_t start = 0; start < ids.size();) {
    const std::size_t end = std::min(ids.find('\n', start), ids.size());
    r.instance_ids.push_back(ids.substr(start, end - start));
    start = end + 1;
  }
  r.force_stop = s.col_i64(10) != 0;
  return r;
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : "\n") + item;
  return out;
}

// Columns added after the first release of the table (issue 13): added to an older file in place,
// each one that is missing (a power cut may have come between two ALTER TABLEs).
std::string migrate(sqlite3* db) {
  bool has_instance_ids = false, has_force_stop = false;
  {
    Stmt info(db, "PRAGMA table_info(commands);");
    while (info.step() == SQLITE_ROW) {
      has_instance_ids = has_instance_ids || info.col_text(1) == "instance_ids";
      has_force_stop = has_force_stop || info.col_text(1) == "force_stop";
    }
  }
  std::string err;
  if (!has_instance_ids) err = exec(db, "ALTER TABLE commands ADD COLUMN instance_ids TEXT NOT NULL DEFAULT '';");
  if (err.empty() && !has_force_stop)
    err = exec(db, "ALTER TABLE commands ADD COLUMN force_stop INTEGER NOT NULL DEFAULT 0;");
  return err;
}

}  // namespace

struct SqliteJournal::Op {
  const std::function<std::string(sqlite3*)>* work;
  std::string error;
  bool done = false;
  // This op's thread waits here: woken once its op committed, or to lead the next batch. One
  // condition variable for all woke every waiter at every commit (2.3 wake-ups per command in a
  // burst instead of 1).
  std::condition_variable cv;
};

Expected<std::unique_ptr<SqliteJournal>, std::string> SqliteJournal::open(const SqliteJournalOptions& o, Clock& clock) {
  // No memory statistics (nothing reads them): with them every SQLite allocation and free takes a
  // global mutex. Only possible before SQLite initialises (the first open in the process).
  static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)no_memstatus;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(o.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return unexpected("journal " + o.path + ": cannot open: " + why + " (is state_dir writable by the agent?)");
  }
  std::unique_ptr<SqliteJournal> j(new SqliteJournal(o, clock, db));
  sqlite3_busy_timeout(db, 5000);
  std::string err = exec(db, "PRAGMA journal_mode=WAL;");
  if (err.empty())
    err = exec(db, o.durability == Durability::Full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
  // The WAL is checkpointed every 1,000 pages (SQLite's default) and cut back to this size after
  // each checkpoint, so the journal's files on flash are the records plus at most ~4 MiB
  // (docs/limits.md).
  if (err.empty()) err = exec(db, "PRAGMA journal_size_limit=4194304;");
  // A page cache of 256 KiB instead of SQLite's 2 MiB: the journal's hot pages are few, and after
  // a burst the bigger cache stayed resident (peak RSS 1.4 MB lower, latency the same:
  // docs/footprint.md).
  if (err.empty()) err = exec(db, "PRAGMA cache_size=-256;");
  if (err.empty()) {
    Stmt check(db, "PRAGMA quick_check;");
    if (check.step() != SQLITE_ROW || check.col_text(0) != "ok")
      err = "integrity check failed: " + check.col_text(0);
  }
  if (err.empty()) err = exec(db, kSchema);
  if (err.empty()) err = migrate(db);
  if (!err.empty())
    return unexpected("journal " + o.path + ": " + err +
                      " (if the file is corrupt, move it aside: the agent then starts with an empty journal and "
                      "any command it had not finished is lost)");
  Stmt count(db, "SELECT COUNT(*) FROM commands;");
  if (count.step() == SQLITE_ROW) j->records_ = static_cast<std::size_t>(count.col_i64(0));
  return j;
}

SqliteJournal::SqliteJournal(SqliteJournalOptions options, Clock& clock, sqlite3* db)
    : options_(std::move(options)), clock_(clock), db_(db), statements_(db) {}

SqliteJournal::~SqliteJournal() {
  maintain();
  statements_.clear();
  sqlite3_close(db_);
}

sqlite3_stmt* SqliteJournal::StatementCache::get(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  statements_[sql] = s;
  return s;
}

void SqliteJournal::StatementCache::clear() {
  for (auto& [sql, s] : statements_) sqlite3_finalize(s);
  statements_.clear();
}

std::string SqliteJournal::run_batch(std::vector<Op*>& batch, std::vector<std::string>& acks) {
  std::string err = run_cached(statements_, db_, "BEGIN IMMEDIATE;");
  if (!err.empty()) return err;
  for (const auto& key : acks) {
    if (is_lifecycle_ack_key(key)) {
      Stmt s(statements_, "DELETE FROM follows WHERE id=?1 AND state=1;");
      s.text(1, std::string(id_of_lifecycle_ack_key(key))).step();
    } else {
      Stmt s(statements_, "UPDATE commands SET state=2 WHERE id=?1 AND state=1;");
      s.text(1, key).step();
    }
  }
  for (Op* op : batch) op->error = (*op->work)(db_);
  err = run_cached(statements_, db_, "COMMIT;");
  if (!err.empty()) run_cached(statements_, db_, "ROLLBACK;");
  return err;
}

std::string SqliteJournal::submit(const std::function<std::string(sqlite3*)>& work) {
  Op op{&work, "", false, {}};
  std::unique_lock<std::mutex> lock(mutex_);
  pending_.push_back(&op);
  while (!op.done) {
    if (committing_) {
      op.cv.wait(lock);
      continue;
    }
    committing_ = true;
    batch_.swap(pending_);  // both keep their capacity: no allocation per commit
    batch_acks_.swap(pending_acks_);
    lock.unlock();
    const std::string commit_error = run_batch(batch_, batch_acks_);
    lock.lock();
    ++commits_;
    for (Op* o : batch_) {
      if (!commit_error.empty()) o->error = "commit failed: " + commit_error;
      o->done = true;
      if (o != &op) o->cv.notify_one();
    }
    batch_.clear();
    batch_acks_.clear();
    committing_ = false;
    // Whatever arrived meanwhile: its first thread leads the next batch (a thread that submits
    // before it wakes may take the lead instead; the woken one then waits for that commit).
    if (!pending_.empty()) pending_.front()->cv.notify_one();
  }
  return op.error;
}

std::size_t SqliteJournal::purge(std::int64_t now_ms, bool to_make_room) {
  const std::int64_t cutoff = now_ms - std::int64_t{options_.retention_s} * 1000;
  Stmt old(db_, "DELETE FROM commands WHERE state=2 AND finished_ms < ?1;");
  old.i64(1, cutoff).step();
  auto removed = static_cast<std::size_t>(sqlite3_changes(db_));
  if (to_make_room) {
    // At the bound, acknowledged records go first, oldest first: they only serve duplicates.
    Stmt room(db_, "DELETE FROM commands WHERE id IN (SELECT id FROM commands WHERE state=2 ORDER BY finished_ms LIMIT ?1);");
    room.i64(1, static_cast<std::int64_t>(options_.max_records / 10 + 1)).step();
    removed += static_cast<std::size_t>(sqlite3_changes(db_));
  }
  return removed;
}

// Inside a transaction: records `rec` unless its id is known (see begin()).
std::string SqliteJournal::begin_in(sqlite3* db, const JournalRecord& rec, std::int64_t now, BeginResult& result) {
  Stmt find(statements_, "SELECT state, result FROM commands WHERE id=?1;");
  if (find.text(1, rec.id).step() == SQLITE_ROW) {
    result.state = find.col_i64(0) == kAccepted ? BeginState::InFlight : BeginState::Finished;
    result.result_payload = find.col_text(1);
    if (result.state == BeginState::InFlight) {
      // Inside the transaction that saw it unfinished: its finish() commits later and collects the
      // waiters only after that, so this route cannot be missed.
      add_waiter(rec.id, rec.route);
      result.waiter_added = true;
    }
    return "";
  }
  if (records_ >= options_.max_records) records_ -= purge(now, true);
  if (records_ >= options_.max_records) {
    result.state = BeginState::Full;
    return "";
  }
  Stmt ins(statements_, "INSERT INTO commands(id, action, instance_id, region_id, client_token, route_topic,"
               " route_correlation, accepted_ms, expires_at_ms, state, instance_ids, force_stop)"
               " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,0,?10,?11);");
  ins.text(10, join_lines(rec.instance_ids)).i64(11, rec.force_stop ? 1 : 0);
  ins.text(1, rec.id).text(2, rec.action).text(3, rec.instance_id).text(4, rec.region_id).text(5, rec.client_token);
  ins.text(6, rec.route.topic).blob(7, rec.route.correlation_data).i64(8, rec.accepted_ms);
  if (rec.expires_at_ms) ins.i64(9, *rec.expires_at_ms);
  else ins.null(9);
  if (ins.step() != SQLITE_DONE) return sqlite3_errmsg(db);
  ++records_;
  result.state = BeginState::New;
  return "";
}

Expected<BeginResult, std::string> SqliteJournal::begin(const JournalRecord& rec) {
  BeginResult result;
  const std::int64_t now = clock_.now_unix_ms();
  const std::string err = submit([&](sqlite3* db) { return begin_in(db, rec, now, result); });
  if (!err.empty()) {
    if (result.waiter_added) remove_waiter(rec.id, rec.route);  // answered Busy instead
    return unexpected(err);
  }
  return result;
}

Expected<std::vector<BeginResult>, std::string> SqliteJournal::begin_many(const std::vector<JournalRecord>& recs) {
  std::vector<BeginResult> results(recs.size());
  const std::int64_t now = clock_.now_unix_ms();
  const std::string err = submit([&](sqlite3* db) -> std::string {
    // All or nothing: a failed record undoes the ones before it (the group's other work commits).
    const std::size_t records_before = records_;
    if (auto e = run_cached(statements_, db, "SAVEPOINT begin_many;"); !e.empty()) return e;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (auto e = begin_in(db, recs[i], now, results[i]); !e.empty()) {
        run_cached(statements_, db, "ROLLBACK TO begin_many;");
        run_cached(statements_, db, "RELEASE begin_many;");
        records_ = records_before;
        return e;
      }
    }
    return run_cached(statements_, db, "RELEASE begin_many;");
  });
  if (!err.empty()) {
    for (std::size_t i = 0; i < recs.size(); ++i)
      if (results[i].waiter_added) remove_waiter(recs[i].id, recs[i].route);  // answered Busy instead
    return unexpected(err);
  }
  return results;
}

std::optional<BeginResult> SqliteJournal::find(const std::string& id) {
  std::optional<BeginResult> result;
  submit([&](sqlite3*) -> std::string {
    Stmt s(statements_, "SELECT state, result FROM commands WHERE id=?1;");
    if (s.text(1, id).step() == SQLITE_ROW)
      result = BeginResult{s.col_i64(0) == kAccepted ? BeginState::InFlight : BeginState::Finished, s.col_text(1)};
    return "";
  });
  return result;
}

void SqliteJournal::add_waiter(const std::string& id, const Route& route) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& list = waiters_[id];
  if (list.size() < 16) list.push_back(route);  // bounded: a flood of duplicates is not a memory leak
}

void SqliteJournal::remove_waiter(const std::string& id, const Route& route) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  for (auto r = list.rbegin(); r != list.rend(); ++r) {
    if (r->topic == route.topic && r->correlation_data == route.correlation_data) {
      list.erase(std::next(r).base());
      break;
    }
  }
  if (list.empty()) waiters_.erase(it);
}

Expected<std::vector<Route>, std::string> SqliteJournal::finish(const std::string& id, const std::string& payload,
                                                                const std::vector<FollowRecord>& follows) {
  const std::int64_t now = clock_.now_unix_ms();
  const std::string err = submit([&](sqlite3* db) -> std::string {
    Stmt up(statements_, "UPDATE commands SET state=1, result=?2, finished_ms=?3 WHERE id=?1;");
    if (up.text(1, id).text(2, payload).i64(3, now).step() != SQLITE_DONE) return sqlite3_errmsg(db);
    for (const FollowRecord& f : follows) {
      const FollowRecord* follow = &f;
      Stmt ins(statements_, "INSERT OR IGNORE INTO follows(id, instance_id, region_id, request_id, route_topic,"
                            " route_correlation, accepted_ms, deadline_ms, reported_status, state)"
                            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,0);");
      ins.text(1, follow->key()).text(2, follow->instance_id).text(3, follow->region_id).text(4, follow->request_id);
      ins.text(5, follow->route.topic).blob(6, follow->route.correlation_data).i64(7, follow->accepted_ms);
      ins.i64(8, follow->deadline_ms).text(9, follow->reported_status);
      if (ins.step() != SQLITE_DONE) return sqlite3_errmsg(db);
    }
    return "";
  });
  std::vector<Route> extra;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = waiters_.find(id);
    if (it != waiters_.end()) {
      extra = std::move(it->second);
      waiters_.erase(it);
    }
  }
  if (!err.empty()) return unexpected(err);
  return extra;
}

void SqliteJournal::acknowledge(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_acks_.size() < 100000) pending_acks_.push_back(id);
}

void SqliteJournal::maintain() {
  const std::int64_t now = clock_.now_unix_ms();
  submit([&](sqlite3*) -> std::string {
    records_ -= purge(now, false);
    return "";
  });
}

std::vector<JournalRecord> SqliteJournal::unfinished() {
  std::vector<JournalRecord> out;
  submit([&](sqlite3* db) -> std::string {
    Stmt s(db, "SELECT id, action, instance_id, region_id, client_token, route_topic, route_correlation,"
               " accepted_ms, expires_at_ms, instance_ids, force_stop FROM commands WHERE state=0 ORDER BY accepted_ms;");
    while (s.step() == SQLITE_ROW) out.push_back(read_record(s));
    return "";
  });
  return out;
}

std::vector<PendingResult> SqliteJournal::unacknowledged(std::int64_t before_ms) {
  std::vector<PendingResult> out;
  submit([&](sqlite3* db) -> std::string {
    Stmt s(db, "SELECT 0, id, route_topic, route_correlation, result, finished_ms FROM commands"
               " WHERE state=1 AND finished_ms < ?1"
               " UNION ALL SELECT 1, id, route_topic, route_correlation, final, finished_ms FROM follows"
               " WHERE state=1 AND finished_ms < ?1 ORDER BY 6 LIMIT 1000;");
    s.i64(1, before_ms);
    while (s.step() == SQLITE_ROW) {
      const std::string id = s.col_text(1);
      out.push_back(PendingResult{s.col_i64(0) == 1 ? lifecycle_ack_key(id) : id, Route{s.col_text(2), s.col_text(3)},
                                  s.col_text(4)});
    }
    return "";
  });
  return out;
}

std::string SqliteJournal::follow_reported(const std::string& id, const std::string& status) {
  return submit([&](sqlite3* db) -> std::string {
    Stmt s(statements_, "UPDATE follows SET reported_status=?2 WHERE id=?1 AND state=0;");
    return s.text(1, id).text(2, status).step() == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  });
}

std::string SqliteJournal::follow_finished(const std::string& id, const std::string& payload) {
  const std::int64_t now = clock_.now_unix_ms();
  return submit([&](sqlite3* db) -> std::string {
    Stmt s(statements_, "UPDATE follows SET state=1, final=?2, finished_ms=?3 WHERE id=?1 AND state=0;");
    return s.text(1, id).text(2, payload).i64(3, now).step() == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  });
}

std::string SqliteJournal::follow_dropped(const std::string& id) {
  return submit([&](sqlite3* db) -> std::string {
    Stmt s(statements_, "DELETE FROM follows WHERE id=?1;");
    return s.text(1, id).step() == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  });
}

FollowBacklog SqliteJournal::follows() {
  FollowBacklog out;
  submit([&](sqlite3* db) -> std::string {
    Stmt s(db, "SELECT id, instance_id, region_id, request_id, route_topic, route_correlation, accepted_ms,"
               " deadline_ms, reported_status, state FROM follows ORDER BY accepted_ms;");
    while (s.step() == SQLITE_ROW) {
      if (s.col_i64(9) != 0) {
        out.awaiting_ack.push_back(s.col_text(0));
        continue;
      }
      FollowRecord rec{s.col_text(0), s.col_text(1), s.col_text(2), s.col_text(3),
                       Route{s.col_text(4), s.col_text(5)}, s.col_i64(6), s.col_i64(7), s.col_text(8), false};
      if (const auto sep = rec.id.find('\x1f'); sep != std::string::npos) {  // an InstanceIds command's
        rec.id.resize(sep);
        rec.many = true;
      }
      out.following.push_back(std::move(rec));
    }
    return "";
  });
  return out;
}

std::uint64_t SqliteJournal::commits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return commits_;
}

std::size_t SqliteJournal::record_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

}  // namespace swas
