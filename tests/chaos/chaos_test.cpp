// Chaos against the real binary, real mosquitto and the emulator: kills, broker restarts, an
// unreachable cloud, a wrong clock, a bad state_dir. Each test prints a FIGURES line that
// docs/reliability.md quotes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <random>
#include <stdexcept>
#include <set>
#include <thread>

#include "gated_cloud.hpp"
#include "harness.hpp"
#include "limits.hpp"

namespace swas::it {
namespace {

std::string instances_json(int n, const std::string& state = "Running") {
  std::string s = "[";
  for (int i = 0; i < n; ++i)
    s += (i ? "," : "") + std::string(R"({"InstanceId":"i-)") + std::to_string(i) + R"(","RegionId":"cn-hangzhou","state":")" +
         state + "\"}";
  return s + "]";
}

// Where the dashboard stand-in asks for the result of a command it publishes again: a re-send
// carries this MQTT 5 Response Topic, so its answer can be told from the first delivery's (which
// goes to the command topic).
const char* const kResendRoute = "chaos/resend";

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

using Commands = std::vector<std::pair<std::string, std::string>>;  // id, payload

// What the test's dashboard stand-in sees, and what the cloud saw.
struct Tally {
  int sent = 0;
  int answered_first_time = 0;  // a result for the first delivery: lost nowhere
  int resent = 0;               // commands without a result when the stream was over: published once more
  int needed_resend = 0;        // of those, the ones the agent had never journaled (the intake window)
  int lost = 0;                 // no result even after the re-send
  int disagreeing = 0;          // results of one command that differ
  int ok = 0;
  int second_stops = 0;  // StopInstance requests for an instance with another ClientToken than its first
};

// Publishes once more (same id, Response Topic kResendRoute) every command without a result yet,
// then waits for each re-sent command's answer on kResendRoute. The agent answers a re-send of a
// command it journaled with that command's result (recorded, or when it finishes) and logs it as a
// duplicate; a re-send of one it never journaled runs as a new command. The agent's log is read
// once every answer arrived: a re-sent command needed its re-send when the agent did not take the
// re-send for a duplicate. A command is lost when the dashboard got no answer where it last asked.
Tally settle(MqttProbe& probe, Agent& agent, const Commands& commands, std::chrono::seconds limit) {
  Tally t;
  t.sent = static_cast<int>(commands.size());
  const std::size_t log_from = agent.process().log().size();
  std::vector<const std::pair<std::string, std::string>*> resent;
  for (const auto& c : commands) {
    if (!probe.results_for(c.first).empty()) continue;
    probe.publish(Agent::command_topic(), c.second, kResendRoute, c.first);
    resent.push_back(&c);
  }
  t.resent = static_cast<int>(resent.size());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (const auto* c : resent) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    probe.wait_result_on(kResendRoute, c->first, std::max(left, std::chrono::milliseconds(1)));
  }
  const std::string log = agent.process().log().substr(log_from);
  for (const auto* c : resent) {
    bool on_route = false;
    for (const auto& r : probe.results_for(c->first)) on_route = on_route || r.topic == kResendRoute;
    if (!on_route) ++t.lost;
    else if (log.find("command " + c->first + " is a duplicate") == std::string::npos) ++t.needed_resend;
  }
  for (const auto& c : commands) {
    const auto results = probe.results_for(c.first);
    if (results.empty()) continue;  // re-sent, and counted as lost above
    bool first_delivery = false;
    for (const auto& r : results) {
      t.disagreeing += r.payload != results[0].payload ? 1 : 0;
      first_delivery = first_delivery || r.topic == Agent::command_topic();
    }
    t.answered_first_time += first_delivery ? 1 : 0;
    t.ok += Json(results[0].payload).is_true({"ok"}) ? 1 : 0;
  }
  return t;
}

// The cloud's own record: every StopInstance request per instance, from the emulator's request
// log. A retry or a resumed command repeats its ClientToken (an idempotent replay, which stops
// nothing); a request with a second ClientToken for an instance is a second stop.
void count_second_stops(Emulator& emulator, Tally& t) {
  const Json state = emulator.state();
  ASSERT_LE(state.num({"requests"}), 1000) << "the emulator's log keeps the last 1000 requests only";
  std::map<std::string, std::set<std::string>> tokens;
  for (const cJSON* e : emulator_log(state, "StopInstance"))
    tokens[cJSON_GetObjectItem(e, "InstanceId")->valuestring].insert(cJSON_GetObjectItem(e, "ClientToken")->valuestring);
  for (const auto& [instance, set] : tokens) t.second_stops += static_cast<int>(set.size()) - 1;
}

void print_figures(const char* name, const Tally& t, const std::string& extra = "") {
  std::printf("FIGURES %s: commands sent %d, answered without a re-send %d, re-sent %d (of which only the re-send "
              "reached the agent: %d), lost %d, disagreeing duplicates %d, second stop requests %d, succeeded %d%s\n",
              name, t.sent, t.answered_first_time, t.resent, t.needed_resend, t.lost, t.disagreeing, t.second_stops,
              t.ok, extra.c_str());
}

// Holds a loopback port for the whole test: bound with SO_REUSEADDR and never listening, so
// connections to it are refused while no server listens, no other process (nor the kernel's
// choice of a free port) can take it, and a server that binds with SO_REUSEADDR (the emulator,
// through mbedtls_net_bind) can still listen on it, again and again.
class PortHold {
 public:
  PortHold() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~PortHold() { ::close(fd_); }
  PortHold(const PortHold&) = delete;
  PortHold& operator=(const PortHold&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(Chaos, KillTheAgentAtRandomWhileCommandsStreamIn) {
  TempDir dir;
  Mosquitto broker(dir);
  // More commands than the re-send bound below (5 kills x 33), so that the bound can be exceeded.
  const int n = 300;
  Emulator emulator(dir, instances_json(n));
  // Each answer takes 20 ms: kills also land while calls are on their way, after the cloud acted.
  emulator.set_faults(R"({"delay_ms":20})");
  AgentOptions o(broker.uri(), emulator.endpoint());
  o.extra_config = R"(,"commands":{"queue_depth":1000},"follow":{"enabled":false})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.subscribe(kResendRoute);

  Commands commands;
  for (int i = 0; i < n; ++i) commands.push_back({"k-" + std::to_string(i), stop_command("k-" + std::to_string(i), "i-" + std::to_string(i))});
  // A stream of 3 s (10 ms apart): the five kills and restarts fall in it.
  std::thread publisher([&] {
    for (const auto& c : commands) {
      probe.publish(Agent::command_topic(), c.second);
      std::this_thread::sleep_for(10ms);
    }
  });
  std::mt19937 rng(20261126);
  int kills = 0;
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    agent.process().signal(SIGKILL);
    agent.process().wait_exit(5s);
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    agent.restart();
  }
  publisher.join();
  Tally t = settle(probe, agent, commands, 60s);
  count_second_stops(emulator, t);
  // Each kill can lose at most the commands Paho acknowledged but the agent had not journaled yet:
  // the intake queue, the batch being journaled and the one in Paho's hand (docs/reliability.md,
  // "The window no agent can close"). Anything else must come back by itself, without a re-send.
  const int window = kills * static_cast<int>(2 * limits::kIntakeQueueDepth + 1);
  print_figures("kill", t, ", kills " + std::to_string(kills) + " (re-send bound " + std::to_string(window) + ")");
  EXPECT_LE(t.needed_resend, window);
  EXPECT_EQ(t.lost, 0) << "every command is answered after one re-send at most";
  EXPECT_EQ(t.disagreeing, 0);
  EXPECT_EQ(t.second_stops, 0) << "a resumed or re-sent command must keep its ClientToken";
  EXPECT_EQ(t.ok, n) << "every instance was Running, so every stop should succeed exactly once";
  EXPECT_EQ(emulator.state().at({"stops"}) ? cJSON_GetArraySize(emulator.state().at({"stops"})) : 0, n);
}

TEST(Chaos, RestartTheBrokerInTheMiddleOfAStream) {
  TempDir dir;
  Mosquitto broker(dir, /*persistent=*/true);
  const int n = 50;
  Emulator emulator(dir, instances_json(n));
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri(), 5, /*reconnect=*/true);
  probe.subscribe(Agent::command_topic());
  probe.subscribe(kResendRoute);
  Commands commands;
  for (int i = 0; i < n; ++i) commands.push_back({"b-" + std::to_string(i), stop_command("b-" + std::to_string(i), "i-" + std::to_string(i))});
  for (int i = 0; i < n; ++i) {
    if (i == n / 2) broker.restart();
    probe.publish(Agent::command_topic(), commands[static_cast<std::size_t>(i)].second);
    std::this_thread::sleep_for(20ms);
  }
  Tally t = settle(probe, agent, commands, 60s);
  count_second_stops(emulator, t);
  print_figures("broker-restart", t);
  // The agent is not killed, so nothing it acknowledged can be lost, and the broker keeps its
  // sessions across the restart: no command needs its re-send.
  EXPECT_EQ(t.needed_resend, 0);
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.disagreeing, 0);
  EXPECT_EQ(t.second_stops, 0);
  EXPECT_EQ(t.ok, n);
  EXPECT_TRUE(agent.process().running());
}

