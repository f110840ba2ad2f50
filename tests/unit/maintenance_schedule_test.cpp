// MaintenanceSchedule: when the status goes out and when the journal's upkeep and republishing
// run, on a plain millisecond timeline.
#include <gtest/gtest.h>

#include "limits.hpp"
#include "maintenance_schedule.hpp"

namespace swas {
namespace {

constexpr std::int64_t kStart = 5'000'000;

TEST(MaintenanceSchedule, NothingAtStartUpThenTheFirstStatusAndUpkeepASecondLater) {
  MaintenanceSchedule s(kStart, 60);
  s.status_changed();
  auto due = s.take(kStart);
  EXPECT_FALSE(due.status);
  EXPECT_FALSE(due.upkeep);
  EXPECT_FALSE(due.republish.has_value());
  EXPECT_EQ(s.next_ms(), kStart + 1000);
  due = s.take(kStart + 1000);
  EXPECT_TRUE(due.status);
  EXPECT_TRUE(due.upkeep);
  ASSERT_TRUE(due.republish.has_value());
  EXPECT_TRUE(due.republish->earlier_runs) << "the first pass republishes what earlier runs left, not this run's";
}

TEST(MaintenanceSchedule, IdleItSleepsUntilTheStatusIntervalOrTheUpkeepWhicheverComesFirst) {
  MaintenanceSchedule s(kStart, 60);
  s.take(kStart + 1000);  // first status and upkeep
  EXPECT_EQ(s.next_ms(), kStart + 1000 + limits::kRepublishIntervalMs);
  auto due = s.take(kStart + 1000 + limits::kRepublishIntervalMs);
  EXPECT_FALSE(due.status);
  EXPECT_TRUE(due.upkeep);
  ASSERT_TRUE(due.republish.has_value());
  EXPECT_FALSE(due.republish->earlier_runs);
  EXPECT_EQ(due.republish->older_than_ms, std::int64_t{limits::kRepublishIntervalMs});
  EXPECT_EQ(s.next_ms(), kStart + 60000)
      << "the status interval (60 s from start-up, the last status) comes before the next upkeep (31 s + 30 s)";
  due = s.take(kStart + 60000);
  EXPECT_TRUE(due.status);
  EXPECT_FALSE(due.upkeep);
}

TEST(MaintenanceSchedule, ChangesArePublishedAtMostOnceASecond) {
  MaintenanceSchedule s(kStart, 3600);
  s.status_changed();
  EXPECT_TRUE(s.take(kStart + 1000).status);
  s.status_changed();
  EXPECT_EQ(s.next_ms(), kStart + 2000);
  EXPECT_FALSE(s.take(kStart + 1500).status) << "half a second after the last one";
  EXPECT_TRUE(s.take(kStart + 2000).status);
  EXPECT_FALSE(s.take(kStart + 2001).status) << "nothing changed since";
  EXPECT_GT(s.next_ms(), kStart + 20000) << "with nothing changed it sleeps until the upkeep";
}

TEST(MaintenanceSchedule, AReconnectRepublishesAtOnceResultsOlderThanAFewSeconds) {
  MaintenanceSchedule s(kStart, 60);
  s.take(kStart + 1000);
  s.reconnected();
  EXPECT_LE(s.next_ms(), kStart + 5000);
  const auto due = s.take(kStart + 5000);
  ASSERT_TRUE(due.republish.has_value());
  EXPECT_FALSE(due.republish->earlier_runs);
  EXPECT_EQ(due.republish->older_than_ms, std::int64_t{limits::kRepublishAfterReconnectMs});
  EXPECT_FALSE(s.take(kStart + 5001).republish.has_value()) << "once per reconnect";
}

TEST(MaintenanceSchedule, AReconnectThatMeetsAnUpkeepIsHandledRightAfterIt) {
  MaintenanceSchedule s(kStart, 60);
  s.reconnected();
  auto due = s.take(kStart + 1000);  // the first upkeep takes this turn
  ASSERT_TRUE(due.republish.has_value());
  EXPECT_TRUE(due.republish->earlier_runs);
  EXPECT_LE(s.next_ms(), kStart + 1000) << "the reconnect's own republish is due at once";
  due = s.take(kStart + 1000);
  ASSERT_TRUE(due.republish.has_value());
  EXPECT_EQ(due.republish->older_than_ms, std::int64_t{limits::kRepublishAfterReconnectMs});
}

TEST(MaintenanceSchedule, WithoutAStatusIntervalAnIdleAgentPublishesNothingAndWakesOnlyForUpkeep) {
  MaintenanceSchedule s(kStart, 0);
  s.status_changed();
  EXPECT_TRUE(s.take(kStart + 1000).status) << "the first status (the connect)";
  for (std::int64_t t = kStart + 1000; t < kStart + 3'600'000;) {
    const std::int64_t next = s.next_ms();
    ASSERT_EQ(next - t, std::int64_t{limits::kRepublishIntervalMs}) << "only the upkeep is due";
    t = next;
    const auto due = s.take(t);
    ASSERT_FALSE(due.status) << "nothing changed: no status at " << t - kStart << " ms";
    ASSERT_TRUE(due.upkeep);
  }
  s.status_changed();
  EXPECT_TRUE(s.take(s.next_ms()).status);
}

}  // namespace
}  // namespace swas
