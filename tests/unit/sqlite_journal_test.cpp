// The SQLite journal on real files: durability across reopen, bounds, group commit, bad files.
#include "sqlite_journal.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <fstream>
#include <thread>

#include "fakes.hpp"

namespace swas {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/journal-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    options.path = dir + "/journal.sqlite3";
  }
  void TearDown() override {
    ::chmod(dir.c_str(), 0700);
    [[maybe_unused]] int rc = std::system(("rm -rf '" + dir + "'").c_str());
  }
  std::unique_ptr<SqliteJournal> open() {
    auto j = SqliteJournal::open(options, clock);
    EXPECT_TRUE(j.has_value()) << (j ? "" : j.error());
    return j ? std::move(*j) : nullptr;
  }
  static JournalRecord record(const std::string& id) {
    return JournalRecord{id, "StopInstance", "i-" + id, "cn-hangzhou", "tok-" + id,
                         Route{"reply/" + id, std::string("c\0rr", 4)}, 1000, 5000};
  }
  std::string dir;
  SqliteJournalOptions options;
  fakes::FakeClock clock;
};

TEST_F(JournalTest, RecordsSurviveReopenWithTheirTokenAndRoute) {
  {
    auto j = open();
    ASSERT_EQ(j->begin(record("a"))->state, BeginState::New);
    ASSERT_EQ(j->begin(record("b"))->state, BeginState::New);
    ASSERT_TRUE(j->finish("b", "{\"result\":\"b\"}").has_value());
  }
  auto j = open();
  auto unfinished = j->unfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].id, "a");
  EXPECT_EQ(unfinished[0].client_token, "tok-a");
  EXPECT_EQ(unfinished[0].route.topic, "reply/a");
  EXPECT_EQ(unfinished[0].route.correlation_data, std::string("c\0rr", 4));
  EXPECT_EQ(unfinished[0].expires_at_ms, 5000);
  auto pending = j->unacknowledged(clock.now_ms + 1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].payload, "{\"result\":\"b\"}");
  EXPECT_EQ(j->begin(record("a"))->state, BeginState::InFlight);
  auto again = j->begin(record("b"));
  EXPECT_EQ(again->state, BeginState::Finished);
  EXPECT_EQ(again->result_payload, "{\"result\":\"b\"}");
}

TEST_F(JournalTest, AcknowledgedResultsAreNotRepublishedAndAreForgottenAfterRetention) {
  options.retention_s = 60;
  auto j = open();
  j->begin(record("a"));
  j->finish("a", "A");
  j->acknowledge("a");
  j->maintain();
  EXPECT_TRUE(j->unacknowledged(clock.now_ms + 1).empty());
  EXPECT_EQ(j->begin(record("a"))->state, BeginState::Finished);  // still remembered
  clock.now_ms += 61 * 1000;
  j->maintain();
  EXPECT_EQ(j->record_count(), 0u);
  EXPECT_EQ(j->begin(record("a"))->state, BeginState::New);  // forgotten after retention
}

TEST_F(JournalTest, AtTheBoundAcknowledgedRecordsMakeRoomAndUnfinishedOnesNever) {
  options.max_records = 10;
  auto j = open();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(j->begin(record("r" + std::to_string(i)))->state, BeginState::New);
  EXPECT_EQ(j->begin(record("x"))->state, BeginState::Full);  // all unfinished: nothing may go
  j->finish("r0", "R0");
  j->acknowledge("r0");
  j->maintain();
  EXPECT_EQ(j->begin(record("x"))->state, BeginState::New);  // r0 was forgotten to make room
  EXPECT_EQ(j->begin(record("r0"))->state, BeginState::Full);
  EXPECT_EQ(j->record_count(), 10u);
}

TEST_F(JournalTest, WaitersAreReturnedOnceByFinish) {
  auto j = open();
  j->begin(record("a"));
  j->add_waiter("a", Route{"dup/1", ""});
  j->add_waiter("a", Route{"dup/2", "x"});
  auto extra = j->finish("a", "A");
  ASSERT_TRUE(extra.has_value());
  ASSERT_EQ(extra->size(), 2u);
  EXPECT_EQ((*extra)[1].correlation_data, "x");
}

