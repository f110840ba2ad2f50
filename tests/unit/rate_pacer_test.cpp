// The account's rate quota (docs/contract.md, "The account's rate quota"): parse_quota, the
// RatePacer's sliding window over call ends and its throttling hold (on an injected time), and the
// SharedCallPacer's waiting on the real clock (order, deadline, shutdown, on_wait) with generous
// bounds and no timing assertions beyond "returns".
#include "rate_pacer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "shared_call_pacer.hpp"
#include "system_clock.hpp"

namespace swas {
namespace {

constexpr std::int64_t kMargin = RatePacer::kQuotaMarginMs;

// --- parse_quota ---------------------------------------------------------------------------------

TEST(ParseQuota, AcceptsCallsPerSecondsOrMilliseconds) {
  auto q = parse_quota("10/60s");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->calls, 10u);
  EXPECT_EQ(q->window_ms, 60000u);
  q = parse_quota("100/500ms");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->calls, 100u);
  EXPECT_EQ(q->window_ms, 500u);
  // The bounds themselves.
  q = parse_quota("1/1s");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->calls, 1u);
  EXPECT_EQ(q->window_ms, 1000u);
  q = parse_quota("100000/86400s");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->calls, 100000u);
  EXPECT_EQ(q->window_ms, 86400000u);
  q = parse_quota("1/1ms");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->window_ms, 1u);
  q = parse_quota("7/86400000ms");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->window_ms, 86400000u);
}

TEST(ParseQuota, RefusesEverythingElse) {
  for (const char* text : {
           "0/60s", "100001/60s", "10/0s", "10/0ms", "10/86401s", "10/86400001ms",  // out of range
           "10/60", "10/1m", "10/1h", "10/60S", "10/60MS", "10/60Ms", "10/s", "10/ms",  // units
           "", "/", "10", "10/", "/60s", "10//60s", "10/60s/", "10/60s/1", "10/6s0s",   // shape
           " 10/60s", "10/60s ", "10 /60s", "10/ 60s", "10/60 s", "1 0/60s", "\t10/60s",  // spaces
           "+10/60s", "-10/60s", "10/+60s", "10/-60s", "-0/60s", "10/-0s",              // signs
           "1e1/60s", "10.0/60s", "10/6e1s", "10/60.5s", "0x10/60s", "ten/60s",         // other numbers
           "99999999999/60s", "4294967306/60s", "10/4294967296001ms", "10/18446744073709551617s",
       }) {
    EXPECT_FALSE(parse_quota(text).has_value()) << '"' << text << '"';
  }
  // A NUL inside is not the end of the text.
  EXPECT_FALSE(parse_quota(std::string_view("10/60s\0", 7)).has_value());
  EXPECT_FALSE(parse_quota(std::string_view("10\0/60s", 7)).has_value());
}

// --- RatePacer -----------------------------------------------------------------------------------

const std::string kStop = "StopInstance";

TEST(RatePacer, WithoutAQuotaOrAHoldEveryCallMayStartAtOnce) {
  RatePacer p({});
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(p.next_start(kStop, 1000 + i), 1000 + i);
    p.started(kStop, 1000 + i);
  }
  for (int i = 0; i < 50; ++i) p.ended(kStop, 2000, CallEnd::Answered, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, 2000), 2000);
  EXPECT_FALSE(p.quota(kStop).has_value());
  EXPECT_FALSE(p.held(kStop));
}

