// Following successful stops to Stopped through fake ports (docs/contract.md, "Following a stop to
// Stopped"): the status rules, shared polls per region, the retry rule, deadlines, the bound, the
// journal and the lifecycle messages.
#include "stop_follower.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "command_processor.hpp"
#include "fakes.hpp"
#include "signer.hpp"

namespace swas {
namespace {

using namespace fakes;
using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

struct Json {
  explicit Json(const std::string& s) : root(cJSON_Parse(s.c_str()), &cJSON_Delete) {}
  const cJSON* get(const char* a, const char* b = nullptr) const {
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(root.get(), a);
    return b ? cJSON_GetObjectItemCaseSensitive(n, b) : n;
  }
  std::string str(const char* a, const char* b = nullptr) const {
    const cJSON* n = get(a, b);
    return cJSON_IsString(n) ? n->valuestring : cJSON_IsNull(n) ? "<null>" : "<absent>";
  }
  double num(const char* a, const char* b = nullptr) const {
    const cJSON* n = get(a, b);
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
  }
  bool is_final() const { return cJSON_IsTrue(get("final")); }
  JsonPtr root;
};

HttpResponse http(int status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// A 200 answer of ListInstanceStatus listing `statuses` (InstanceId, Status).
std::string statuses_body(const std::vector<std::pair<std::string, std::string>>& statuses) {
  JsonPtr root(cJSON_CreateObject(), &cJSON_Delete);
  cJSON_AddStringToObject(root.get(), "RequestId", "LIST-REQ");
  cJSON_AddNumberToObject(root.get(), "TotalCount", static_cast<double>(statuses.size()));
  cJSON_AddNumberToObject(root.get(), "PageNumber", 1);
  cJSON_AddNumberToObject(root.get(), "PageSize", 100);
  cJSON* list = cJSON_AddArrayToObject(root.get(), "InstanceStatuses");
  for (const auto& [id, status] : statuses) {
    cJSON* e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "InstanceId", id.c_str());
    cJSON_AddStringToObject(e, "Status", status.c_str());
    cJSON_AddItemToArray(list, e);
  }
  char* text = cJSON_PrintUnformatted(root.get());
  std::string out = text;
  cJSON_free(text);
  return out;
}

// The query of a request target ("/?a=b&c=d"), decoded.
std::map<std::string, std::string> query_of(const HttpRequest& request) {
  std::map<std::string, std::string> out;
  const std::string& t = request.target;
  EXPECT_EQ(t.rfind("/?", 0), 0u) << t;
  std::size_t pos = 2;
  while (pos <= t.size()) {
    std::size_t amp = t.find('&', pos);
    if (amp == std::string::npos) amp = t.size();
    const std::string pair = t.substr(pos, amp - pos);
    const std::size_t eq = pair.find('=');
    std::string name, value;
    EXPECT_TRUE(percent_decode(pair.substr(0, eq), name)) << pair;
    EXPECT_TRUE(percent_decode(eq == std::string::npos ? "" : pair.substr(eq + 1), value)) << pair;
    out[name] = value;
    pos = amp + 1;
  }
  return out;
}

// The InstanceIds a ListInstanceStatus request asked for (its JSON array), in order.
std::vector<std::string> ids_asked(const HttpRequest& request) {
  std::vector<std::string> ids;
  const auto q = query_of(request);
  const auto it = q.find("InstanceIds");
  if (it == q.end()) return ids;
  JsonPtr array(cJSON_Parse(it->second.c_str()), &cJSON_Delete);
  EXPECT_TRUE(cJSON_IsArray(array.get())) << it->second;
  for (const cJSON* c = array ? array->child : nullptr; c; c = c->next) {
    EXPECT_TRUE(cJSON_IsString(c));
    if (cJSON_IsString(c)) ids.emplace_back(c->valuestring);
  }
  return ids;
}

class FollowerTest : public ::testing::Test {
 protected:
  FollowerTest() { t0 = clock.now_ms; }

  StopFollower& make(std::optional<Credentials> creds = Credentials("AKID", "SECRET", "")) {
    cloud = std::make_unique<CloudSession>(std::move(creds), endpoint, retry, clock, entropy, logger);
    follower = std::make_unique<StopFollower>(settings, *cloud, clock, journal, publisher, logger);
    return *follower;
  }
  // A successful stop of `instance`: its command arrived 412 ms before now, its result is now.
  FollowRecord record(const std::string& id, const std::string& instance = "i-1",
                      const std::string& region = "cn-hangzhou") {
    const std::int64_t now = clock.now_unix_ms();
    return FollowRecord{id, instance, region, "REQ-" + id, Route{"reply/" + id, "corr-" + id}, now - 412,
                        now + std::int64_t{settings.deadline_s} * 1000, ""};
  }
  // What the processor does: the follow is journaled with the result, then handed over.
  void follow(const FollowRecord& rec) {
    journal.follow_rows.emplace(rec.id, FakeJournal::FollowRow{rec, false, ""});
    follower->add(rec, true);
  }
  std::optional<std::int64_t> poll() { return follower->poll_due(transport); }
  // Moves the clock to `due` and polls.
  std::optional<std::int64_t> poll_at(std::optional<std::int64_t> due) {
    EXPECT_TRUE(due.has_value());
    if (due) clock.now_ms = *due - clock.offset;
    return poll();
  }
  void answer(const std::vector<std::pair<std::string, std::string>>& statuses) {
    transport.script.emplace_back(http(200, statuses_body(statuses)));
  }
  std::vector<OutgoingMessage> finals() const {
    std::vector<OutgoingMessage> out;
    for (const auto& m : publisher.published)
      if (Json(m.payload).is_final()) out.push_back(m);
    return out;
  }
  Json last() const { return Json(publisher.published.back().payload); }

  FollowConfig settings;
  RetryPolicy retry;
  std::optional<Endpoint> endpoint;
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  FakeLogger logger;
  std::unique_ptr<CloudSession> cloud;
  std::unique_ptr<StopFollower> follower;
  std::int64_t t0 = 0;
};

TEST_F(FollowerTest, StoppingThenStoppedArePublishedOnTheResultsRoute) {
  make();
  follow(record("c-1"));
  EXPECT_EQ(follower->following(), 1u);
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(due, t0 + 10000);
  ASSERT_EQ(publisher.published.size(), 1u);
  const OutgoingMessage& progress = publisher.published[0];
  EXPECT_EQ(progress.topic, "reply/c-1");
  EXPECT_EQ(progress.correlation_data, "corr-c-1");
  EXPECT_EQ(progress.journal_id, "");  // progress is never republished
  EXPECT_FALSE(progress.retained);
  EXPECT_EQ(progress.payload,
            R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"REQ-c-1",)"
            R"("Status":"Stopping","final":false,"elapsedMs":412})");
  EXPECT_EQ(journal.follow_rows["c-1"].rec.reported_status, "Stopping");  // recorded before it was published

  answer({{"i-1", "Stopped"}});
  due = poll_at(due);
  EXPECT_FALSE(due.has_value());  // nothing followed: nothing to poll
  ASSERT_EQ(publisher.published.size(), 2u);
  const OutgoingMessage& final_message = publisher.published[1];
  EXPECT_EQ(final_message.topic, "reply/c-1");
  EXPECT_EQ(final_message.correlation_data, "corr-c-1");
  EXPECT_EQ(final_message.journal_id, lifecycle_ack_key("c-1"));
  EXPECT_EQ(final_message.payload,
            R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"REQ-c-1",)"
            R"("Status":"Stopped","final":true,"outcome":"Stopped","elapsedMs":10412})");
  ASSERT_TRUE(journal.follow_rows.count("c-1"));
  EXPECT_TRUE(journal.follow_rows["c-1"].finished);
  EXPECT_EQ(journal.follow_rows["c-1"].final_payload, final_message.payload);
  EXPECT_EQ(follower->following(), 0u);
  EXPECT_EQ(follower->slots_used(), 1u);  // until the broker acknowledges the final message
  journal.acknowledge(final_message.journal_id);
  follower->settled("c-1");
  EXPECT_EQ(follower->slots_used(), 0u);
  EXPECT_TRUE(journal.follow_rows.empty());
  EXPECT_FALSE(poll().has_value());
  EXPECT_EQ(transport.sent.size(), 2u);
}