TEST_F(JournalTest, ConcurrentWritersShareCommits) {
  auto j = open();
  const auto before = j->commits();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        ASSERT_EQ(j->begin(record(id))->state, BeginState::New);
        ASSERT_TRUE(j->finish(id, "R").has_value());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(j->record_count(), 200u);
  // 400 durable writes; with group commit they need fewer transactions (each is one fsync).
  EXPECT_LT(j->commits() - before, 400u);
  EXPECT_TRUE(j->unfinished().empty());
}

TEST_F(JournalTest, CorruptFileIsAClearErrorNamingThePath) {
  { std::ofstream(options.path) << std::string(8192, 'x'); }
  auto j = SqliteJournal::open(options, clock);
  ASSERT_FALSE(j.has_value());
  EXPECT_NE(j.error().find(options.path), std::string::npos);
  EXPECT_NE(j.error().find("move it aside"), std::string::npos) << j.error();
}

TEST_F(JournalTest, ReadOnlyStateDirIsAClearError) {
  if (::geteuid() == 0) {
    // root ignores directory modes; use a path under a file instead, which no one can create.
    { std::ofstream(dir + "/not-a-dir") << "x"; }
    options.path = dir + "/not-a-dir/journal.sqlite3";
  } else {
    ::chmod(dir.c_str(), 0500);
  }
  auto j = SqliteJournal::open(options, clock);
  ASSERT_FALSE(j.has_value());
  EXPECT_NE(j.error().find("cannot open"), std::string::npos) << j.error();
}

// --- Follows of successful stops (docs/contract.md, "Following a stop to Stopped") ---------------

FollowRecord follow_of(const std::string& id) {
  return FollowRecord{id, "i-" + id, "cn-hangzhou", "REQ-" + id, Route{"reply/" + id, std::string("c\0rr", 4)},
                      1000, 601000, ""};
}

TEST_F(JournalTest, AFollowIsRecordedWithTheResultAndSurvivesReopen) {
  {
    auto j = open();
    j->begin(record("a"));
    j->begin(record("b"));
    ASSERT_TRUE(j->finish("a", "RESULT-A", {}).has_value());
    const FollowRecord f = follow_of("b");
    ASSERT_TRUE(j->finish("b", "RESULT-B", {f}).has_value());
    EXPECT_EQ(j->follow_reported("b", "Stopping"), "");
  }
  auto j = open();
  const FollowBacklog backlog = j->follows();
  ASSERT_EQ(backlog.following.size(), 1u);
  EXPECT_TRUE(backlog.awaiting_ack.empty());
  const FollowRecord& f = backlog.following[0];
  EXPECT_EQ(f.id, "b");
  EXPECT_EQ(f.instance_id, "i-b");
  EXPECT_EQ(f.region_id, "cn-hangzhou");
  EXPECT_EQ(f.request_id, "REQ-b");
  EXPECT_EQ(f.route.topic, "reply/b");
  EXPECT_EQ(f.route.correlation_data, std::string("c\0rr", 4));
  EXPECT_EQ(f.accepted_ms, 1000);
  EXPECT_EQ(f.deadline_ms, 601000);
  EXPECT_EQ(f.reported_status, "Stopping");
  auto known = j->begin(record("b"));
  EXPECT_EQ(known->state, BeginState::Finished);
  EXPECT_EQ(known->result_payload, "RESULT-B");
}