TEST(RatePacer, NCallsGoAtOnceAndTheNextWaitsForTheEndOfTheFirstPlusTheWindowAndTheMargin) {
  RatePacer p({{kStop, Quota{3, 1000}}});
  const std::int64_t t = 1000000;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(p.next_start(kStop, t), t) << i;
    p.started(kStop, t);
  }
  // All three in flight: nothing may start until one ends (its end is what the window counts).
  EXPECT_FALSE(p.next_start(kStop, t).has_value());
  EXPECT_FALSE(p.next_start(kStop, t + 5000).has_value());
  p.ended(kStop, t + 100, CallEnd::Answered, std::nullopt);
  // Two still in flight and one ended at t+100: a fourth call would make 3 ends in the window
  // after t+100.
  EXPECT_EQ(p.next_start(kStop, t + 100), t + 100 + 1000 + kMargin);
  p.ended(kStop, t + 200, CallEnd::Answered, std::nullopt);
  p.ended(kStop, t + 300, CallEnd::Answered, std::nullopt);
  // Ends at +100, +200, +300, none in flight: the 4th call waits for the 1st end to leave the window.
  EXPECT_EQ(p.next_start(kStop, t + 300), t + 1100 + kMargin);
  EXPECT_EQ(p.next_start(kStop, t + 1100 + kMargin - 1), t + 1100 + kMargin);
  EXPECT_EQ(p.next_start(kStop, t + 1100 + kMargin), t + 1100 + kMargin);
  p.started(kStop, t + 1100 + kMargin);
  // With it in flight the next one waits for the 2nd end.
  EXPECT_EQ(p.next_start(kStop, t + 1100 + kMargin), t + 1200 + kMargin);
  // Long after every end: at once.
  EXPECT_EQ(p.next_start(kStop, t + 100000), t + 100000);
  ASSERT_TRUE(p.quota(kStop).has_value());
  EXPECT_EQ(p.quota(kStop)->calls, 3u);
}

TEST(RatePacer, TheMarginIsAddedToTheWindow) {
  RatePacer p({{kStop, Quota{1, 500}}});
  p.started(kStop, 0);
  p.ended(kStop, 10, CallEnd::Answered, std::nullopt);
  EXPECT_EQ(kMargin, 50);
  EXPECT_EQ(p.next_start(kStop, 10), 10 + 500 + kMargin);
  EXPECT_EQ(p.next_start(kStop, 509), 560);  // the window alone would allow 510
  EXPECT_EQ(p.next_start(kStop, 560), 560);
}

TEST(RatePacer, CallsInFlightCountAgainstTheQuota) {
  RatePacer p({{kStop, Quota{2, 1000}}});
  p.started(kStop, 0);
  p.ended(kStop, 0, CallEnd::Answered, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, 0), 0);  // one end in the window, room for one more
  p.started(kStop, 0);
  // One ended and one in flight (it will end in the window): the next waits.
  EXPECT_EQ(p.next_start(kStop, 0), 1000 + kMargin);
  // A call that never ends keeps its slot: with two in flight nothing may start, however late.
  RatePacer q({{kStop, Quota{2, 1000}}});
  q.started(kStop, 0);
  q.started(kStop, 0);
  EXPECT_FALSE(q.next_start(kStop, 10000000).has_value());
}

TEST(RatePacer, ThrottledAndUnansweredCallsCountAgainstTheQuotaToo) {
  RatePacer p({{kStop, Quota{2, 1000}}});
  p.started(kStop, 0);
  p.started(kStop, 0);
  p.ended(kStop, 100, CallEnd::NoAnswer, std::nullopt);
  p.ended(kStop, 200, CallEnd::Throttled, std::nullopt);
  // The throttle holds until 1200; the quota until 100 + 1000 + margin.
  EXPECT_EQ(p.next_start(kStop, 200), 1200);
  p.started(kStop, 1200);
  p.ended(kStop, 1210, CallEnd::Answered, std::nullopt);
  // Ends at 200 and 1210 in the window: the next waits for 200 to leave it.
  EXPECT_EQ(p.next_start(kStop, 1210), 200 + 1000 + kMargin);
  EXPECT_EQ(p.next_start(kStop, 1250), 1250);
}