TEST_F(FollowerTest, TheRequestIsListInstanceStatusForTheFollowedInstance) {
  make(Credentials("AKID", "SECRET", "STS-TOKEN"));
  follow(record("c-1", "ace0706b2ac4454d984295a94213****"));
  answer({{"ace0706b2ac4454d984295a94213****", "Stopping"}});
  poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  const auto& s = transport.sent[0];
  EXPECT_EQ(s.endpoint.host, "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(s.endpoint.port, 443);
  EXPECT_EQ(s.request.method, "POST");
  EXPECT_EQ(s.request.body, "");
  EXPECT_EQ(*find_header(s.request.headers, "host"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-action"), "ListInstanceStatus");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-version"), "2020-06-01");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-security-token"), "STS-TOKEN");
  const auto q = query_of(s.request);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.at("InstanceIds"), R"(["ace0706b2ac4454d984295a94213****"])");
  EXPECT_EQ(q.at("PageNumber"), "1");
  EXPECT_EQ(q.at("PageSize"), "100");
  EXPECT_EQ(q.at("RegionId"), "cn-hangzhou");
  EXPECT_EQ(logger.all().find("SECRET"), std::string::npos);
}

TEST_F(FollowerTest, ProgressOnlyWhenTheStatusChanges) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  answer({{"i-1", "Upgrading"}});  // reported and followed on
  due = poll_at(due);
  answer({{"i-1", "Upgrading"}});
  due = poll_at(due);
  answer({{"i-1", "SomethingNew"}});  // a value the cloud adds later: reported verbatim
  due = poll_at(due);
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  ASSERT_EQ(publisher.published.size(), 4u);
  std::vector<std::string> seen;
  for (const auto& m : publisher.published) {
    Json j(m.payload);
    EXPECT_FALSE(j.is_final());
    seen.push_back(j.str("Status"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Stopping", "Upgrading", "SomethingNew", "Stopping"}));
  EXPECT_EQ(Json(publisher.published[3].payload).num("elapsedMs"), 412 + 5 * 10000);
  EXPECT_EQ(transport.sent.size(), 6u);
  EXPECT_TRUE(due.has_value());
}

TEST_F(FollowerTest, RunningIsNeverProgressAndTwiceInARowIsUnexpectedStatus) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Running"}});  // the cloud has not begun the stop yet
  auto due = poll();
  EXPECT_TRUE(publisher.published.empty());
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  answer({{"i-1", "Running"}});  // not two in a row
  due = poll_at(due);
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(last().str("Status"), "Stopping");
  answer({{"i-1", "Running"}});
  due = poll_at(due);
  ASSERT_EQ(publisher.published.size(), 2u);
  const Json j = last();
  EXPECT_TRUE(j.is_final());
  EXPECT_EQ(j.str("outcome"), "UnexpectedStatus");
  EXPECT_EQ(j.str("Status"), "Running");
  EXPECT_EQ(j.num("elapsedMs"), 412 + 3 * 10000);
  EXPECT_NE(j.str("Message").find("Running on two polls in a row"), std::string::npos) << j.str("Message");
  EXPECT_EQ(publisher.published.back().journal_id, lifecycle_ack_key("c-1"));
  EXPECT_FALSE(due.has_value());
}

TEST_F(FollowerTest, StartingAndDisabledCountLikeRunning) {
  for (const std::string status : {"Starting", "Disabled"}) {
    SCOPED_TRACE(status);
    publisher.published.clear();
    make();
    follow(record("c-" + status));
    answer({{"i-1", status}});
    auto due = poll_at(clock.now_unix_ms());
    answer({{"i-1", status}});
    due = poll_at(due);
    const auto f = finals();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(Json(f[0].payload).str("outcome"), "UnexpectedStatus");
    EXPECT_EQ(Json(f[0].payload).str("Status"), status);
    EXPECT_FALSE(due.has_value());
  }
}

TEST_F(FollowerTest, RunningThenStartingIsTwoInARow) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Running"}});
  auto due = poll();
  answer({{"i-1", "Starting"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  EXPECT_EQ(Json(finals()[0].payload).str("outcome"), "UnexpectedStatus");
  EXPECT_EQ(Json(finals()[0].payload).str("Status"), "Starting");
}

TEST_F(FollowerTest, AbsentOnceIsNotEnoughAbsentTwiceInARowIsNotFound) {
  make();
  follow(record("c-1"));
  follow(record("c-2", "i-2"));
  answer({{"i-2", "Stopping"}});  // i-1 absent once
  auto due = poll();
  answer({{"i-1", "Stopping"}});  // i-2 absent once
  due = poll_at(due);
  EXPECT_TRUE(finals().empty());
  answer({{"i-2", "Stopping"}});  // i-1 absent once more, not in a row
  due = poll_at(due);
  EXPECT_TRUE(finals().empty());
  answer({});  // i-1 absent twice in a row now; i-2 once
  due = poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("id"), "c-1");
  EXPECT_EQ(j.str("outcome"), "NotFound");
  EXPECT_NE(j.str("Message").find("cn-hangzhou"), std::string::npos);
  EXPECT_EQ(follower->following(), 1u);
  answer({});
  due = poll_at(due);
  ASSERT_EQ(finals().size(), 2u);
  Json k(finals()[1].payload);
  EXPECT_EQ(k.str("id"), "c-2");
  EXPECT_EQ(k.str("outcome"), "NotFound");
  EXPECT_FALSE(due.has_value());
}

TEST_F(FollowerTest, AnInstanceNeverListedIsNotFoundWithStatusNull) {
  make();
  follow(record("c-1"));
  answer({});
  auto due = poll();
  answer({});
  poll_at(due);
  ASSERT_EQ(publisher.published.size(), 1u);
  Json j = last();
  EXPECT_EQ(j.str("outcome"), "NotFound");
  EXPECT_TRUE(cJSON_IsNull(j.get("Status")));
}

TEST_F(FollowerTest, DeadlineEndsAFollowTimedOutWithTheLastStatus) {
  make();
  FollowRecord rec = record("c-1");
  rec.deadline_ms = t0 + 25000;
  follow(rec);
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  EXPECT_EQ(due, t0 + 10000);
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  EXPECT_EQ(due, t0 + 20000);
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  EXPECT_EQ(due, t0 + 25000);  // the deadline comes before the next interval: the poll is made then
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  EXPECT_FALSE(due.has_value());
  EXPECT_EQ(transport.sent.size(), 4u);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_EQ(j.str("Status"), "Stopping");
  EXPECT_EQ(j.num("elapsedMs"), 25000 + 412);
  EXPECT_NE(j.str("Message").find("still Stopping"), std::string::npos) << j.str("Message");
  EXPECT_EQ(finals()[0].journal_id, lifecycle_ack_key("c-1"));
}

TEST_F(FollowerTest, TimedOutElapsedIsCountedToTheDeadline) {
  // "elapsedMs ... for TimedOut, to the deadline": a poll that takes a while, or comes late, does
  // not stretch it.
  make();
  FollowRecord rec = record("c-1");
  rec.deadline_ms = t0 + 5000;
  follow(rec);
  transport.clock = &clock;
  transport.ms_per_call = 250;
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  EXPECT_EQ(due, t0 + 5000);
  answer({{"i-1", "Stopping"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_EQ(j.num("elapsedMs"), 5000 + 412);
}

TEST_F(FollowerTest, APollAtTheDeadlineThatSeesStoppedIsStopped) {
  make();
  FollowRecord rec = record("c-1");
  rec.deadline_ms = t0 + 3000;
  follow(rec);
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  EXPECT_EQ(due, t0 + 3000);
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  EXPECT_EQ(Json(finals()[0].payload).str("outcome"), "Stopped");
}

TEST_F(FollowerTest, ANewFollowWhoseDeadlineComesFirstIsPolledAtItsDeadline) {
  settings.interval_ms = 60000;
  settings.deadline_s = 5;
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopped"}});
  poll();
  ASSERT_EQ(finals().size(), 1u);
  clock.now_ms += 1000;
  follow(record("c-2", "i-2"));  // the region was polled a second ago: not again at once
  EXPECT_EQ(transport.sent.size(), 1u);
  auto due = poll();
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(due, t0 + 1000 + 5000);  // at c-2's deadline, not a minute after the last poll
  answer({{"i-2", "Stopping"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 2u);
  Json j(finals()[1].payload);
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_EQ(j.str("Status"), "Stopping");
  EXPECT_EQ(j.num("elapsedMs"), 5000 + 412);
}

TEST_F(FollowerTest, ARegionIsPolledAtMostOncePerInterval) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  EXPECT_EQ(transport.sent.size(), 1u);
  clock.now_ms += 3000;
  follow(record("c-2", "i-2"));  // joins the region's next poll
  EXPECT_EQ(poll(), t0 + 10000);
  clock.now_ms += 5000;
  EXPECT_EQ(poll(), t0 + 10000);
  EXPECT_EQ(transport.sent.size(), 1u);
  answer({{"i-1", "Stopping"}, {"i-2", "Stopping"}});
  due = poll_at(due);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(ids_asked(transport.sent[1].request), (std::vector<std::string>{"i-1", "i-2"}));
  EXPECT_EQ(due, t0 + 20000);
  // c-2's first progress comes from that shared poll, 7 s after its result.
  ASSERT_EQ(publisher.published.size(), 2u);
  EXPECT_EQ(last().str("id"), "c-2");
  EXPECT_EQ(last().num("elapsedMs"), 7000 + 412);
}

TEST_F(FollowerTest, ANewFollowInAnIdleRegionIsPolledAtOnce) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  clock.now_ms += 2000;
  follow(record("c-2", "i-2", "cn-shanghai"));  // nothing followed there: at once
  answer({{"i-2", "Stopping"}});
  EXPECT_EQ(poll(), due);  // the other region's poll is still the next one
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1].endpoint.host, "swas.cn-shanghai.aliyuncs.com");
  EXPECT_EQ(last().str("id"), "c-2");
  EXPECT_EQ(last().num("elapsedMs"), 412);
}

TEST_F(FollowerTest, ARegionThatFinishedItsFollowsIsNotPolledSoonerThanTheInterval) {
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopped"}});
  EXPECT_FALSE(poll().has_value());
  clock.now_ms += 4000;
  follow(record("c-2", "i-2"));
  EXPECT_EQ(poll(), t0 + 10000);
  EXPECT_EQ(transport.sent.size(), 1u);
  clock.now_ms = t0 + 10000;
  answer({{"i-2", "Stopping"}});
  EXPECT_EQ(poll(), t0 + 20000);
  EXPECT_EQ(transport.sent.size(), 2u);
  // Long after: the region was forgotten, a new follow there is polled at once.
  answer({{"i-2", "Stopped"}});
  poll_at(t0 + 20000);
  clock.now_ms = t0 + 60000;
  EXPECT_FALSE(poll().has_value());
  follow(record("c-3", "i-3"));
  answer({{"i-3", "Stopping"}});
  EXPECT_EQ(poll(), t0 + 70000);
  EXPECT_EQ(transport.sent.size(), 4u);
}

TEST_F(FollowerTest, TwoHundredFiftyInstancesTakeThreeCallsOfAtMostAHundred) {
  make();
  std::set<std::string> all;
  for (int i = 0; i < 250; ++i) {
    const std::string instance = "i-" + std::to_string(1000 + i);
    all.insert(instance);
    follow(record("c-" + std::to_string(i), instance));
  }
  // Each call is answered with the statuses of exactly the ids it asked for.
  std::set<std::string> asked;
  struct Answering : HttpsTransport {
    FakeTransport* inner;
    Expected<HttpResponse, TransportError> round_trip(const Endpoint& e, const HttpRequest& r) override {
      inner->sent.push_back({e, r});
      std::vector<std::pair<std::string, std::string>> st;
      for (const auto& id : ids_asked(r)) st.emplace_back(id, "Stopping");
      return http(200, statuses_body(st));
    }
  } answering;
  answering.inner = &transport;
  auto due = follower->poll_due(answering);
  EXPECT_EQ(transport.sent.size(), 3u);
  for (const auto& s : transport.sent) {
    const auto ids = ids_asked(s.request);
    EXPECT_LE(ids.size(), 100u);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());  // distinct
    for (const auto& id : ids) EXPECT_TRUE(asked.insert(id).second) << id << " asked twice";
    const auto q = query_of(s.request);
    EXPECT_EQ(q.at("PageSize"), "100");
    EXPECT_EQ(q.at("PageNumber"), "1");
    EXPECT_EQ(q.at("RegionId"), "cn-hangzhou");
    EXPECT_EQ(*find_header(s.request.headers, "x-acs-action"), "ListInstanceStatus");
  }
  EXPECT_EQ(asked, all);
  EXPECT_EQ(publisher.published.size(), 250u);  // every follow saw Stopping
  EXPECT_EQ(due, t0 + 10000);
}

// follow.max_instances may be 100000: adding a follow and a poll round must not cost time that
// grows with the square of the follows (each add or each call of 100 scanning every follow). With
// 20000 follows that was about 20 s of CPU in a release build; it is now a few hundredths.
TEST_F(FollowerTest, ManyFollowsAreAddedAndPolledWithoutQuadraticWork) {
  settings.max_instances = 20000;
  make();
  struct Answering : HttpsTransport {
    std::size_t calls = 0;
    Expected<HttpResponse, TransportError> round_trip(const Endpoint&, const HttpRequest& r) override {
      ++calls;
      std::vector<std::pair<std::string, std::string>> st;
      for (const auto& id : ids_asked(r)) st.emplace_back(id, "Stopping");
      return http(200, statuses_body(st));
    }
  } answering;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) {
    const std::string n = std::to_string(100000 + i);
    follower->add(record("c-" + n, "i-" + n), true);
  }
  follower->poll_due(answering);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(answering.calls, 200u);
  EXPECT_EQ(publisher.published.size(), 20000u);
  EXPECT_LT(seconds, 5.0) << "20000 follows took " << seconds << " s";
}

TEST_F(FollowerTest, TwoRegionsAreSeparateCalls) {
  make();
  follow(record("c-1", "i-1", "cn-hangzhou"));
  follow(record("c-2", "i-2", "ap-southeast-1"));
  answer({{"i-2", "Stopping"}});  // ap-southeast-1 sorts first
  answer({{"i-1", "Stopping"}});
  poll();
  ASSERT_EQ(transport.sent.size(), 2u);
  std::map<std::string, std::string> region_of_host;
  for (const auto& s : transport.sent) {
    const auto q = query_of(s.request);
    region_of_host[s.endpoint.host] = q.at("RegionId");
    EXPECT_EQ(ids_asked(s.request).size(), 1u);
  }
  EXPECT_EQ(region_of_host["swas.cn-hangzhou.aliyuncs.com"], "cn-hangzhou");
  EXPECT_EQ(region_of_host["swas.ap-southeast-1.aliyuncs.com"], "ap-southeast-1");
  EXPECT_EQ(publisher.published.size(), 2u);
}

TEST_F(FollowerTest, AnEndpointOverrideIsUsedForEveryRegion) {
  endpoint = Endpoint{"localhost", 8443, "localhost:8443"};
  make();
  follow(record("c-1", "i-1", "cn-hangzhou"));
  answer({{"i-1", "Stopping"}});
  poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].endpoint.host_header, "localhost:8443");
  EXPECT_EQ(*find_header(transport.sent[0].request.headers, "host"), "localhost:8443");
}