TEST_F(JournalTest, AFinishedFollowIsRepublishedUnderItsAckKeyUntilAcknowledged) {
  auto j = open();
  j->begin(record("a"));
  const FollowRecord f = follow_of("a");
  j->finish("a", "RESULT-A", {f});
  j->acknowledge("a");  // the result's ack
  clock.now_ms += 10;
  EXPECT_EQ(j->follow_finished("a", "FINAL-A"), "");
  EXPECT_EQ(j->follow_reported("a", "Running"), "");  // too late: changes nothing
  auto pending = j->unacknowledged(clock.now_ms + 1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, lifecycle_ack_key("a"));
  EXPECT_EQ(pending[0].payload, "FINAL-A");
  EXPECT_EQ(pending[0].route.topic, "reply/a");
  EXPECT_EQ(pending[0].route.correlation_data, std::string("c\0rr", 4));
  EXPECT_TRUE(j->unacknowledged(clock.now_ms).empty());  // recorded at now: not before now
  FollowBacklog backlog = j->follows();
  EXPECT_TRUE(backlog.following.empty());
  EXPECT_EQ(backlog.awaiting_ack, std::vector<std::string>{"a"});
  EXPECT_EQ(j->follow_finished("a", "ANOTHER"), "");  // a second final changes nothing
  EXPECT_EQ(j->unacknowledged(clock.now_ms + 1)[0].payload, "FINAL-A");

  j->acknowledge(lifecycle_ack_key("a"));
  backlog = j->follows();  // the ack is applied with the next transaction
  EXPECT_TRUE(backlog.following.empty());
  EXPECT_TRUE(backlog.awaiting_ack.empty());
  EXPECT_TRUE(j->unacknowledged(clock.now_ms + 1).empty());
  EXPECT_EQ(j->begin(record("a"))->state, BeginState::Finished);  // the command is still remembered
}

TEST_F(JournalTest, ResultsAndFinalMessagesAreRepublishedOldestFirst) {
  auto j = open();
  j->begin(record("a"));
  j->begin(record("b"));
  const FollowRecord fa = follow_of("a");
  j->finish("a", "RESULT-A", {fa});
  clock.now_ms += 10;
  j->follow_finished("a", "FINAL-A");
  clock.now_ms += 10;
  j->finish("b", "RESULT-B");
  auto pending = j->unacknowledged(clock.now_ms + 1);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].id, "a");
  EXPECT_EQ(pending[1].id, lifecycle_ack_key("a"));
  EXPECT_EQ(pending[2].id, "b");
  // The result's ack leaves the final message pending, and the other way round.
  j->acknowledge("b");
  j->acknowledge(lifecycle_ack_key("a"));
  pending = j->unacknowledged(clock.now_ms + 1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, "a");
}

TEST_F(JournalTest, AnAckKeyDeletesOnlyAFinishedFollow) {
  auto j = open();
  j->begin(record("a"));
  const FollowRecord f = follow_of("a");
  j->finish("a", "RESULT-A", {f});
  j->acknowledge(lifecycle_ack_key("a"));  // a stray ack while it is still followed
  j->acknowledge("a");                     // the result's ack, same id: not the follow's
  ASSERT_EQ(j->follows().following.size(), 1u);
  j->acknowledge(lifecycle_ack_key("other"));
  EXPECT_EQ(j->follows().following.size(), 1u);
}

TEST_F(JournalTest, ADroppedFollowIsForgottenInAnyState) {
  auto j = open();
  j->begin(record("a"));
  j->begin(record("b"));
  const FollowRecord fa = follow_of("a"), fb = follow_of("b");
  j->finish("a", "RESULT-A", {fa});
  j->finish("b", "RESULT-B", {fb});
  j->follow_finished("b", "FINAL-B");
  EXPECT_EQ(j->follow_dropped("a"), "");
  EXPECT_EQ(j->follow_dropped("b"), "");
  EXPECT_EQ(j->follow_dropped("never"), "");
  const FollowBacklog backlog = j->follows();
  EXPECT_TRUE(backlog.following.empty());
  EXPECT_TRUE(backlog.awaiting_ack.empty());
  EXPECT_EQ(j->unacknowledged(clock.now_ms + 1).size(), 2u);  // the two results only
}

TEST_F(JournalTest, FollowsComeBackInTheOrderTheCommandsArrived) {
  auto j = open();
  for (const std::string id : {"z", "m", "a"}) {
    j->begin(record(id));
    FollowRecord f = follow_of(id);
    f.accepted_ms = id == "z" ? 1 : id == "m" ? 2 : 3;
    j->finish(id, "R", {f});
  }
  const FollowBacklog backlog = j->follows();
  ASSERT_EQ(backlog.following.size(), 3u);
  EXPECT_EQ(backlog.following[0].id, "z");
  EXPECT_EQ(backlog.following[1].id, "m");
  EXPECT_EQ(backlog.following[2].id, "a");
}

