// Fuzzes the reading of a ListInstanceStatus answer (docs/contract.md, "Following a stop to
// Stopped"): swas::parse_instance_statuses on the body, then the same body as the 200 answer of a
// StopFollower poll through the fakes, and the lifecycle messages built from it. The input is the
// body as the cloud sent it.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "fakes.hpp"
#include "fuzz_check.hpp"
#include "json_text.hpp"
#include "limits.hpp"
#include "result_message.hpp"
#include "status_request.hpp"
#include "stop_follower.hpp"

namespace {

using swas::fuzz::member_string;
using swas::fuzz::reparse_object;

bool printable_ascii(std::string_view s) {
  for (const char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

swas::FollowRecord record(const std::string& id, const std::string& instance) {
  return swas::FollowRecord{id, instance, "cn-hangzhou", "REQ-" + id, swas::Route{"reply", "corr"},
                            1700000000000 - 412, 1700000000000 + 600000, ""};
}

// Every lifecycle message is one JSON object about a followed command, with a believable Status.
void check_message(const cJSON* root, const std::string& payload, const std::set<std::string>& ids) {
  SWAS_FUZZ_CHECK(member_string(root, "type") == "lifecycle", payload);
  SWAS_FUZZ_CHECK(ids.count(member_string(root, "id")) == 1, payload);
  const cJSON* status = cJSON_GetObjectItemCaseSensitive(root, "Status");
  SWAS_FUZZ_CHECK(cJSON_IsNull(status) || (cJSON_IsString(status) && status->valuestring[0] != '\0'), payload);
  if (cJSON_IsString(status)) {
    const std::string s = status->valuestring;
    SWAS_FUZZ_CHECK(s.size() <= swas::limits::kMaxInstanceStatusChars && printable_ascii(s), payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto parsed = swas::parse_instance_statuses(body);

  // Deterministic.
  const auto again = swas::parse_instance_statuses(body);
  SWAS_FUZZ_CHECK(parsed.index() == again.index(), "not deterministic");

  std::string first_listed;
  if (const auto* bad = std::get_if<swas::StatusListUnreadable>(&parsed)) {
    SWAS_FUZZ_CHECK(!bad->reason.empty(), "unreadable without a reason");
    SWAS_FUZZ_CHECK(bad->reason == std::get<swas::StatusListUnreadable>(again).reason, "not deterministic");
  } else {
    const auto& ok = std::get<swas::InstanceStatuses>(parsed);
    SWAS_FUZZ_CHECK(ok.by_instance == std::get<swas::InstanceStatuses>(again).by_instance, "not deterministic");
    // A NUL ends cJSON's strings: a body holding one is never believed.
    SWAS_FUZZ_CHECK(!swas::json_has_nul(body), "a body with a NUL was read");
    SWAS_FUZZ_CHECK(ok.by_instance.size() <= swas::limits::kMaxInstanceIdsPerPoll, "more than 100 statuses");
    // The statuses come from the body's InstanceStatuses array, verbatim. (Like the stop's reader,
    // the first JSON value is read and what follows it ignored.)
    swas::fuzz::JsonPtr root(cJSON_ParseWithLength(body.data(), body.size()), &cJSON_Delete);
    SWAS_FUZZ_CHECK(cJSON_IsObject(root.get()), "read a body that is not a JSON object");
    const cJSON* list = cJSON_GetObjectItemCaseSensitive(root.get(), "InstanceStatuses");
    SWAS_FUZZ_CHECK(cJSON_IsArray(list), "read without an InstanceStatuses array");
    SWAS_FUZZ_CHECK(cJSON_GetArraySize(list) <= 100, "read more than 100 entries");
    for (const auto& [id, status] : ok.by_instance) {
      SWAS_FUZZ_CHECK(!status.empty() && status.size() <= swas::limits::kMaxInstanceStatusChars, status);
      SWAS_FUZZ_CHECK(printable_ascii(status), status);
      bool found = false;
      for (const cJSON* e = list->child; e; e = e->next)
        found = found || (member_string(e, "InstanceId") == id && member_string(e, "Status") == status);
      SWAS_FUZZ_CHECK(found, "a status that is not in the body: " + id + " " + status);
      // A lifecycle message carries the id and the status verbatim.
      swas::LifecycleReport report;
      report.status = status;
      report.elapsed_ms = 1;
      const std::string text = swas::encode_lifecycle(record("c-fuzz", id), report);
      auto message = reparse_object(text);
      SWAS_FUZZ_CHECK(member_string(message.get(), "InstanceId") == id, text);
      SWAS_FUZZ_CHECK(member_string(message.get(), "Status") == status, text);
    }
    if (!ok.by_instance.empty()) first_listed = ok.by_instance.begin()->first;
  }

  // The same body as the answer of one poll covering i-1, i-2 and the first instance it lists.
  // Only for bodies that are JSON objects: the rest all take the one path the unit tests cover
  // (PollFailed, InvalidCloudResponse), and skipping them keeps the parser's executions fast.
  {
    swas::fuzz::JsonPtr root(cJSON_ParseWithLength(body.data(), body.size()), &cJSON_Delete);
    if (!cJSON_IsObject(root.get())) return 0;
  }
  swas::fakes::FakeClock clock;
  swas::fakes::FakeEntropy entropy;
  swas::fakes::FakeTransport transport;
  swas::fakes::FakePublisher publisher;
  swas::fakes::FakeJournal journal;
  swas::fakes::FakeLogger logger;
  swas::CloudSession cloud(swas::Credentials("AKID", "SECRET", ""), std::nullopt, swas::RetryPolicy{}, clock,
                           entropy, logger);
  swas::StopFollower follower(swas::FollowConfig{}, cloud, clock, journal, publisher, logger);
  std::set<std::string> ids{"c-1", "c-2"};
  follower.add(record("c-1", "i-1"), true);
  follower.add(record("c-2", "i-2"), true);
  if (!first_listed.empty() && first_listed != "i-1" && first_listed != "i-2") {
    follower.add(record("c-3", first_listed), true);
    ids.insert("c-3");
  }
  swas::HttpResponse response;
  response.status = 200;
  response.body = body;
  transport.script.emplace_back(response);
  const auto due = follower.poll_due(transport);
  SWAS_FUZZ_CHECK(transport.sent.size() == 1, "one poll, one call");

  std::set<std::string> finished;
  for (const auto& m : publisher.published) {
    auto root = reparse_object(m.payload);
    check_message(root.get(), m.payload, ids);
    const std::string id = member_string(root.get(), "id");
    SWAS_FUZZ_CHECK(finished.count(id) == 0, "a message after the final one: " + m.payload);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root.get(), "final"))) {
      finished.insert(id);
      SWAS_FUZZ_CHECK(m.journal_id == swas::lifecycle_ack_key(id), m.payload);
      const std::string outcome = member_string(root.get(), "outcome");
      if (std::holds_alternative<swas::StatusListUnreadable>(parsed)) {
        // Not a 2xx with a RequestId, or not a status list: the poll failed, and says why.
        SWAS_FUZZ_CHECK(outcome == "PollFailed", m.payload);
        const cJSON* error = cJSON_GetObjectItemCaseSensitive(root.get(), "error");
        SWAS_FUZZ_CHECK(member_string(error, "Code") == "InvalidCloudResponse", m.payload);
      } else {
        SWAS_FUZZ_CHECK(outcome == "Stopped" || outcome == "PollFailed", m.payload);
        if (outcome == "Stopped") SWAS_FUZZ_CHECK(member_string(root.get(), "Status") == "Stopped", m.payload);
      }
    } else {
      SWAS_FUZZ_CHECK(m.journal_id.empty(), m.payload);
      SWAS_FUZZ_CHECK(std::holds_alternative<swas::InstanceStatuses>(parsed), "progress from an unreadable list");
      SWAS_FUZZ_CHECK(member_string(root.get(), "Status") != "Running", "Running reported as progress");
    }
  }
  SWAS_FUZZ_CHECK(follower.following() + finished.size() == ids.size(), "a follow lost");
  SWAS_FUZZ_CHECK(due.has_value() == (follower.following() > 0), "next poll");
  if (due) SWAS_FUZZ_CHECK(*due == clock.now_unix_ms() + 10000, "next poll not one interval later");
  return 0;
}