TEST_F(FollowerTest, TwoCommandsForTheSameInstanceShareOneIdAndBothFinish) {
  make();
  follow(record("c-1", "i-1"));
  follow(record("c-2", "i-1"));
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(ids_asked(transport.sent[0].request), std::vector<std::string>{"i-1"});
  EXPECT_EQ(publisher.published.size(), 2u);
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  const auto f = finals();
  ASSERT_EQ(f.size(), 2u);
  std::set<std::string> ids{Json(f[0].payload).str("id"), Json(f[1].payload).str("id")};
  EXPECT_EQ(ids, (std::set<std::string>{"c-1", "c-2"}));
  std::set<std::string> topics{f[0].topic, f[1].topic};
  EXPECT_EQ(topics, (std::set<std::string>{"reply/c-1", "reply/c-2"}));
  EXPECT_EQ(follower->following(), 0u);
}

// --- The retry rule ---------------------------------------------------------------------------

TEST_F(FollowerTest, RetryableFailuresBackOffThenEndPollFailedAfterMaxAttempts) {
  retry.max_attempts = 3;
  make();
  follow(record("c-1"));
  HttpResponse throttled = http(400, R"({"Code":"Throttling.User","Message":"slow down","RequestId":"T-1"})",
                                {{"x-acs-retry-after", "5000"}});
  transport.script.emplace_back(throttled);
  auto due = poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(due, t0 + 5000);  // x-acs-retry-after is the floor of the wait (the jitter is below it here)
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_NE(logger.all().find("retrying in 5.0 s"), std::string::npos) << logger.all();
  clock.now_ms = t0 + 4999;
  EXPECT_EQ(poll(), t0 + 5000);
  EXPECT_EQ(transport.sent.size(), 1u);
  transport.fail(TransportFailure::Connect, "connection refused");
  due = poll_at(due);
  ASSERT_EQ(transport.sent.size(), 2u);
  ASSERT_TRUE(due.has_value());
  EXPECT_GE(*due, t0 + 5000);
  EXPECT_LE(*due, t0 + 5000 + 400);  // the second backoff: at most base * 2
  EXPECT_TRUE(publisher.published.empty());
  transport.reply(503, R"({"Code":"ServiceUnavailable","Message":"try later","RequestId":"U-1","HostId":"h"})");
  due = poll_at(due);
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_FALSE(due.has_value());
  ASSERT_EQ(publisher.published.size(), 1u);
  const Json j = last();
  EXPECT_TRUE(j.is_final());
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_TRUE(cJSON_IsNull(j.get("Status")));
  EXPECT_EQ(j.str("error", "source"), "cloud");
  EXPECT_EQ(j.num("error", "HttpStatus"), 503);
  EXPECT_EQ(j.str("error", "Code"), "ServiceUnavailable");
  EXPECT_EQ(j.str("error", "Message"), "try later");
  EXPECT_EQ(j.str("error", "RequestId"), "U-1");
  EXPECT_EQ(j.str("error", "HostId"), "h");
  EXPECT_NE(j.str("Message").find("after 3 attempts"), std::string::npos) << j.str("Message");
  EXPECT_NE(j.str("Message").find("ListInstanceStatus failed"), std::string::npos) << j.str("Message");
  EXPECT_NE(j.str("Message").find("REQ-c-1"), std::string::npos) << j.str("Message");
  EXPECT_EQ(publisher.published.back().journal_id, lifecycle_ack_key("c-1"));
}