TEST(RatePacer, AThrottledAnswerHoldsTheActionDoublingUpToAMinute) {
  RatePacer p({});
  std::int64_t t = 5000000;
  p.started(kStop, t);
  p.ended(kStop, t, CallEnd::Throttled, std::nullopt);
  EXPECT_TRUE(p.held(kStop));
  std::int64_t expected_hold = 1000;
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(round);
    EXPECT_EQ(p.next_start(kStop, t), t + expected_hold);
    EXPECT_EQ(p.next_start(kStop, t + expected_hold - 1), t + expected_hold);
    t += expected_hold;
    ASSERT_EQ(p.next_start(kStop, t), t);
    p.started(kStop, t);  // the probe
    t += 30;
    p.ended(kStop, t, CallEnd::Throttled, std::nullopt);
    expected_hold = std::min<std::int64_t>(expected_hold * 2, 60000);
  }
  EXPECT_EQ(expected_hold, 60000);  // 1, 2, 4, ... 32, then capped
  EXPECT_EQ(p.next_start(kStop, t), t + 60000);
  EXPECT_EQ(RatePacer::kFirstHoldMs, 1000);
  EXPECT_EQ(RatePacer::kMaxHoldMs, 60000);
  // The first answered probe ends the hold; the next throttle starts again at 1 s.
  t += 60000;
  p.started(kStop, t);
  p.ended(kStop, t + 5, CallEnd::Answered, std::nullopt);
  EXPECT_FALSE(p.held(kStop));
  EXPECT_EQ(p.next_start(kStop, t + 5), t + 5);
  p.started(kStop, t + 5);
  p.ended(kStop, t + 10, CallEnd::Throttled, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, t + 10), t + 1010);
}

TEST(RatePacer, ARetryAfterLongerThanTheHoldIsHonouredAndAShorterOneIsNot) {
  RatePacer p({});
  p.started(kStop, 0);
  p.ended(kStop, 0, CallEnd::Throttled, 7000u);
  EXPECT_EQ(p.next_start(kStop, 0), 7000);
  p.started(kStop, 7000);
  // The hold itself kept doubling from 1 s: 2 s now, longer than this retry-after.
  p.ended(kStop, 7000, CallEnd::Throttled, 500u);
  EXPECT_EQ(p.next_start(kStop, 7000), 9000);
  // Another throttled answer never shortens a hold already running.
  RatePacer q({});
  q.started(kStop, 0);
  q.started(kStop, 0);
  q.ended(kStop, 0, CallEnd::Throttled, 30000u);
  q.ended(kStop, 10, CallEnd::Throttled, std::nullopt);  // 2 s from 10, but 30 s from 0 still holds
  EXPECT_EQ(q.next_start(kStop, 10), 30000);
}

TEST(RatePacer, WhileHeldOneProbeAtATime) {
  RatePacer p({});
  for (int i = 0; i < 4; ++i) p.started(kStop, 0);  // four calls out when the cloud throttles
  p.ended(kStop, 100, CallEnd::Throttled, std::nullopt);
  // Three still in flight: no probe until they are all back.
  EXPECT_FALSE(p.next_start(kStop, 100).has_value());
  EXPECT_FALSE(p.next_start(kStop, 100000).has_value());
  p.ended(kStop, 200, CallEnd::NoAnswer, std::nullopt);
  p.ended(kStop, 300, CallEnd::NoAnswer, std::nullopt);
  EXPECT_FALSE(p.next_start(kStop, 300).has_value());
  p.ended(kStop, 400, CallEnd::NoAnswer, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, 400), 1100);
  p.started(kStop, 1100);  // the probe
  EXPECT_FALSE(p.next_start(kStop, 1100).has_value());
  EXPECT_FALSE(p.next_start(kStop, 9000).has_value());
  EXPECT_TRUE(p.held(kStop));
  p.ended(kStop, 9000, CallEnd::Answered, std::nullopt);
  EXPECT_FALSE(p.held(kStop));
  // Not held any more: calls go side by side again.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(p.next_start(kStop, 9000), 9000);
    p.started(kStop, 9000);
  }
}

TEST(RatePacer, AnAnswerToACallMadeBeforeTheHoldDoesNotEndIt) {
  // Two calls out; the cloud throttles one. The other one's answer says nothing about the cloud
  // now (it got in before the limit): the hold stays until a probe is answered.
  RatePacer p({});
  p.started(kStop, 0);
  p.started(kStop, 0);
  p.ended(kStop, 100, CallEnd::Throttled, std::nullopt);
  p.ended(kStop, 150, CallEnd::Answered, std::nullopt);
  EXPECT_TRUE(p.held(kStop));
  EXPECT_EQ(p.next_start(kStop, 150), 1100);
  p.started(kStop, 1100);  // the probe
  EXPECT_FALSE(p.next_start(kStop, 1100).has_value());
  p.ended(kStop, 1200, CallEnd::Answered, std::nullopt);
  EXPECT_FALSE(p.held(kStop));
  EXPECT_EQ(p.next_start(kStop, 1200), 1200);
}