TEST_F(JournalTest, AJournalWithoutTheFollowsTableGetsIt) {
  {
    // The schema of the journal before issue 12.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
    const char* old_schema =
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE commands ("
        " id TEXT PRIMARY KEY, action TEXT NOT NULL, instance_id TEXT NOT NULL, region_id TEXT NOT NULL,"
        " client_token TEXT NOT NULL, route_topic TEXT NOT NULL, route_correlation BLOB NOT NULL,"
        " accepted_ms INTEGER NOT NULL, expires_at_ms INTEGER, state INTEGER NOT NULL,"
        " result TEXT, finished_ms INTEGER);"
        "CREATE INDEX commands_by_state ON commands(state, finished_ms);"
        "INSERT INTO commands VALUES('old','StopInstance','i-old','cn-hangzhou','tok','t',x'',1,NULL,0,NULL,NULL);";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  auto j = open();
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->unfinished().size(), 1u);
  EXPECT_TRUE(j->follows().following.empty());
  const FollowRecord f = follow_of("old");
  ASSERT_TRUE(j->finish("old", "RESULT", {f}).has_value());
  EXPECT_EQ(j->follows().following.size(), 1u);
  EXPECT_EQ(j->follow_finished("old", "FINAL"), "");
  EXPECT_EQ(j->follows().awaiting_ack.size(), 1u);
}

// --- InstanceIds commands (issue 13) --------------------------------------------------------------

JournalRecord many_record(const std::string& id, std::vector<std::string> ids, bool force) {
  JournalRecord rec{id, "StopInstance", "", "cn-hangzhou", "tok-" + id, Route{"reply/" + id, "corr"}, 2000, std::nullopt};
  rec.instance_ids = std::move(ids);
  rec.force_stop = force;
  return rec;
}

// Executes `sql` on the journal file with a connection of its own.
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::vector<std::string> columns_of_commands(const std::string& path) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA table_info(commands);", -1, &s, nullptr);
  while (sqlite3_step(s) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST_F(JournalTest, AnInstanceIdsCommandRoundTripsThroughBeginAndUnfinished) {
  const std::vector<std::string> ids = {"ace0706b2ac4454d984295a94213abcd", "i-\xe4\xb8\xad", "i-3"};
  {
    auto j = open();
    ASSERT_EQ(j->begin(many_record("m", ids, true))->state, BeginState::New);
    ASSERT_EQ(j->begin(many_record("one-id", {"i-only"}, false))->state, BeginState::New);
    ASSERT_EQ(j->begin(record("single"))->state, BeginState::New);
  }
  auto j = open();
  const auto unfinished = j->unfinished();
  ASSERT_EQ(unfinished.size(), 3u);
  std::map<std::string, JournalRecord> by_id;
  for (const auto& r : unfinished) by_id[r.id] = r;
  EXPECT_EQ(by_id["m"].instance_ids, ids);
  EXPECT_TRUE(by_id["m"].force_stop);
  EXPECT_EQ(by_id["m"].instance_id, "");
  EXPECT_EQ(by_id["m"].client_token, "tok-m");
  EXPECT_EQ(by_id["one-id"].instance_ids, std::vector<std::string>{"i-only"});
  EXPECT_FALSE(by_id["one-id"].force_stop);
  EXPECT_TRUE(by_id["single"].instance_ids.empty());
  EXPECT_FALSE(by_id["single"].force_stop);
  EXPECT_EQ(by_id["single"].instance_id, "i-single");
  // A hundred ids of 256 bytes survive too.
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i) many.push_back(std::to_string(i) + std::string(250, 'x'));
  ASSERT_EQ(j->begin(many_record("big", many, false))->state, BeginState::New);
  for (const auto& r : j->unfinished()) {
    if (r.id != "big") continue;
    EXPECT_EQ(r.instance_ids, many);
  }
}

// The schema of issue 12: commands without instance_ids/force_stop, and follows.
const char* kIssue12Schema =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE commands ("
    " id TEXT PRIMARY KEY, action TEXT NOT NULL, instance_id TEXT NOT NULL, region_id TEXT NOT NULL,"
    " client_token TEXT NOT NULL, route_topic TEXT NOT NULL, route_correlation BLOB NOT NULL,"
    " accepted_ms INTEGER NOT NULL, expires_at_ms INTEGER, state INTEGER NOT NULL,"
    " result TEXT, finished_ms INTEGER);"
    "CREATE INDEX commands_by_state ON commands(state, finished_ms);"
    "CREATE TABLE follows ("
    " id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, region_id TEXT NOT NULL, request_id TEXT NOT NULL,"
    " route_topic TEXT NOT NULL, route_correlation BLOB NOT NULL, accepted_ms INTEGER NOT NULL,"
    " deadline_ms INTEGER NOT NULL, reported_status TEXT NOT NULL, state INTEGER NOT NULL,"
    " final TEXT, finished_ms INTEGER);"
    "INSERT INTO commands VALUES('old','StopInstance','i-old','cn-hangzhou','tok','t',x'',1,NULL,0,NULL,NULL);"
    "INSERT INTO commands VALUES('done','StopInstance','i-done','cn-hangzhou','tok','t',x'',1,NULL,1,'R',5);"
    "INSERT INTO follows VALUES('done','i-done','cn-hangzhou','REQ','t',x'',1,601000,'Stopping',0,NULL,NULL);";

TEST_F(JournalTest, AJournalWithoutTheInstanceIdsColumnsIsMigratedInPlace) {
  run_sql(options.path, kIssue12Schema);
  {
    auto j = open();
    ASSERT_NE(j, nullptr);
    const auto unfinished = j->unfinished();
    ASSERT_EQ(unfinished.size(), 1u);
    EXPECT_EQ(unfinished[0].id, "old");
    EXPECT_EQ(unfinished[0].instance_id, "i-old");
    EXPECT_TRUE(unfinished[0].instance_ids.empty());
    EXPECT_FALSE(unfinished[0].force_stop);
    const auto backlog = j->follows();
    ASSERT_EQ(backlog.following.size(), 1u);
    EXPECT_EQ(backlog.following[0].id, "done");
    EXPECT_FALSE(backlog.following[0].many);
    EXPECT_EQ(backlog.following[0].reported_status, "Stopping");
    ASSERT_EQ(j->begin(many_record("new", {"i-1", "i-2"}, true))->state, BeginState::New);
    EXPECT_EQ(j->begin(record("done"))->state, BeginState::Finished);  // its result is still known
  }
  const auto columns = columns_of_commands(options.path);
  EXPECT_NE(std::find(columns.begin(), columns.end(), "instance_ids"), columns.end());
  EXPECT_NE(std::find(columns.begin(), columns.end(), "force_stop"), columns.end());
  // Opening the migrated file again changes nothing.
  auto j = open();
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(columns_of_commands(options.path), columns);
  const auto unfinished = j->unfinished();
  ASSERT_EQ(unfinished.size(), 2u);
  for (const auto& r : unfinished) {
    if (r.id != "new") continue;
    EXPECT_EQ(r.instance_ids, (std::vector<std::string>{"i-1", "i-2"}));
    EXPECT_TRUE(r.force_stop);
  }
}

// A power cut between the migration's two ALTER TABLE statements (each commits on its own) leaves
// instance_ids without force_stop: the next start completes the migration.
TEST_F(JournalTest, AMigrationCutShortIsCompletedAtTheNextOpen) {
  run_sql(options.path, std::string(kIssue12Schema) +
                            "ALTER TABLE commands ADD COLUMN instance_ids TEXT NOT NULL DEFAULT '';");
  auto j = open();
  ASSERT_NE(j, nullptr);
  const auto unfinished = j->unfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].id, "old");
  auto begun = j->begin(many_record("new", {"i-1"}, true));
  ASSERT_TRUE(begun.has_value()) << begun.error();
  EXPECT_EQ(begun->state, BeginState::New);
  EXPECT_EQ(j->unfinished().size(), 2u);
}