TEST_F(FollowerTest, TransportFailuresToTheLastAttemptAreCloudUnreachable) {
  retry.max_attempts = 2;
  make();
  follow(record("c-1"));
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  transport.fail(TransportFailure::Timeout, "no answer in 10000 ms");
  due = poll_at(due);
  EXPECT_EQ(publisher.published.size(), 1u);
  transport.fail(TransportFailure::Timeout, "no answer in 10000 ms");
  poll_at(due);
  ASSERT_EQ(publisher.published.size(), 2u);
  const Json j = last();
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("Status"), "Stopping");  // the last one seen
  EXPECT_EQ(j.str("error", "source"), "agent");
  EXPECT_EQ(j.str("error", "Code"), "CloudUnreachable");
  EXPECT_EQ(j.str("error", "Message"), "cloud timed out: no answer in 10000 ms");
  EXPECT_NE(j.str("Message").find("after 2 attempts"), std::string::npos) << j.str("Message");
}

TEST_F(FollowerTest, ASuccessfulRetryResetsTheCount) {
  retry.max_attempts = 2;
  make();
  follow(record("c-1"));
  transport.reply(502, R"({"Code":"BadGateway","Message":"m","RequestId":"R"})");
  auto due = poll();
  answer({{"i-1", "Stopping"}});
  due = poll_at(due);
  EXPECT_EQ(due, clock.now_unix_ms() + 10000);  // the interval counts from the poll that worked
  transport.reply(502, R"({"Code":"BadGateway","Message":"m","RequestId":"R"})");
  due = poll_at(due);
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  EXPECT_EQ(Json(finals()[0].payload).str("outcome"), "Stopped");
}

TEST_F(FollowerTest, AFinalErrorAfterRetriesCountsEveryAttempt) {
  make();
  follow(record("c-1"));
  transport.reply(503, R"({"Code":"ServiceUnavailable","Message":"m","RequestId":"R"})");
  auto due = poll();
  transport.fail(TransportFailure::Connect, "refused");
  due = poll_at(due);
  transport.reply(403, R"({"Code":"Forbidden.RAM","Message":"no","RequestId":"R"})");
  poll_at(due);
  ASSERT_EQ(transport.sent.size(), 3u);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("error", "Code"), "Forbidden.RAM");
  EXPECT_NE(j.str("Message").find("after 3 attempts"), std::string::npos) << j.str("Message");
}

TEST_F(FollowerTest, NoRetryBeyondTheRetryDeadline) {
  retry.deadline_ms = 3000;
  make();
  follow(record("c-1"));
  transport.script.emplace_back(http(429, R"({"Code":"Throttling","Message":"m","RequestId":"R"})",
                                     {{"x-acs-retry-after", "5000"}}));
  poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("error", "Code"), "Throttling");
  EXPECT_NE(j.str("Message").find("after 1 attempt)"), std::string::npos) << j.str("Message");
}