TEST(RatePacer, AnUnansweredProbeKeepsTheHold) {
  RatePacer p({});
  p.started(kStop, 0);
  p.ended(kStop, 0, CallEnd::Throttled, std::nullopt);
  p.started(kStop, 1000);
  p.ended(kStop, 1500, CallEnd::NoAnswer, std::nullopt);
  EXPECT_TRUE(p.held(kStop));
  // Still one probe at a time; the hold did not grow (the cloud did not say "slow down" again).
  EXPECT_EQ(p.next_start(kStop, 1500), 1500);
  p.started(kStop, 1500);
  EXPECT_FALSE(p.next_start(kStop, 1600).has_value());
  p.ended(kStop, 1600, CallEnd::Throttled, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, 1600), 3600);  // the second throttle: 2 s
  p.started(kStop, 3600);
  p.ended(kStop, 3700, CallEnd::NoAnswer, std::nullopt);
  p.started(kStop, 3700);
  p.ended(kStop, 3800, CallEnd::Throttled, std::nullopt);
  EXPECT_EQ(p.next_start(kStop, 3800), 7800);  // the third: 4 s (NoAnswer did not reset it)
}

TEST(RatePacer, ActionsArePacedApart) {
  RatePacer p({{kStop, Quota{1, 60000}}, {"ListInstanceStatus", Quota{5, 1000}}});
  p.started(kStop, 0);
  p.ended(kStop, 0, CallEnd::Throttled, std::nullopt);
  EXPECT_TRUE(p.held(kStop));
  EXPECT_FALSE(p.held("ListInstanceStatus"));
  EXPECT_EQ(p.next_start("ListInstanceStatus", 0), 0);
  EXPECT_EQ(p.next_start("StopInstances", 0), 0);  // no quota configured: only holds apply
  EXPECT_EQ(p.next_start(kStop, 0), 60000 + kMargin);
  EXPECT_FALSE(p.quota("StopInstances").has_value());
  EXPECT_EQ(p.quota("ListInstanceStatus")->calls, 5u);
}

// The property the contract promises: whatever the calls' durations and outcomes, never more than
// N calls of an action end within any window (plus the margin less 1 ms) — and so never more than N
// reach the cloud within one, wherever between start and end the cloud counts them. Checked by
// brute force over random schedules.
struct SimCall {
  std::int64_t start = 0, end = 0, received = 0;
  CallEnd how = CallEnd::Answered;
  int started_as = 0, ended_as = 0;  // the order in which the pacer was told (started/ended)
};

std::size_t most_in_a_window(std::vector<std::int64_t> times, std::int64_t span) {
  std::sort(times.begin(), times.end());
  std::size_t most = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t k = i; k < times.size() && times[k] <= times[i] + span; ++k) ++n;
    most = std::max(most, n);
  }
  return most;
}