TEST_F(JournalTest, TheFollowsOfAnInstanceIdsCommandAreKeyedAndAcknowledgedPerInstance) {
  auto rec_of = [](const std::string& instance) {
    FollowRecord f = follow_of("m");
    f.instance_id = instance;
    f.many = true;
    return f;
  };
  const FollowRecord f1 = rec_of("i-1"), f2 = rec_of("i-2"), f3 = rec_of("i-3");
  {
    auto j = open();
    j->begin(many_record("m", {"i-1", "i-2", "i-3"}, false));
    ASSERT_TRUE(j->finish("m", "RESULT-M", {f1, f2, f3}).has_value());
    j->acknowledge("m");  // the result's ack: the follows stay
    EXPECT_EQ(j->follow_reported(f2.key(), "Stopping"), "");
    clock.now_ms += 10;
    EXPECT_EQ(j->follow_finished(f1.key(), "FINAL-1"), "");
  }
  auto j = open();
  FollowBacklog backlog = j->follows();
  ASSERT_EQ(backlog.following.size(), 2u);
  std::map<std::string, FollowRecord> following;
  for (const auto& f : backlog.following) following[f.instance_id] = f;
  ASSERT_TRUE(following.count("i-2") && following.count("i-3"));
  for (const auto& [instance, f] : following) {
    EXPECT_EQ(f.id, "m") << instance;  // the command id, without the instance
    EXPECT_TRUE(f.many) << instance;
    EXPECT_EQ(f.key(), std::string("m\x1f") + instance);
    EXPECT_EQ(f.request_id, "REQ-m");
    EXPECT_EQ(f.route.correlation_data, std::string("c\0rr", 4));
  }
  EXPECT_EQ(following["i-2"].reported_status, "Stopping");
  EXPECT_EQ(following["i-3"].reported_status, "");
  EXPECT_EQ(backlog.awaiting_ack, std::vector<std::string>{f1.key()});
  // The final message of i-1 is republished under its own ack key until acknowledged.
  auto pending = j->unacknowledged(clock.now_ms + 1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, lifecycle_ack_key(f1.key()));
  EXPECT_EQ(pending[0].payload, "FINAL-1");
  // The other instances' keys do not acknowledge it, nor does the command's own id.
  j->acknowledge(lifecycle_ack_key(f2.key()));
  j->acknowledge(lifecycle_ack_key("m"));
  EXPECT_EQ(j->unacknowledged(clock.now_ms + 1).size(), 1u);
  EXPECT_EQ(j->follows().following.size(), 2u);
  j->acknowledge(lifecycle_ack_key(f1.key()));
  EXPECT_TRUE(j->unacknowledged(clock.now_ms + 1).empty());
  backlog = j->follows();
  EXPECT_TRUE(backlog.awaiting_ack.empty());
  EXPECT_EQ(backlog.following.size(), 2u);
  // Dropping one instance's follow leaves the others.
  EXPECT_EQ(j->follow_dropped(f3.key()), "");
  backlog = j->follows();
  ASSERT_EQ(backlog.following.size(), 1u);
  EXPECT_EQ(backlog.following[0].instance_id, "i-2");
}