TEST_F(FollowerTest, AForbiddenPollEndsAtOnceWithTheRamHint) {
  make();
  follow(record("c-1"));
  follow(record("c-2", "i-2"));
  transport.reply(403, R"({"Code":"Forbidden.RAM","Message":"User not authorized to operate on the specified resource.",)"
                       R"("RequestId":"5E1B","Recommend":"https://example.invalid/diag"})");
  auto due = poll();
  EXPECT_FALSE(due.has_value());
  EXPECT_EQ(transport.sent.size(), 1u);
  const auto f = finals();
  ASSERT_EQ(f.size(), 2u);
  for (const auto& m : f) {
    Json j(m.payload);
    EXPECT_EQ(j.str("outcome"), "PollFailed");
    EXPECT_TRUE(cJSON_IsNull(j.get("Status")));
    EXPECT_EQ(j.str("error", "source"), "cloud");
    EXPECT_EQ(j.num("error", "HttpStatus"), 403);
    EXPECT_EQ(j.str("error", "Code"), "Forbidden.RAM");
    EXPECT_EQ(j.str("error", "Message"), "User not authorized to operate on the specified resource.");
    EXPECT_EQ(j.str("error", "RequestId"), "5E1B");
    EXPECT_EQ(j.str("error", "Recommend"), "https://example.invalid/diag");
    const std::string message = j.str("Message");
    EXPECT_NE(message.find("Forbidden.RAM"), std::string::npos) << message;
    EXPECT_NE(message.find("after 1 attempt)"), std::string::npos) << message;
    // The RAM action as the project names it everywhere else (swas-open:StopInstance).
    EXPECT_NE(message.find("swas-open:ListInstanceStatus"), std::string::npos) << message;
    EXPECT_NE(message.find("follow.enabled"), std::string::npos) << message;
  }
}

TEST_F(FollowerTest, OtherFourHundredsEndAtOnceWithoutTheRamHint) {
  make();
  follow(record("c-1"));
  transport.reply(400, R"({"Code":"InvalidParameter","Message":"bad","RequestId":"R"})");
  poll();
  EXPECT_EQ(transport.sent.size(), 1u);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("error", "Code"), "InvalidParameter");
  EXPECT_EQ(j.str("Message").find("RAM"), std::string::npos);
}

TEST_F(FollowerTest, AnExpiredTimeStampCorrectsTheClockOnceAndRetriesAtOnce) {
  make();
  follow(record("c-1"));
  // The cloud is 5 minutes ahead of the gateway.
  transport.script.emplace_back(
      http(400, R"({"Code":"InvalidTimeStamp.Expired","Message":"expired","RequestId":"R"})",
           {{"Date", "Tue, 14 Nov 2023 22:18:20 GMT"}}));
  answer({{"i-1", "Stopping"}});
  poll();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(clock.offset, 5 * 60 * 1000 + 500);
  EXPECT_EQ(*find_header(transport.sent[0].request.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*find_header(transport.sent[1].request.headers, "x-acs-date"), "2023-11-14T22:18:20Z");
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(last().str("Status"), "Stopping");
  EXPECT_FALSE(last().is_final());
}

TEST_F(FollowerTest, AnExpiredTimeStampTwiceInOnePollIsFinal) {
  make();
  follow(record("c-1"));
  for (int i = 0; i < 2; ++i)
    transport.script.emplace_back(
        http(400, R"({"Code":"InvalidTimeStamp.Expired","Message":"expired","RequestId":"R"})",
             {{"Date", "Tue, 14 Nov 2023 22:33:20 GMT"}}));
  poll();
  EXPECT_EQ(transport.sent.size(), 2u);
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("error", "Code"), "InvalidTimeStamp.Expired");
}

TEST_F(FollowerTest, AUsedNonceIsRetriedOnceWithANewOne) {
  make();
  follow(record("c-1"));
  transport.reply(400, R"({"Code":"SignatureNonceUsed","Message":"nonce","RequestId":"R"})");
  answer({{"i-1", "Stopping"}});
  poll();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(*find_header(transport.sent[0].request.headers, "x-acs-signature-nonce"),
            *find_header(transport.sent[1].request.headers, "x-acs-signature-nonce"));
  EXPECT_EQ(publisher.published.size(), 1u);
  EXPECT_FALSE(last().is_final());

  // Twice in one poll: final.
  publisher.published.clear();
  follow(record("c-2", "i-2"));
  transport.reply(400, R"({"Code":"SignatureNonceUsed","Message":"nonce","RequestId":"R"})");
  transport.reply(400, R"({"Code":"SignatureNonceUsed","Message":"nonce","RequestId":"R"})");
  poll_at(t0 + 10000);
  EXPECT_EQ(transport.sent.size(), 2u + 2u);  // the nonce is renewed once per poll, not per call
  ASSERT_EQ(finals().size(), 2u);
  EXPECT_EQ(Json(finals()[0].payload).str("error", "Code"), "SignatureNonceUsed");
}

TEST_F(FollowerTest, AnUnreadableAnswerIsPollFailedInvalidCloudResponse) {
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"html", "<html>proxy</html>"},
      {"no RequestId", R"({"InstanceStatuses":[]})"},
      {"no array", R"({"RequestId":"R"})"},
      {"long Status", R"({"RequestId":"R","InstanceStatuses":[{"InstanceId":"i-1","Status":")" + std::string(65, 'S') +
                          R"("}]})"},
      {"control character", R"({"RequestId":"R","InstanceStatuses":[{"InstanceId":"i-1","Status":"Stop\nped"}]})"},
  };
  for (const auto& [what, body] : bodies) {
    SCOPED_TRACE(what);
    publisher.published.clear();
    transport.sent.clear();
    make();
    follow(record("c-" + what));
    transport.reply(200, body);
    EXPECT_FALSE(poll_at(clock.now_unix_ms()).has_value());
    EXPECT_EQ(transport.sent.size(), 1u);  // a 200 is not retried
    ASSERT_EQ(publisher.published.size(), 1u);
    const Json j = last();
    EXPECT_EQ(j.str("outcome"), "PollFailed");
    EXPECT_EQ(j.str("error", "source"), "agent");
    EXPECT_EQ(j.str("error", "Code"), "InvalidCloudResponse");
    EXPECT_EQ(j.num("error", "HttpStatus"), 200);
    EXPECT_NE(j.str("error", "Message").find("HTTP 200"), std::string::npos) << j.str("error", "Message");
    clock.now_ms += 3600 * 1000;  // the next case in a region not polled for an hour
  }
}

TEST_F(FollowerTest, NoCredentialsIsPollFailedCredentialsMissingWithoutACall) {
  make(std::nullopt);
  follow(record("c-1"));
  EXPECT_FALSE(poll().has_value());
  EXPECT_TRUE(transport.sent.empty());
  ASSERT_EQ(publisher.published.size(), 1u);
  const Json j = last();
  EXPECT_EQ(j.str("outcome"), "PollFailed");
  EXPECT_EQ(j.str("error", "source"), "agent");
  EXPECT_EQ(j.str("error", "Code"), "CredentialsMissing");
}