TEST(RatePacer, NeverMoreThanNCallsEndInAnyWindowRandomised) {
  for (std::uint32_t seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&](std::int64_t lo, std::int64_t hi) {
      return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    const Quota quota{static_cast<std::uint32_t>(pick(1, 6)), static_cast<std::uint32_t>(pick(1, 3000))};
    const int throttle_percent = static_cast<int>(pick(0, 15));
    const std::int64_t longest_call = pick(0, 4000);
    RatePacer pacer({{kStop, quota}});
    std::vector<SimCall> done;
    std::vector<SimCall> out;  // in flight
    std::int64_t now = 1000000;
    int told = 0;
    while (done.size() < 400) {
      now += pick(0, 400);
      // Calls that ended by now, in the order they ended.
      std::sort(out.begin(), out.end(), [](const SimCall& a, const SimCall& b) { return a.end < b.end; });
      while (!out.empty() && out.front().end <= now) {
        SimCall c = out.front();
        out.erase(out.begin());
        const int roll = static_cast<int>(pick(0, 99));
        c.how = roll < throttle_percent ? CallEnd::Throttled : roll < throttle_percent + 5 ? CallEnd::NoAnswer
                                                                                         : CallEnd::Answered;
        std::optional<std::uint32_t> retry_after;
        if (c.how == CallEnd::Throttled && pick(0, 2) == 0) retry_after = static_cast<std::uint32_t>(pick(0, 5000));
        pacer.ended(kStop, c.end, c.how, retry_after);
        c.ended_as = ++told;
        done.push_back(c);
      }
      // As many callers as want to, while the pacer lets them.
      for (std::int64_t want = pick(0, 4); want > 0; --want) {
        const auto next = pacer.next_start(kStop, now);
        if (!next || *next > now) break;
        pacer.started(kStop, now);
        SimCall c;
        c.started_as = ++told;
        c.start = now;
        c.end = now + pick(0, longest_call);
        c.received = pick(c.start, c.end);
        out.push_back(c);
      }
    }
    std::vector<std::int64_t> ends, received;
    for (const auto& c : done) {
      ends.push_back(c.end);
      received.push_back(c.received);
    }
    const std::int64_t span = std::int64_t{quota.window_ms} + kMargin - 1;
    EXPECT_LE(most_in_a_window(ends, span), quota.calls) << quota.calls << "/" << quota.window_ms << "ms";
    EXPECT_LE(most_in_a_window(received, span), quota.calls) << quota.calls << "/" << quota.window_ms << "ms";
    // And no call started while a throttle's first hold (1 s) ran, unless a probe was answered
    // in between (a probe: a call started after the pacer learnt of the throttle).
    for (const auto& t : done) {
      if (t.how != CallEnd::Throttled) continue;
      for (const auto& c : done) {
        if (c.started_as < t.ended_as || c.start >= t.end + RatePacer::kFirstHoldMs) continue;
        const bool probe_answered = std::any_of(done.begin(), done.end(), [&](const SimCall& p) {
          return p.how == CallEnd::Answered && p.started_as > t.ended_as && p.ended_as < c.started_as;
        });
        if (!probe_answered)
          ADD_FAILURE() << "a call started at " << c.start << " during the hold after a throttle at " << t.end;
      }
    }
  }
}

// Checks the brute force itself, so a broken checker cannot make the property pass.
TEST(RatePacer, TheWindowCheckerCountsEndsInClosedWindows) {
  EXPECT_EQ(most_in_a_window({0, 1000, 2000}, 1000), 2u);
  EXPECT_EQ(most_in_a_window({0, 1001, 2002}, 1000), 1u);
  EXPECT_EQ(most_in_a_window({5, 5, 5, 9}, 0), 3u);
  EXPECT_EQ(most_in_a_window({}, 10), 0u);
}

// --- SharedCallPacer on the real clock -----------------------------------------------------------

// Runs acquire() on its own thread; `waiting` turns true once on_wait was called (the caller is
// then queued with its ticket).
struct Waiter {
  std::atomic<bool> waiting{false};
  std::atomic<bool> done{false};
  std::atomic<int> on_wait_calls{0};
  std::optional<std::int64_t> told;  // the last on_wait argument (read after join)
  CallPacer::Turn turn = CallPacer::Turn::Deadline;
  std::thread thread;

  void start(CallPacer& pacer, const std::string& action, std::int64_t deadline_ms,
             std::function<void()> after_go = nullptr) {
    thread = std::thread([this, &pacer, action, deadline_ms, after_go] {
      turn = pacer.acquire(action, deadline_ms, [this](std::optional<std::int64_t> wait) {
        told = wait;
        ++on_wait_calls;
        waiting = true;
      });
      if (turn == CallPacer::Turn::Go && after_go) after_go();
      done = true;
    });
  }
  void join() {
    if (thread.joinable()) thread.join();
  }
  ~Waiter() { join(); }
};

// Polls `condition` for up to 20 s (a generous bound for a loaded machine).
bool eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::int64_t in_ms(SystemClock& clock, std::int64_t ms) { return clock.now_unix_ms() + ms; }

