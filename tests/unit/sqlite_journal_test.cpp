// The SQLite journal on real files: durability across reopen, bounds, group commit, bad files.
#include "sqlite_journal.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
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

}  // namespace
}  // namespace swas