// Three chunks: the second keeps failing. Its follows end PollFailed after max_attempts, and the
// chunks that were answered are not asked again before the interval.
TEST_F(FollowerTest, ARetryDoesNotRepollTheChunksThatWereAnswered) {
  retry.max_attempts = 3;
  make();
  std::vector<std::string> chunk_two;
  for (int i = 0; i < 250; ++i) {
    const std::string instance = "i-" + std::to_string(1000 + i);
    if (i >= 100 && i < 200) chunk_two.push_back(instance);
    follow(record("c-" + std::to_string(1000 + i), instance));
  }
  struct Scripted : HttpsTransport {
    std::vector<std::vector<std::string>> asked;
    std::string failing;  // an id in the chunk that fails
    Expected<HttpResponse, TransportError> round_trip(const Endpoint&, const HttpRequest& r) override {
      const auto ids = ids_asked(r);
      asked.push_back(ids);
      if (std::find(ids.begin(), ids.end(), failing) != ids.end())
        return http(503, R"({"Code":"ServiceUnavailable","Message":"m","RequestId":"R"})");
      std::vector<std::pair<std::string, std::string>> st;
      for (const auto& id : ids) st.emplace_back(id, "Stopping");
      return http(200, statuses_body(st));
    }
  } cloud_side;
  cloud_side.failing = "i-1150";
  std::optional<std::int64_t> due = follower->poll_due(cloud_side);
  for (int round = 0; round < 10 && due && *due < t0 + 10000; ++round) {
    clock.now_ms = *due;
    due = follower->poll_due(cloud_side);
  }
  std::size_t polls_of_i1000 = 0, polls_of_i1150 = 0, polls_of_i1249 = 0;
  for (const auto& ids : cloud_side.asked) {
    polls_of_i1000 += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), "i-1000"));
    polls_of_i1150 += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), "i-1150"));
    polls_of_i1249 += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), "i-1249"));
  }
  EXPECT_EQ(polls_of_i1000, 1u) << "a chunk that was answered is asked again within the interval";
  EXPECT_EQ(polls_of_i1150, 3u);
  EXPECT_EQ(polls_of_i1249, 1u);  // the chunk after the failing one, once its retries ran out
  std::size_t poll_failed = 0;
  for (const auto& m : finals()) {
    Json j(m.payload);
    EXPECT_EQ(j.str("outcome"), "PollFailed");
    EXPECT_NE(std::find(chunk_two.begin(), chunk_two.end(), j.str("InstanceId")), chunk_two.end());
    EXPECT_NE(j.str("Message").find("after 3 attempts"), std::string::npos);
    ++poll_failed;
  }
  EXPECT_EQ(poll_failed, 100u);
  EXPECT_EQ(follower->following(), 150u);
}

// --- The bound, the journal, the restart ------------------------------------------------------

TEST_F(FollowerTest, BeyondMaxInstancesAStopIsNotFollowedAtOnce) {
  settings.max_instances = 2;
  make();
  follow(record("c-1", "i-1"));
  follow(record("c-2", "i-2"));
  follow(record("c-3", "i-3"));
  EXPECT_EQ(follower->following(), 2u);
  ASSERT_EQ(publisher.published.size(), 1u);
  const OutgoingMessage m = publisher.published[0];
  EXPECT_EQ(m.topic, "reply/c-3");
  EXPECT_EQ(m.correlation_data, "corr-c-3");
  EXPECT_EQ(m.journal_id, "");  // published once, not journaled
  Json j(m.payload);
  EXPECT_TRUE(j.is_final());
  EXPECT_EQ(j.str("outcome"), "NotFollowed");
  EXPECT_TRUE(cJSON_IsNull(j.get("Status")));
  EXPECT_EQ(j.num("elapsedMs"), 412);
  EXPECT_NE(j.str("Message").find("follow.max_instances"), std::string::npos) << j.str("Message");
  EXPECT_FALSE(journal.follow_rows.count("c-3"));  // dropped from the journal

  // A final message awaiting its ack still holds its slot; settled() frees it.
  answer({{"i-1", "Stopped"}, {"i-2", "Stopping"}});
  auto due = poll();
  EXPECT_EQ(follower->following(), 1u);
  EXPECT_EQ(follower->slots_used(), 2u);
  follow(record("c-4", "i-4"));
  EXPECT_EQ(Json(publisher.published.back().payload).str("outcome"), "NotFollowed");
  EXPECT_EQ(Json(publisher.published.back().payload).str("id"), "c-4");
  follower->settled("c-1");
  EXPECT_EQ(follower->slots_used(), 1u);
  follow(record("c-5", "i-5"));
  EXPECT_EQ(follower->following(), 2u);
  answer({{"i-2", "Stopping"}, {"i-5", "Stopping"}});
  poll_at(due);
  EXPECT_EQ(ids_asked(transport.sent.back().request), (std::vector<std::string>{"i-2", "i-5"}));
}

TEST_F(FollowerTest, AFollowTheJournalCouldNotRecordIsNotFollowed) {
  make();
  follower->add(record("c-1"), false);
  EXPECT_EQ(follower->following(), 0u);
  EXPECT_EQ(follower->slots_used(), 0u);
  EXPECT_FALSE(poll().has_value());
  EXPECT_TRUE(transport.sent.empty());
  ASSERT_EQ(publisher.published.size(), 1u);
  Json j = last();
  EXPECT_EQ(j.str("outcome"), "NotFollowed");
  EXPECT_EQ(j.str("id"), "c-1");
  EXPECT_EQ(j.str("RequestId"), "REQ-c-1");
  EXPECT_NE(j.str("Message").find("journal"), std::string::npos) << j.str("Message");
  EXPECT_EQ(publisher.published[0].journal_id, "");
}

TEST_F(FollowerTest, AFollowAddedTwiceIsFollowedOnce) {
  make();
  follow(record("c-1"));
  follower->add(record("c-1"), true);
  EXPECT_EQ(follower->following(), 1u);
  answer({{"i-1", "Stopped"}});
  poll();
  follower->add(record("c-1"), true);  // its final message awaits the ack: still known
  EXPECT_EQ(follower->following(), 0u);
  EXPECT_EQ(publisher.published.size(), 1u);
}

TEST_F(FollowerTest, ResumeFromTheJournalPollsAtOnceAndDoesNotRepeatTheReportedStatus) {
  FollowRecord following = record("c-1");
  following.accepted_ms = t0 - 60000;
  following.deadline_ms = t0 + 540000;
  following.reported_status = "Stopping";
  journal.follow_rows.emplace("c-1", FakeJournal::FollowRow{following, false, ""});
  journal.follow_rows.emplace("c-2", FakeJournal::FollowRow{record("c-2", "i-2"), true, "{\"final\":true}"});
  make();
  follower->resume();
  EXPECT_EQ(follower->following(), 1u);
  EXPECT_EQ(follower->slots_used(), 2u);  // c-2's final message holds its slot until acknowledged
  EXPECT_NE(logger.all().find("resuming 1 follow"), std::string::npos) << logger.all();
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(ids_asked(transport.sent[0].request), std::vector<std::string>{"i-1"});
  EXPECT_TRUE(publisher.published.empty());  // Stopping was reported before the restart
  follower->add(record("c-2", "i-2"), true);  // a late hand-over of a known follow changes nothing
  EXPECT_EQ(follower->following(), 1u);
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  ASSERT_EQ(publisher.published.size(), 1u);
  Json j = last();
  EXPECT_EQ(j.str("outcome"), "Stopped");
  EXPECT_EQ(j.num("elapsedMs"), 60000 + 10000);
  follower->settled("c-2");
  EXPECT_EQ(follower->slots_used(), 1u);
}

TEST_F(FollowerTest, AFollowWhoseDeadlinePassedWhileDownGetsOnePollThenTimedOut) {
  FollowRecord rec = record("c-1");
  rec.accepted_ms = t0 - 700000;
  rec.deadline_ms = t0 - 100000;
  rec.reported_status = "Stopping";
  journal.follow_rows.emplace("c-1", FakeJournal::FollowRow{rec, false, ""});
  make();
  follower->resume();
  answer({{"i-1", "Stopping"}});
  EXPECT_FALSE(poll().has_value());
  EXPECT_EQ(transport.sent.size(), 1u);
  ASSERT_EQ(publisher.published.size(), 1u);
  Json j = last();
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_EQ(j.str("Status"), "Stopping");
  EXPECT_EQ(j.num("elapsedMs"), 600000);  // to the deadline, not to the restart
}