TEST(Chaos, CloudRefusesConnectionsFor30SecondsThenRecovers) {
  TempDir dir;
  Mosquitto broker(dir);
  const int n = 5;
  // The emulator's port stays reserved by this test from before the emulator's first start to the
  // end: while the emulator is down, connections to it are refused and nothing else can take it.
  PortHold hold;
  EmulatorOptions eo;
  eo.port = hold.port();
  auto emulator = std::make_unique<Emulator>(dir, instances_json(n), eo);
  ASSERT_EQ(emulator->port(), hold.port());
  AgentOptions o(broker.uri(), emulator->endpoint());
  // The deadline, not the attempt count, must bound the wait: 30 attempts with full jitter up to
  // 3 s are used up in 39 s on average but in under 30 s about once in 50 commands (one failed
  // run in ten with 5 commands, seen twice), which answered a command during the outage.
  o.retry_json = R"({"max_attempts":100,"backoff_base_ms":200,"backoff_max_ms":3000,"deadline_ms":90000})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.subscribe(kResendRoute);
  emulator->process().signal(SIGKILL);
  emulator->process().wait_exit(5s);
  Commands commands;
  for (int i = 0; i < n; ++i) {
    commands.push_back({"u-" + std::to_string(i), stop_command("u-" + std::to_string(i), "i-" + std::to_string(i))});
    probe.publish(Agent::command_topic(), commands.back().second);
  }
  std::this_thread::sleep_for(30s);
  for (const auto& c : commands) {
    const auto early = probe.results_for(c.first);
    EXPECT_TRUE(early.empty()) << "answered before the cloud was back: " << early.front().payload << "\n"
                               << agent.process().log();
  }
  emulator = std::make_unique<Emulator>(dir, instances_json(n), eo);
  ASSERT_EQ(emulator->port(), hold.port());
  for (const auto& c : commands) EXPECT_TRUE(probe.wait_result(c.first, 30s).has_value()) << c.first;
  Tally t = settle(probe, agent, commands, 30s);
  count_second_stops(*emulator, t);
  print_figures("cloud-down-30s", t);
  EXPECT_EQ(t.resent, 0) << "every command was journaled before the outage and is answered by itself";
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.second_stops, 0);
  EXPECT_EQ(t.ok, n);
  EXPECT_NE(agent.process().log().find("will retry"), std::string::npos);
}