TEST(SharedCallPacer, WaitersOfAnActionGoInTheOrderTheyCame) {
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/1ms"}}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  // One call in flight under a quota of 1: each waiter is queued (told to wait) before the next comes.
  std::mutex m;
  std::vector<int> order;
  Waiter w[5];
  for (int i = 0; i < 5; ++i) {
    w[i].start(pacer, "StopInstance", in_ms(clock, 60000), [&, i] {
      {
        std::lock_guard<std::mutex> lock(m);
        order.push_back(i);
      }
      pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
    });
    ASSERT_TRUE(eventually([&] { return w[i].waiting.load(); })) << i;
  }
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  for (auto& x : w) x.join();
  for (auto& x : w) EXPECT_EQ(x.turn, CallPacer::Turn::Go);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(SharedCallPacer, ADeadlineReturnsDeadlineAndLeavesTheQueueToTheNext) {
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/1ms"}}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  Waiter first, second;
  first.start(pacer, "StopInstance", in_ms(clock, 150));
  ASSERT_TRUE(eventually([&] { return first.waiting.load(); }));
  second.start(pacer, "StopInstance", in_ms(clock, 30000),
               [&] { pacer.ended("StopInstance", CallEnd::Answered, std::nullopt); });
  ASSERT_TRUE(eventually([&] { return second.waiting.load(); }));
  // The first one's deadline passes while the call is still in flight.
  first.join();
  EXPECT_EQ(first.turn, CallPacer::Turn::Deadline);
  EXPECT_FALSE(second.done.load());
  // The call ends: the second goes, although the first (at the head of the queue) never did.
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  second.join();
  EXPECT_EQ(second.turn, CallPacer::Turn::Go);
  // And a waiter that is not at the head leaves on its deadline too.
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  Waiter head, behind;
  head.start(pacer, "StopInstance", in_ms(clock, 60000),
             [&] { pacer.ended("StopInstance", CallEnd::Answered, std::nullopt); });
  ASSERT_TRUE(eventually([&] { return head.waiting.load(); }));
  behind.start(pacer, "StopInstance", in_ms(clock, 100));
  behind.join();
  EXPECT_EQ(behind.turn, CallPacer::Turn::Deadline);
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  head.join();
  EXPECT_EQ(head.turn, CallPacer::Turn::Go);
}

TEST(SharedCallPacer, ADeadlineAlreadyPastStillGoesWhenTheWayIsFree) {
  SystemClock clock;
  SharedCallPacer pacer({}, clock);
  int told = 0;
  EXPECT_EQ(pacer.acquire("StopInstance", clock.now_unix_ms() - 1000, [&](std::optional<std::int64_t>) { ++told; }),
            CallPacer::Turn::Go);
  EXPECT_EQ(told, 0);
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
}

TEST(SharedCallPacer, ShutdownWakesEveryWaiterAndRefusesLaterOnes) {
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/60s"}, {"ListInstanceStatus", "1/60s"}}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  ASSERT_EQ(pacer.acquire("ListInstanceStatus", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  Waiter w[4];
  for (int i = 0; i < 4; ++i) {
    w[i].start(pacer, i % 2 ? "StopInstance" : "ListInstanceStatus", in_ms(clock, 600000));
    ASSERT_TRUE(eventually([&] { return w[i].waiting.load(); })) << i;
  }
  pacer.shutdown();
  for (auto& x : w) {
    x.join();
    EXPECT_EQ(x.turn, CallPacer::Turn::ShuttingDown);
  }
  EXPECT_EQ(pacer.acquire("StopInstances", in_ms(clock, 60000), none), CallPacer::Turn::ShuttingDown);
}

TEST(SharedCallPacer, WhileHeldOnWaitIsCalledOnceWithAnUnknownWait) {
  SystemClock clock;
  SharedCallPacer pacer({}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  pacer.ended("StopInstance", CallEnd::Throttled, std::nullopt);  // held for 1 s
  Waiter probe;
  probe.start(pacer, "StopInstance", in_ms(clock, 30000));
  probe.join();
  EXPECT_EQ(probe.turn, CallPacer::Turn::Go);
  EXPECT_EQ(probe.on_wait_calls.load(), 1);
  EXPECT_FALSE(probe.told.has_value());
  // While the probe is out, another caller waits for it: told once, unknown wait, and it goes when
  // the probe is answered (the hold ends).
  Waiter next;
  next.start(pacer, "StopInstance", in_ms(clock, 30000));
  ASSERT_TRUE(eventually([&] { return next.waiting.load(); }));
  EXPECT_FALSE(next.done.load());
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  next.join();
  EXPECT_EQ(next.turn, CallPacer::Turn::Go);
  EXPECT_EQ(next.on_wait_calls.load(), 1);
  EXPECT_FALSE(next.told.has_value());
}

TEST(SharedCallPacer, OnWaitGetsTheExpectedWaitUnderAQuotaOnlyWhenItIsASecondOrMore) {
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/3s"}, {"ListInstanceStatus", "1/100ms"}}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  // About 3 s to wait, but the deadline comes first.
  Waiter w;
  w.start(pacer, "StopInstance", in_ms(clock, 200));
  w.join();
  EXPECT_EQ(w.turn, CallPacer::Turn::Deadline);
  EXPECT_EQ(w.on_wait_calls.load(), 1);
  ASSERT_TRUE(w.told.has_value());
  EXPECT_GT(*w.told, 1000);
  EXPECT_LE(*w.told, 3000 + kMargin);
  // A wait under a second is not announced.
  ASSERT_EQ(pacer.acquire("ListInstanceStatus", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  pacer.ended("ListInstanceStatus", CallEnd::Answered, std::nullopt);
  Waiter quick;
  quick.start(pacer, "ListInstanceStatus", in_ms(clock, 30000));
  quick.join();
  EXPECT_EQ(quick.turn, CallPacer::Turn::Go);
  EXPECT_EQ(quick.on_wait_calls.load(), 0);
  EXPECT_EQ(pacer.quota_text("StopInstance"), "1/3s");
  EXPECT_EQ(pacer.quota_text("StopInstances"), "");
}

TEST(SharedCallPacer, OnWaitMayCallBackIntoThePacer) {
  // cloud_call's on_wait asks quota_text() for its progress message: no lock may be held.
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/60s"}}, clock);
  auto none = [](std::optional<std::int64_t>) {};
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 60000), none), CallPacer::Turn::Go);
  std::string text;
  std::thread t([&] {
    pacer.acquire("StopInstance", in_ms(clock, 100), [&](std::optional<std::int64_t>) {
      text = pacer.quota_text("StopInstance");
      // Another action's turn and end take the pacer's lock.
      if (pacer.acquire("ListInstanceStatus", in_ms(clock, 60000), [](std::optional<std::int64_t>) {}) ==
          CallPacer::Turn::Go)
        pacer.ended("ListInstanceStatus", CallEnd::Answered, std::nullopt);
    });
  });
  t.join();
  EXPECT_EQ(text, "1/60s");
}

// waiting() counts only calls queued for their turn: a closed window with nobody queued is 0, so a
// lone command is not told "queued behind 1" on acceptance but its own expected wait when it waits.
TEST(SharedCallPacer, WaitingCountsQueuedCallsOnly) {
  SystemClock clock;
  SharedCallPacer pacer({{"StopInstance", "1/60s"}}, clock);
  EXPECT_EQ(pacer.waiting("StopInstance"), 0u);
  ASSERT_EQ(pacer.acquire("StopInstance", in_ms(clock, 1000), [](std::optional<std::int64_t>) {}),
            CallPacer::Turn::Go);
  pacer.ended("StopInstance", CallEnd::Answered, std::nullopt);
  EXPECT_EQ(pacer.waiting("StopInstance"), 0u) << "the window is closed but nobody waits";
  Waiter w;
  w.start(pacer, "StopInstance", in_ms(clock, 1500));
  ASSERT_TRUE(eventually([&] { return w.waiting.load(); }));
  EXPECT_EQ(pacer.waiting("StopInstance"), 1u);
  w.join();
  EXPECT_EQ(w.turn, CallPacer::Turn::Deadline);
  ASSERT_TRUE(w.told.has_value()) << "a lone waiter is told its expected wait";
  EXPECT_GT(*w.told, 50000);  // about 60 s: the window of the one call before it
  EXPECT_EQ(pacer.waiting("StopInstance"), 0u);
}

}  // namespace
}  // namespace swas