TEST_F(FollowerTest, AfterAResumeTheReportedStatusIsTheLastSeen) {
  // The last status reported before the restart is what a final message says when no poll after
  // it got an answer.
  FollowRecord rec = record("c-1");
  rec.deadline_ms = t0 - 1;
  rec.reported_status = "Stopping";
  journal.follow_rows.emplace("c-1", FakeJournal::FollowRow{rec, false, ""});
  make();
  follower->resume();
  transport.fail(TransportFailure::Connect, "connection refused");
  poll();
  ASSERT_EQ(finals().size(), 1u);
  Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_EQ(j.str("Status"), "Stopping");
  EXPECT_NE(j.str("Message").find("still Stopping"), std::string::npos) << j.str("Message");
}

TEST_F(FollowerTest, JournalFailuresAreLoggedAndNeverLoseTheFinalMessage) {
  make();
  follow(record("c-1"));
  journal.fail_writes = true;
  answer({{"i-1", "Stopping"}});
  auto due = poll();
  ASSERT_EQ(publisher.published.size(), 1u);  // progress published anyway
  EXPECT_NE(logger.all().find("could not record the reported status: disk I/O error"), std::string::npos)
      << logger.all();
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  ASSERT_EQ(publisher.published.size(), 2u);
  EXPECT_EQ(last().str("outcome"), "Stopped");
  // Not journaled: the broker's ack cannot reach the journal, and the slot is free at once.
  EXPECT_EQ(publisher.published.back().journal_id, "");
  EXPECT_EQ(follower->slots_used(), 0u);
  EXPECT_NE(logger.all().find("could not record the final lifecycle message: disk I/O error"), std::string::npos)
      << logger.all();
}

TEST_F(FollowerTest, NothingFollowedNothingPolled) {
  make();
  EXPECT_FALSE(poll().has_value());
  follower->resume();
  EXPECT_FALSE(poll().has_value());
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(publisher.published.empty());
}

// --- Under the account's rate quota (issue 13) ------------------------------------------------

class PacedFollowerTest : public FollowerTest {
 protected:
  PacedFollowerTest() { pacer.clock = &clock; }
  StopFollower& make_paced() {
    make();
    follower->set_pacer(&pacer);
    return *follower;
  }
  HttpResponse throttled() const {
    return http(400, R"({"Code":"Throttling.User","Message":"Request was denied due to user flow control.","RequestId":"T"})");
  }
  FakePacer pacer;
};

TEST_F(PacedFollowerTest, EveryPollTakesAListInstanceStatusTurnAndEndsIt) {
  make_paced();
  follow(record("c-1"));
  answer({{"i-1", "Stopping"}});
  poll();
  ASSERT_EQ(pacer.acquired.size(), 1u);
  EXPECT_EQ(pacer.acquired[0].action, "ListInstanceStatus");
  EXPECT_EQ(pacer.acquired[0].deadline_ms, t0 + StopFollower::kMaxPaceWaitMs);
  ASSERT_EQ(pacer.ended_calls.size(), 1u);
  EXPECT_EQ(pacer.ended_calls[0].action, "ListInstanceStatus");
  EXPECT_EQ(pacer.ended_calls[0].end, CallEnd::Answered);
  EXPECT_EQ(pacer.unended, 0);
}

TEST_F(PacedFollowerTest, AThrottledPollIsDeferredAndPolledAgainNeverCountedAsAFailure) {
  retry.max_attempts = 1;  // a single failure would end the follow PollFailed
  make_paced();
  follow(record("c-1"));
  transport.script.emplace_back(throttled());
  auto due = poll();
  EXPECT_EQ(due, t0 + StopFollower::kDeferredPollMs);
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_EQ(follower->following(), 1u);
  // Throttled again and again, for longer than the retry rule's deadline: still followed.
  for (int i = 0; i < 20; ++i) {
    transport.script.emplace_back(throttled());
    due = poll_at(due);
    ASSERT_TRUE(due.has_value());
    EXPECT_EQ(*due, clock.now_unix_ms() + StopFollower::kDeferredPollMs);
  }
  EXPECT_TRUE(publisher.published.empty());
  answer({{"i-1", "Stopped"}});
  due = poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  EXPECT_EQ(Json(finals()[0].payload).str("outcome"), "Stopped");
  EXPECT_EQ(transport.sent.size(), 22u);
  for (const auto& s : transport.sent) EXPECT_EQ(ids_asked(s.request), std::vector<std::string>{"i-1"});
  ASSERT_EQ(pacer.ended_calls.size(), 22u);
  for (std::size_t i = 0; i < 21; ++i) EXPECT_EQ(pacer.ended_calls[i].end, CallEnd::Throttled) << i;
  EXPECT_EQ(pacer.ended_calls[21].end, CallEnd::Answered);
  EXPECT_EQ(logger.all().find("retrying"), std::string::npos) << logger.all();
}

TEST_F(PacedFollowerTest, A429IsThrottledToo) {
  retry.max_attempts = 1;
  make_paced();
  follow(record("c-1"));
  transport.reply(429, "<html>too many</html>");
  const auto due = poll();
  EXPECT_EQ(due, t0 + StopFollower::kDeferredPollMs);
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_EQ(pacer.ended_calls.at(0).end, CallEnd::Throttled);
}

TEST_F(PacedFollowerTest, APollThatGetsNoTurnIsDeferredWithoutACall) {
  retry.max_attempts = 1;
  make_paced();
  follow(record("c-1"));
  pacer.script = {FakePacer::wait_until_deadline(std::nullopt), FakePacer::shutting_down()};
  auto due = poll();
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(clock.now_unix_ms(), t0 + StopFollower::kMaxPaceWaitMs);  // it waited for its turn
  EXPECT_EQ(due, clock.now_unix_ms() + StopFollower::kDeferredPollMs);
  due = poll_at(due);  // shutting down: deferred too, never a failure
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(publisher.published.empty());
  answer({{"i-1", "Stopped"}});
  poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  EXPECT_EQ(Json(finals()[0].payload).str("outcome"), "Stopped");
  EXPECT_EQ(pacer.unended, 0);
}

TEST_F(PacedFollowerTest, ADeferredPollDoesNotDelayTheDeadline) {
  settings.deadline_s = 5;
  make_paced();
  follow(record("c-1"));
  for (int i = 0; i < 10; ++i) transport.script.emplace_back(throttled());
  auto due = poll();
  while (due && !finals().size() && transport.sent.size() < 10) due = poll_at(due);
  ASSERT_EQ(finals().size(), 1u);
  const Json j(finals()[0].payload);
  EXPECT_EQ(j.str("outcome"), "TimedOut");
  EXPECT_LE(transport.sent.size(), 6u);
}

TEST_F(PacedFollowerTest, AThrottledChunkIsPolledAgainWithoutTheChunksAnswered) {
  make_paced();
  for (int i = 0; i < 150; ++i) {
    const std::string instance = "i-" + std::to_string(1000 + i);
    follow(record("c-" + std::to_string(1000 + i), instance));
  }
  std::vector<std::pair<std::string, std::string>> first, second;
  for (int i = 0; i < 100; ++i) first.emplace_back("i-" + std::to_string(1000 + i), "Stopping");
  for (int i = 100; i < 150; ++i) second.emplace_back("i-" + std::to_string(1000 + i), "Stopping");
  answer(first);
  transport.script.emplace_back(throttled());
  auto due = poll();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(due, t0 + StopFollower::kDeferredPollMs);
  answer(second);
  due = poll_at(due);
  ASSERT_EQ(transport.sent.size(), 3u);
  const auto asked = ids_asked(transport.sent[2].request);
  ASSERT_EQ(asked.size(), 50u);
  EXPECT_EQ(asked.front(), "i-1100");
  EXPECT_EQ(publisher.published.size(), 150u);  // every follow saw Stopping once
  EXPECT_EQ(due, t0 + 1000 + 10000);  // the interval counts from the poll that worked, as after a retry
}