// docs/limits.md, "results buffered while the broker is unreachable": Paho keeps 1000 messages in
// memory while the broker is away and refuses more; every result stays in the journal until the
// broker acknowledges it, and the journal publishes the refused ones again. The agent only hands
// Paho as many unacknowledged publications as the broker's Receive Maximum (mosquitto's
// max_inflight_messages, 20 by default; the rest wait in the adapter's own backlog), so the broker
// here allows 2000, and 1100 results are produced while it is down: the cloud holds every call
// until the broker has gone. The refused results are the newest ones; the journal's pass after a
// reconnect takes the 1000 oldest unacknowledged results (those Paho itself is sending then), and
// its periodic pass those older than 30 s, so they come at the next reconnect or within a minute.
// The test takes the next reconnect: once Paho's 1000 are through, the broker restarts again.
TEST(Chaos, AThousandResultsWaitInPahoWhileTheBrokerIsAwayAndTheJournalPublishesTheRest) {
  constexpr int kCommands = 1100;
  constexpr std::size_t kPahoBuffer = 1000;
  TempDir dir;
  MosquittoOptions mo;
  mo.persistent = true;
  mo.extra_conf = "max_inflight_messages 2000\n";
  mo.autosave_every = 100000;  // saved when it stops; saving at every message made this test 30 s slower
  Mosquitto broker(dir, mo);
  GatedCloud cloud;
  AgentOptions o(broker.uri(), cloud.endpoint());
  o.cloud_timeout_ms = 120000;
  o.extra_config = R"(,"commands":{"queue_depth":2000},"follow":{"enabled":false})";
  Agent agent(dir, o);
  // A persistent session: what the agent publishes while this probe reconnects waits at the broker.
  MqttProbe probe(broker.uri(), 5, /*reconnect=*/true, /*persistent_session=*/true);
  probe.subscribe(Agent::command_topic());
  const std::string status_topic = "swas/" + Agent::gateway_id() + "/status";
  probe.subscribe(status_topic);

  Commands commands;
  for (int i = 0; i < kCommands; ++i)
    commands.push_back({"p-" + std::to_string(i), stop_command("p-" + std::to_string(i), "i-" + std::to_string(i))});
  // Published by a client that subscribes to nothing: the probe, receiving each command back while
  // it publishes the next, took 40 ms a command (its small packets wait for the broker's delayed ACK).
  MqttProbe sender(broker.uri());
  for (const auto& c : commands) sender.publish(Agent::command_topic(), c.second);
  // Every command taken in (the status counts them), four of them held by the cloud.
  const auto received_all = [&] {
    const auto all = probe.on_topic(status_topic);
    return !all.empty() && Json(all.back().payload).num({"counters", "received"}) >= kCommands;
  };
  for (const auto deadline = std::chrono::steady_clock::now() + 60s;
       !received_all() && std::chrono::steady_clock::now() < deadline;)
    probe.wait_on_topic(status_topic, probe.on_topic(status_topic).size() + 1, 2s);
  ASSERT_TRUE(received_all()) << agent.process().log();
  ASSERT_TRUE(cloud.wait_held(4, 10s));

  broker.stop();
  ASSERT_TRUE(agent.process().wait_for_log("lost the broker connection", 10s)) << agent.process().log();
  cloud.open();
  ASSERT_TRUE(cloud.wait_answered(kCommands, 60s));
  const std::string refused_line = "publishing to " + Agent::command_topic() + " failed";
  const auto refused = [&] { return count_of(agent.process().log(), refused_line); };
  for (const auto deadline = std::chrono::steady_clock::now() + 30s;
       refused() < kCommands - kPahoBuffer && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(20ms);
  ASSERT_GE(refused(), kCommands - kPahoBuffer) << "Paho took more than its buffer of 1000\n" << agent.process().log();
  const std::size_t refused_results = refused();

  broker.start_again();
  // Paho's 1000: the results of every command but the refused ones.
  const auto answered = [&] {
    std::size_t n = 0;
    for (const auto& c : commands) n += probe.results_for(c.first).empty() ? 0 : 1;
    return n;
  };
  for (const auto deadline = std::chrono::steady_clock::now() + 60s;
       answered() < kCommands - refused_results && std::chrono::steady_clock::now() < deadline;)
    probe.wait_on_topic(Agent::command_topic(), probe.on_topic(Agent::command_topic()).size() + 1, 1s);
  ASSERT_GE(answered(), kCommands - refused_results) << agent.process().log();
  broker.restart();
  for (const auto& c : commands) ASSERT_TRUE(probe.wait_result(c.first, 120s).has_value()) << c.first;
  int ok = 0, disagreeing = 0;
  for (const auto& c : commands) {
    const auto results = probe.results_for(c.first);
    for (const auto& r : results) disagreeing += r.payload != results[0].payload ? 1 : 0;
    ok += Json(results[0].payload).is_true({"ok"}) ? 1 : 0;
  }
  std::printf("FIGURES paho-buffer: %d results produced while the broker was down, %zu refused by Paho's buffer "
              "of %zu and published again by the journal; every command answered: %d ok, %d disagreeing\n",
              kCommands, refused_results, kPahoBuffer, ok, disagreeing);
  EXPECT_EQ(ok, kCommands);
  EXPECT_EQ(disagreeing, 0);
  EXPECT_NE(agent.process().log().find("unacknowledged result(s) again"), std::string::npos);
}

TEST(Chaos, TwoInternalErrorsThenSuccessIsOneTokenThreeRequestsOneStop) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, instances_json(1));
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  emulator.set_faults(R"({"status":500,"count":2})");
  probe.publish(Agent::command_topic(), stop_command("e-1", "i-0"));
  auto r = probe.wait_result("e-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(Json(r->payload).is_true({"ok"}));
  const Json state = emulator.state();
  EXPECT_EQ(state.num({"actions", "StopInstance"}), 3);
  EXPECT_EQ(state.num({"stops", "i-0"}), 1);
  std::set<std::string> tokens;
  for (const cJSON* e : emulator_log(state, "StopInstance"))
    tokens.insert(cJSON_GetObjectItem(e, "ClientToken")->valuestring);
  EXPECT_EQ(tokens.size(), 1u);
  std::printf("FIGURES 500-twice: requests %d, distinct ClientTokens %zu, stops %d\n",
              static_cast<int>(state.num({"actions", "StopInstance"})), tokens.size(), static_cast<int>(state.num({"stops", "i-0"})));
}