// --- begin_many: several records as one change (commit cd7cfa1) ----------------------------------

std::vector<BeginState> states(const std::vector<BeginResult>& results) {
  std::vector<BeginState> out;
  for (const auto& r : results) out.push_back(r.state);
  return out;
}

std::vector<std::string> unfinished_ids(SqliteJournal& j) {
  std::vector<std::string> out;
  for (const auto& r : j.unfinished()) out.push_back(r.id);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(JournalTest, BeginManyRecordsEveryRecordInOneCommitThatSurvivesReopen) {
  {
    auto j = open();
    const auto before = j->commits();
    auto begun = j->begin_many({record("a"), record("b"), record("c"), record("d"), record("e")});
    ASSERT_TRUE(begun.has_value()) << begun.error();
    EXPECT_EQ(j->commits() - before, 1u);
    EXPECT_EQ(states(*begun), std::vector<BeginState>(5, BeginState::New));
    EXPECT_EQ(j->record_count(), 5u);
  }
  auto j = open();
  EXPECT_EQ(j->record_count(), 5u);
  EXPECT_EQ(unfinished_ids(*j), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  for (const auto& r : j->unfinished()) {
    EXPECT_EQ(r.client_token, "tok-" + r.id);
    EXPECT_EQ(r.route.topic, "reply/" + r.id);
    EXPECT_EQ(r.route.correlation_data, std::string("c\0rr", 4));
  }
}

TEST_F(JournalTest, BeginManyAnswersKnownIdsAndALaterRecordWithAnEarlierOnesIdIsInFlight) {
  {
    auto j = open();
    j->begin(record("done"));
    ASSERT_TRUE(j->finish("done", "RESULT-DONE").has_value());
    j->begin(record("acked"));
    ASSERT_TRUE(j->finish("acked", "RESULT-ACKED").has_value());
    j->acknowledge("acked");
    j->begin(record("running"));
    JournalRecord second_x = record("x");
    second_x.route = Route{"reply/other", "other"};
    second_x.client_token = "tok-other";
    const auto before = j->commits();
    auto begun = j->begin_many({record("x"), record("done"), record("running"), second_x, record("acked"), record("y")});
    ASSERT_TRUE(begun.has_value()) << begun.error();
    EXPECT_EQ(j->commits() - before, 1u);
    EXPECT_EQ(states(*begun), (std::vector<BeginState>{BeginState::New, BeginState::Finished, BeginState::InFlight,
                                                       BeginState::InFlight, BeginState::Finished, BeginState::New}));
    EXPECT_EQ((*begun)[1].result_payload, "RESULT-DONE");
    EXPECT_EQ((*begun)[4].result_payload, "RESULT-ACKED");
    EXPECT_EQ(j->record_count(), 5u);  // done, acked, running, x, y
  }
  auto j = open();
  EXPECT_EQ(unfinished_ids(*j), (std::vector<std::string>{"running", "x", "y"}));
  for (const auto& r : j->unfinished()) {
    if (r.id != "x") continue;
    EXPECT_EQ(r.route.topic, "reply/x");  // the first delivery's, not the duplicate's
    EXPECT_EQ(r.client_token, "tok-x");
  }
  auto done = j->find("done");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, BeginState::Finished);
  EXPECT_EQ(done->result_payload, "RESULT-DONE");
}

TEST_F(JournalTest, BeginManyAtTheBoundMakesRoomLikeBeginThenAnswersFull) {
  options.max_records = 10;
  {
    auto j = open();
    for (int i = 0; i < 9; ++i) ASSERT_EQ(j->begin(record("r" + std::to_string(i)))->state, BeginState::New);
    j->finish("r0", "R0");
    j->acknowledge("r0");  // applied at the start of the next transaction: begin_many's
    // a fits (10), b fits once the acknowledged r0 is forgotten, c does not (all unfinished), r1 is
    // known (a full journal still answers known ids), and a again is a's duplicate.
    auto begun = j->begin_many({record("a"), record("b"), record("c"), record("r1"), record("a")});
    ASSERT_TRUE(begun.has_value()) << begun.error();
    EXPECT_EQ(states(*begun), (std::vector<BeginState>{BeginState::New, BeginState::New, BeginState::Full,
                                                       BeginState::InFlight, BeginState::InFlight}));
    EXPECT_EQ(j->record_count(), 10u);
    EXPECT_FALSE(j->find("r0").has_value());  // forgotten to make room
    EXPECT_FALSE(j->find("c").has_value());
    auto again = j->begin_many({record("d"), record("e")});
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(states(*again), (std::vector<BeginState>{BeginState::Full, BeginState::Full}));
  }
  auto j = open();
  EXPECT_EQ(j->record_count(), 10u);
  const auto ids = unfinished_ids(*j);
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_TRUE(std::find(ids.begin(), ids.end(), "b") != ids.end());
  EXPECT_TRUE(std::find(ids.begin(), ids.end(), "c") == ids.end());
}

// A record SQLite refuses undoes the records before it in the same call, and nothing else. The
// refusal is provoked with a trigger added to the journal file (a real constraint error on the
// INSERT, the journal's code unchanged): no record the agent builds can fail NOT NULL or UNIQUE.
TEST_F(JournalTest, BeginManyIsAllOrNothingWhenARecordIsRefused) {
  options.max_records = 4;
  {
    auto j = open();
    ASSERT_EQ(j->begin(record("before"))->state, BeginState::New);
  }
  run_sql(options.path,
          "CREATE TRIGGER refuse_bad BEFORE INSERT ON commands WHEN NEW.id = 'bad'"
          " BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END;");
  {
    auto j = open();
    ASSERT_EQ(j->record_count(), 1u);
    auto begun = j->begin_many({record("x"), record("y"), record("bad"), record("z")});
    ASSERT_FALSE(begun.has_value());
    EXPECT_NE(begun.error().find("refused by the test trigger"), std::string::npos) << begun.error();
    EXPECT_EQ(j->record_count(), 1u);  // the count of records is what the file holds
    EXPECT_FALSE(j->find("x").has_value());
    EXPECT_FALSE(j->find("y").has_value());
    EXPECT_EQ(unfinished_ids(*j), std::vector<std::string>{"before"});
    // The journal goes on: x, y and z fit (a count left at 3 would make room for only one).
    auto again = j->begin_many({record("x"), record("y"), record("z")});
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(states(*again), std::vector<BeginState>(3, BeginState::New));
    EXPECT_EQ(j->begin(record("w"))->state, BeginState::Full);
  }
  auto j = open();
  EXPECT_EQ(unfinished_ids(*j), (std::vector<std::string>{"before", "x", "y", "z"}));
}

// The rollback is to the call's own savepoint: work of the same group transaction (here an
// acknowledgement applied at its start) still commits.
TEST_F(JournalTest, ARefusedBeginManyKeepsTheRestOfItsTransaction) {
  {
    auto j = open();
    j->begin(record("a"));
    j->finish("a", "A");
  }
  run_sql(options.path,
          "CREATE TRIGGER refuse_bad BEFORE INSERT ON commands WHEN NEW.id = 'bad'"
          " BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END;");
  {
    auto j = open();
    j->acknowledge("a");
    ASSERT_FALSE(j->begin_many({record("x"), record("bad")}).has_value());
    EXPECT_TRUE(j->unacknowledged(clock.now_ms + 1).empty());
  }
  auto j = open();
  EXPECT_TRUE(j->unacknowledged(clock.now_ms + 1).empty());
  EXPECT_TRUE(j->unfinished().empty());
}

// A delivery of a command in flight is registered for its result by begin() itself, in the
// transaction that saw the command unfinished: however soon the command finishes after that, its
// finish() returns the route (before, the caller added the waiter afterwards, and a finish in
// between left the duplicate unanswered).
TEST_F(JournalTest, BeginOfAnIdInFlightRegistersItsRouteForTheResult) {
  auto j = open();
  ASSERT_EQ(j->begin(record("a"))->state, BeginState::New);
  JournalRecord again = record("a");
  again.route = Route{"reply/again", "c2"};
  auto dup = j->begin(again);
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->state, BeginState::InFlight);
  EXPECT_TRUE(dup->waiter_added);
  JournalRecord third = record("a");
  third.route = Route{"reply/third", "c3"};
  auto many = j->begin_many({third});
  ASSERT_TRUE(many.has_value());
  EXPECT_TRUE((*many)[0].waiter_added);
  auto extra = j->finish("a", "{\"ok\":true}");
  ASSERT_TRUE(extra.has_value());
  ASSERT_EQ(extra->size(), 2u);
  EXPECT_EQ((*extra)[0].topic, "reply/again");
  EXPECT_EQ((*extra)[1].topic, "reply/third");
  auto finished = j->begin(again);
  EXPECT_EQ(finished->state, BeginState::Finished);
  EXPECT_FALSE(finished->waiter_added);
}

// A begin_many that fails answers its records Busy; a route it registered for an in-flight id
// must not also get that command's result later.
TEST_F(JournalTest, AFailedBeginManyTakesBackTheWaitersItRegistered) {
  {
    auto j = open();
    ASSERT_EQ(j->begin(record("run"))->state, BeginState::New);
  }
  run_sql(options.path,
          "CREATE TRIGGER refuse_bad BEFORE INSERT ON commands WHEN NEW.id = 'bad'"
          " BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END;");
  auto j = open();
  JournalRecord dup = record("run");
  dup.route = Route{"reply/dup", "d"};
  ASSERT_FALSE(j->begin_many({dup, record("bad")}).has_value());
  auto extra = j->finish("run", "{\"ok\":true}");
  ASSERT_TRUE(extra.has_value());
  EXPECT_TRUE(extra->empty()) << "the failed call's route got the result as well as its Busy answer";
}

}  // namespace
}  // namespace swas