// An InstanceIds command's instances are followed one by one, keyed "<id>\x1f<instance>".
TEST_F(FollowerTest, TheInstancesOfOneCommandAreFollowedAndSettledApart) {
  make();
  FollowRecord a = record("c-7", "i-1"), b = record("c-7", "i-2");
  a.many = b.many = true;
  for (const auto* f : {&a, &b}) {
    journal.follow_rows.emplace(f->key(), FakeJournal::FollowRow{*f, false, ""});
    follower->add(*f, true);
  }
  EXPECT_EQ(follower->following(), 2u);
  answer({{"i-1", "Stopped"}, {"i-2", "Stopping"}});
  EXPECT_EQ(poll(), t0 + 10000);
  ASSERT_EQ(transport.sent.size(), 1u);  // one call covers both
  EXPECT_EQ(ids_asked(transport.sent[0].request), (std::vector<std::string>{"i-1", "i-2"}));
  ASSERT_EQ(finals().size(), 1u);
  const OutgoingMessage stopped = finals()[0];
  EXPECT_EQ(Json(stopped.payload).str("id"), "c-7");
  EXPECT_EQ(Json(stopped.payload).str("InstanceId"), "i-1");
  EXPECT_EQ(stopped.journal_id, lifecycle_ack_key("c-7\x1fi-1"));
  EXPECT_TRUE(journal.follow_rows.at("c-7\x1fi-1").finished);
  EXPECT_FALSE(journal.follow_rows.at("c-7\x1fi-2").finished);
  EXPECT_EQ(journal.follow_rows.at("c-7\x1fi-2").rec.reported_status, "Stopping");
  // Acknowledged: that instance's slot is free, the other one is still followed.
  journal.acknowledge(stopped.journal_id);
  follower->settled("c-7\x1fi-1");
  EXPECT_EQ(follower->slots_used(), 1u);
  EXPECT_FALSE(journal.follow_rows.count("c-7\x1fi-1"));
  // After a restart the other one is resumed under its own key.
  make();
  follower->resume();
  EXPECT_EQ(follower->following(), 1u);
  answer({{"i-2", "Stopped"}});
  poll();
  const auto f = finals();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(Json(f[1].payload).str("InstanceId"), "i-2");
  EXPECT_EQ(Json(f[1].payload).str("id"), "c-7");
  EXPECT_EQ(f[1].journal_id, lifecycle_ack_key("c-7\x1fi-2"));
  // The same command id and instance, added again (a duplicate hand-over), is not followed twice.
  follower->add(b, true);
  EXPECT_EQ(follower->following(), 0u);
}

// --- The processor hands successful stops over --------------------------------------------------

class FakeSink final : public FollowSink {
 public:
  bool accept = true;
  std::vector<std::pair<FollowRecord, bool>> got;
  std::size_t published_when_handed = 0;
  FakePublisher* publisher = nullptr;
  bool follow(FollowRecord record, bool journaled) override {
    published_when_handed = publisher->published.size();
    if (accept) got.emplace_back(std::move(record), journaled);
    return accept;
  }
};

class ProcessorFollowTest : public ::testing::Test {
 protected:
  ProcessorFollowTest() {
    settings.command_topic = "swas/gw-001/commands";
    settings.gateway_id = "gw-001";
    settings.follow_deadline_s = 600;
    sink.publisher = &publisher;
  }
  void make() {
    processor = std::make_unique<CommandProcessor>(settings, Credentials("AKID", "SECRET", ""), clock, entropy,
                                                   journal, publisher, telemetry, logger);
    processor->set_follow_sink(&sink);
  }
  void send(const std::string& payload) {
    IncomingMessage msg{"swas/gw-001/commands", payload, "reply/t", "corr", clock.now_ms, std::nullopt};
    if (auto item = processor->intake(msg)) {
      clock.now_ms += 300;  // the command waited and ran
      processor->execute(*item, transport);
    }
  }
  ProcessorSettings settings;
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  FakeTelemetry telemetry;
  FakeLogger logger;
  FakeSink sink;
  std::unique_ptr<CommandProcessor> processor;
};

const char* kStop =
    R"({"id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","ClientToken":"tok-1"})";

TEST_F(ProcessorFollowTest, ASuccessfulStopIsJournaledWithItsFollowAndHandedOverAfterTheResult) {
  make();
  const std::int64_t arrival = clock.now_ms;
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kStop);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.published_when_handed, 1u);  // the result went out first
  const auto& [rec, journaled] = sink.got[0];
  EXPECT_TRUE(journaled);
  EXPECT_EQ(rec.id, "c-1");
  EXPECT_EQ(rec.instance_id, "i-1");
  EXPECT_EQ(rec.region_id, "cn-hangzhou");
  EXPECT_EQ(rec.request_id, "REQ-1");
  EXPECT_EQ(rec.route.topic, "reply/t");
  EXPECT_EQ(rec.route.correlation_data, "corr");
  EXPECT_EQ(rec.accepted_ms, arrival);
  EXPECT_EQ(rec.deadline_ms, arrival + 300 + 600000);  // from the result
  EXPECT_EQ(rec.reported_status, "");
  ASSERT_TRUE(journal.follow_rows.count("c-1"));
  EXPECT_FALSE(journal.follow_rows["c-1"].finished);
  EXPECT_TRUE(journal.entries["c-1"].finished);
}

TEST_F(ProcessorFollowTest, AFailedStopIsNotFollowed) {
  make();
  transport.reply(403, R"({"Code":"IncorrectInstanceStatus","Message":"m","RequestId":"R"})");
  send(kStop);
  EXPECT_TRUE(sink.got.empty());
  EXPECT_TRUE(journal.follow_rows.empty());
}

TEST_F(ProcessorFollowTest, AFullMailboxIsNotFollowedAndTheFollowIsDropped) {
  make();
  sink.accept = false;
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kStop);
  EXPECT_TRUE(journal.follow_rows.empty());
  ASSERT_EQ(publisher.published.size(), 2u);
  Json j(publisher.published[1].payload);
  EXPECT_EQ(j.str("type"), "lifecycle");
  EXPECT_EQ(j.str("outcome"), "NotFollowed");
  EXPECT_EQ(j.num("elapsedMs"), 300);
  EXPECT_EQ(publisher.published[1].topic, "reply/t");
  EXPECT_EQ(publisher.published[1].correlation_data, "corr");
  EXPECT_EQ(publisher.published[1].journal_id, "");
}

TEST_F(ProcessorFollowTest, AJournalFailureHandsTheFollowOverAsNotJournaled) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  IncomingMessage msg{"swas/gw-001/commands", kStop, "reply/t", "corr", clock.now_ms, std::nullopt};
  auto item = processor->intake(msg);
  ASSERT_TRUE(item.has_value());
  journal.fail_writes = true;
  processor->execute(*item, transport);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_FALSE(sink.got[0].second);
}

TEST_F(ProcessorFollowTest, ADuplicateCommandStartsNoSecondFollow) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kStop);
  send(kStop);
  EXPECT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(transport.sent.size(), 1u);
}

}  // namespace
}  // namespace swas