TEST(Chaos, GatewayClockTwentyMinutesOffStillSucceeds) {
  TempDir dir;
  Mosquitto broker(dir);
  EmulatorOptions eo;
  eo.extra_args = {"--clock-offset-s", "1200"};  // the cloud is 20 minutes ahead of this gateway
  Emulator emulator(dir, instances_json(2), eo);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("skew-1", "i-0"));
  auto r = probe.wait_result("skew-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
  const Json first = emulator.state();
  const auto first_requests = emulator_log(first, "StopInstance");
  ASSERT_EQ(first_requests.size(), 2u);
  const auto code_of = [](const cJSON* e) {
    const cJSON* code = cJSON_GetObjectItem(e, "Code");
    return std::to_string(static_cast<int>(cJSON_GetObjectItem(e, "status")->valuedouble)) + " " +
           (cJSON_IsString(code) && *code->valuestring ? code->valuestring : "accepted");
  };
  EXPECT_EQ(code_of(first_requests[0]), "400 InvalidTimeStamp.Expired");
  EXPECT_EQ(code_of(first_requests[1]), "200 accepted");
  const std::string log = agent.process().log();
  // "... the gateway clock is 1199.6 s behind the cloud's ..."
  const std::size_t behind = log.find(" s behind the cloud's");
  ASSERT_NE(behind, std::string::npos) << log;
  const std::size_t number = log.rfind(' ', behind - 1) + 1;
  const std::string offset = log.substr(number, behind - number);
  EXPECT_TRUE(offset.rfind("1199.", 0) == 0 || offset.rfind("1200.", 0) == 0) << offset;
  // The offset is kept: the next command needs one request.
  probe.publish(Agent::command_topic(), stop_command("skew-2", "i-1"));
  ASSERT_TRUE(probe.wait_result("skew-2").has_value());
  const double second_requests = emulator.calls("StopInstance") - static_cast<double>(first_requests.size());
  EXPECT_EQ(second_requests, 1);
  std::printf("FIGURES clock-20-min: first command %zu requests (%s, then %s), offset corrected %s s; next command "
              "%d request(s)\n",
              first_requests.size(), code_of(first_requests[0]).c_str(), code_of(first_requests[1]).c_str(),
              offset.c_str(), static_cast<int>(second_requests));
}

