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

}  // namespace
}  // namespace swas