TEST(Chaos, ReadOnlyOrCorruptStateDirIsAClearStartupError) {
  TempDir dir;
  const std::string state = dir.file("state");
  ::mkdir(state.c_str(), 0700);
  AgentOptions o("tcp://127.0.0.1:1", "https://localhost:1");
  o.state_dir = state;
  Agent agent(dir, o, /*wait_ready=*/false);
  agent.process().signal(SIGKILL);
  agent.process().wait_exit(5s);
  // Read-only: a private mount namespace makes state_dir a read-only bind mount (root ignores modes).
  TempDir out;
  const std::string script = "mount --bind '" + state + "' '" + state + "' && mount -o remount,ro,bind '" + state +
                             "' '" + state + "' && exec '" + SWAS_AGENT_BIN + "' --config '" + agent.config_path() + "'";
  Process ro({"unshare", "-m", "sh", "-c", script}, out.file("ro.log"));
  const auto status = ro.wait_exit(10s);
  if (ro.log().find("unshare") != std::string::npos || ro.log().find("mount:") != std::string::npos) {
    ADD_FAILURE() << "cannot make a read-only mount here: " << ro.log();
  } else {
    EXPECT_EQ(status, std::optional<int>(2)) << ro.log();
    EXPECT_NE(ro.log().find(state), std::string::npos) << ro.log();
    EXPECT_NE(ro.log().find("Read-only"), std::string::npos) << ro.log();
  }
  // Corrupt journal: a clear error naming the file.
  write_file(state + "/journal.sqlite3", std::string(8192, 'x'));
  Process corrupt({SWAS_AGENT_BIN, "--config", agent.config_path()}, out.file("corrupt.log"));
  EXPECT_EQ(corrupt.wait_exit(10s), std::optional<int>(2)) << corrupt.log();
  EXPECT_NE(corrupt.log().find(state + "/journal.sqlite3"), std::string::npos) << corrupt.log();
}

}  // namespace
}  // namespace swas::it
