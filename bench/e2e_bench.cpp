// Mode 1: the real swas-agent between a real mosquitto (set_tcp_nodelay true) and the SWAS
// emulator, all on loopback, driven over MQTT 5 by a Paho client in this process.
//
// For each journal durability (full, process) with commands.queue_depth large enough for a
// burst: idle RSS after start-up, a warm-up, 200 sequential commands (latency from publish to the
// result's arrival), then 3 bursts of 1,000 published at once (throughput until the last result,
// CPU per command, peak RSS), then SIGTERM and the agent's "https: ..." line. Then the same bursts
// with the default queue depth, to count the Busy answers. Every command stops its own Running
// instance, so every one is a success path; these scenarios run with follow.enabled false (the
// stop path alone). Then the follow scenario (issue 12): commands at random gaps, each instance
// Stopping for a known time, followed to Stopped at two poll intervals: command → RequestId and
// → Stopped, the overhead beyond the stopping time, ListInstanceStatus calls. Prints Markdown
// tables on stdout, progress on stderr; exits 1 if a command went unanswered or a follow did not
// end Stopped. Then the quota scenario (issue 13): 40 stops at once under the emulator's quota of
// 10 calls per 5 s, as 40 commands without and with cloud.quota, and as one InstanceIds command.
// docs/performance.md explains the figures.
//
//   swas-e2e-bench [--sequential N] [--burst N] [--bursts N] [--queue-depth N] [--warmup N]
//                  [--publish-window N] [--follow-commands N] [--only full|process|default|follow|quota]
//                  [--smoke]
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using swas::it::Agent;
using swas::it::AgentOptions;
using swas::it::Emulator;
using swas::it::EmulatorOptions;
using swas::it::Mosquitto;
using swas::it::TempDir;

void progress(const std::string& line) { std::cerr << "bench: " << line << std::endl; }

// ---- /proc readings of the agent ------------------------------------------------------------

// utime + stime of every thread of `pid` (dead threads included), in milliseconds; 10 ms ticks.
double cpu_ms_from_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(f);
    if (i == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Time on CPU of the threads alive now, in nanoseconds (/proc/<pid>/task/*/schedstat, field 1).
// Finer than the 10 ms ticks of /proc/<pid>/stat; the agent's threads live as long as it does.
double cpu_ms_from_schedstat(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(base.c_str());
  if (!dir) return -1;
  unsigned long long ns = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(base + "/" + e->d_name + "/schedstat");
    unsigned long long on_cpu = 0;
    if (in >> on_cpu) ns += on_cpu;
  }
  ::closedir(dir);
  return static_cast<double>(ns) / 1e6;
}

struct CpuSample {
  double stat_ms;
  double sched_ms;
};
CpuSample cpu(pid_t pid) { return {cpu_ms_from_stat(pid), cpu_ms_from_schedstat(pid)}; }

// A "Key:   1234 kB" line of /proc/<pid>/status, in kB (-1 when absent).
long status_kb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

// SWAS_BENCH_SMAPS=DIR: keep /proc/<pid>/smaps at a moment, to see where the RSS is.
void save_smaps(pid_t pid, const std::string& tag) {
  const char* dir = std::getenv("SWAS_BENCH_SMAPS");
  if (!dir) return;
  swas::it::write_file(std::string(dir) + "/smaps-" + tag + ".txt",
                       swas::it::read_file("/proc/" + std::to_string(pid) + "/smaps"), 0644);
}

// SWAS_BENCH_ATTACH: a shell command run during one phase (SWAS_BENCH_ATTACH_PHASE: burst, the
// default, sequential or follow) with AGENT_PID and BENCH_RUN set, stopped with SIGINT afterwards, e.g.
//   SWAS_BENCH_ATTACH='exec perf record -g -p "$AGENT_PID" -o "/tmp/perf-$BENCH_RUN.data"'
std::unique_ptr<swas::it::Process> attach_if_asked(const std::string& phase, const TempDir& dir, pid_t pid,
                                                   const std::string& durability, std::size_t queue_depth) {
  const char* attach = std::getenv("SWAS_BENCH_ATTACH");
  const char* wanted = std::getenv("SWAS_BENCH_ATTACH_PHASE");
  if (!attach || phase != (wanted ? wanted : "burst")) return nullptr;
  auto p = std::make_unique<swas::it::Process>(
      std::vector<std::string>{"sh", "-c", attach}, dir.file("attach-" + phase + ".log"),
      std::map<std::string, std::string>{{"AGENT_PID", std::to_string(pid)},
                                         {"BENCH_RUN", durability + "-q" + std::to_string(queue_depth) + "-" + phase}});
  std::this_thread::sleep_for(500ms);  // time for perf/strace to attach
  return p;
}

void detach(std::unique_ptr<swas::it::Process>& attached) {
  if (!attached) return;
  attached->signal(SIGINT);
  if (!attached->wait_exit(30s)) attached->signal(SIGKILL);
  progress("attached command: " + attached->log());
  attached.reset();
}

// ---- the driver: a dashboard stand-in that timestamps every result ---------------------------

// Paho C sets no TCP_NODELAY; without it the driver's own small packets could wait for delayed
// ACKs. The driver's only TCP socket in this process is its MQTT connection.
void set_nodelay_on_own_tcp_sockets() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  while (const dirent* e = ::readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::closedir(dir);
}

struct Arrival {
  Clock::time_point at{};
  bool arrived = false;
  bool ok = false;
  bool busy = false;
  // Lifecycle messages of the slot's command (the follow scenario): the first progress message and
  // the final one.
  std::optional<Clock::time_point> progress_at, final_at, last_final_at;
  std::string outcome;
  std::size_t stopped_finals = 0;  // final messages with outcome Stopped (one per instance)
};

class Driver {
 public:
  Driver(const std::string& uri, std::string reply_topic)
      : client_(uri, "bench-driver-" + std::to_string(swas::it::free_port()),
                mqtt::create_options(MQTTVERSION_5)),
        reply_topic_(std::move(reply_topic)) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) { on_message(m); });
    opts_.set_mqtt_version(MQTTVERSION_5);
    opts_.set_clean_start(true);
    opts_.set_keep_alive_interval(60);
    opts_.set_max_inflight(65535);
    if (!client_.connect(opts_)->wait_for(10s)) throw std::runtime_error("driver could not connect");
    set_nodelay_on_own_tcp_sockets();
    if (!client_.subscribe(reply_topic_, 1)->wait_for(10s)) throw std::runtime_error("driver could not subscribe");
  }
  ~Driver() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(2s);
    } catch (...) {
    }
  }

  // Slots 0..n-1 for one phase; correlation data carries the slot number.
  void reset(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    arrivals_.assign(n, Arrival{});
    answered_ = 0;
    finals_ = 0;
  }

  mqtt::delivery_token_ptr publish(const std::string& topic, const std::string& payload, std::size_t slot) {
    auto msg = mqtt::make_message(topic, payload, 1, false);
    msg->set_properties(mqtt::properties{{mqtt::property::RESPONSE_TOPIC, reply_topic_},
                                         {mqtt::property::CORRELATION_DATA, std::to_string(slot)}});
    for (int attempt = 0;; ++attempt) {
      try {
        return client_.publish(msg);
      } catch (const mqtt::exception& e) {  // e.g. too many in flight: back off briefly
        if (attempt > 2000) throw;
        std::this_thread::sleep_for(1ms);
      }
    }
  }

  // Waits until `count` slots have an answer, or the deadline; returns how many did.
  std::size_t wait_answered(std::size_t count, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_until(lock, deadline, [&] { return answered_ >= count; });
    return answered_;
  }
  // Waits until `count` slots have their final lifecycle message, or the deadline.
  std::size_t wait_finals(std::size_t count, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_until(lock, deadline, [&] { return finals_ >= count; });
    return finals_;
  }
  bool wait_slot(std::size_t slot, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_until(lock, deadline, [&] { return arrivals_[slot].arrived; });
  }
  std::vector<Arrival> arrivals() {
    std::lock_guard<std::mutex> lock(mutex_);
    return arrivals_;
  }
  std::size_t unexpected() const { return unexpected_; }
  std::size_t progress_messages() const { return progress_messages_; }

 private:
  void on_message(const mqtt::const_message_ptr& m) {
    const auto now = Clock::now();
    if (!m || !m->get_properties().contains(mqtt::property::CORRELATION_DATA)) {
      ++unexpected_;
      return;
    }
    const std::string corr = mqtt::get<std::string>(m->get_properties(), mqtt::property::CORRELATION_DATA);
    const std::string& payload = m->get_payload_str();
    const std::size_t slot = static_cast<std::size_t>(std::strtoul(corr.c_str(), nullptr, 10));
    if (payload.find("\"type\":\"progress\"") != std::string::npos) {
      ++progress_messages_;  // waiting for the rate quota: not the result
      return;
    }
    if (payload.find("\"type\":\"lifecycle\"") != std::string::npos) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (slot >= arrivals_.size()) {
        ++unexpected_;
        return;
      }
      Arrival& a = arrivals_[slot];
      if (payload.find("\"final\":true") == std::string::npos) {
        if (!a.progress_at) a.progress_at = now;
      } else {
        ++finals_;  // every final message: an InstanceIds command has one per instance
        if (!a.final_at) {
          a.final_at = now;
          const auto at = payload.find("\"outcome\":\"");
          if (at != std::string::npos) a.outcome = payload.substr(at + 11, payload.find('"', at + 11) - (at + 11));
        }
        if (payload.find("\"outcome\":\"Stopped\"") != std::string::npos) {
          ++a.stopped_finals;
          a.last_final_at = now;
        }
      }
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (slot >= arrivals_.size() || arrivals_[slot].arrived) {
        ++unexpected_;  // a republished copy, or a late one from an earlier phase
        return;
      }
      Arrival& a = arrivals_[slot];
      a.at = now;
      a.arrived = true;
      a.ok = payload.find("\"ok\":true") != std::string::npos;
      a.busy = payload.find("\"Code\":\"Busy\"") != std::string::npos;
      ++answered_;
    }
    cv_.notify_all();
  }

  mqtt::async_client client_;
  mqtt::connect_options opts_;  // kept alive for the client's lifetime (Paho C++ 1.2 copy pitfall)
  std::string reply_topic_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Arrival> arrivals_;
  std::size_t answered_ = 0;
  std::size_t finals_ = 0;
  std::atomic<std::size_t> unexpected_{0};
  std::atomic<std::size_t> progress_messages_{0};
};

std::string fmt(double v, int decimals = 2) {
  if (v < 0) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// ---- scenarios --------------------------------------------------------------------------------

struct Settings {
  // The follow scenario: commands spaced at random, each instance Stopping for follow_stop_ms,
  // once for each poll interval.
  std::size_t follow_n = 60;
  std::uint32_t follow_stop_ms = 3000;
  std::vector<std::uint32_t> follow_intervals_ms = {1000, 2000};
  std::size_t warmup = 8;
  std::size_t sequential = 200;
  std::size_t burst = 1000;
  std::size_t queue_depth = 2000;
  std::size_t publish_window = 20;
  std::size_t bursts = 3;
};

struct Report {
  std::string name;
  std::size_t queue_depth = 0;
  long idle_rss_kb = -1, idle_anon_kb = -1, after_seq_rss_kb = -1, peak_rss_kb = -1, after_burst_rss_kb = -1;
  std::size_t seq_n = 0, seq_answered = 0, seq_ok = 0;
  double first_ms = -1;  // the first command after start-up (new TLS connection)
  double p50 = -1, p90 = -1, p99 = -1, max = -1, mean = -1;
  double seq_cpu_ms_per_cmd = -1;
  struct Burst {
    std::size_t answered = 0, ok = 0, busy = 0;
    double publish_ms = -1, last_ms = -1, throughput = -1;
    std::size_t pauses = 0;  // gaps of >= 0.5 s between consecutive results
  };
  std::size_t burst_n = 0;   // commands per burst
  std::vector<Burst> bursts;
  double burst_cpu_stat_ms = -1, burst_cpu_sched_ms = -1;  // per command, over every burst
  std::string https_line = "not measured yet";
  double full_handshake_share = -1;
  std::optional<int> exit_status;
};

std::string instance_id(const std::string& tag, std::size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "bench%s%027zu", tag.c_str(), i);  // 32 characters
  return buf;
}

std::string instances_json(const std::string& tag, std::size_t n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ",";
    out += R"({"InstanceId":")" + instance_id(tag, i) + R"(","RegionId":"cn-hangzhou","state":"Running"})";
  }
  return out + "]";
}

double percentile(const std::vector<double>& sorted, double p) {  // nearest rank
  if (sorted.empty()) return -1;
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// "https: 1208 requests, 4 full TLS handshakes, 0 resumed" -> share of full handshakes.
void read_https_line(const std::string& log, Report& r) {
  const auto at = log.rfind("https: ");
  if (at == std::string::npos) return;
  const auto end = log.find('\n', at);
  r.https_line = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
  unsigned long long requests = 0, full = 0, resumed = 0;
  if (std::sscanf(r.https_line.c_str(), "https: %llu requests, %llu full TLS handshakes, %llu resumed", &requests,
                  &full, &resumed) >= 2 &&
      requests > 0)
    r.full_handshake_share = 100.0 * static_cast<double>(full) / static_cast<double>(requests);
}

Report run(const std::string& name, const std::string& durability, std::size_t queue_depth, bool run_sequential,
           const Settings& s) {
  Report r;
  r.name = name;
  r.queue_depth = queue_depth;
  progress("== " + name);
  TempDir dir;
  Mosquitto broker(dir);
  const std::size_t total = s.warmup + s.sequential + s.bursts * s.burst;
  EmulatorOptions eopts;
  eopts.stop_delay_ms = 300;
  Emulator cloud(dir, instances_json("", total), eopts);

  AgentOptions aopts(broker.uri(), cloud.endpoint());
  // The stop path alone: following is measured by its own scenario (run_follow).
  aopts.extra_config = R"(,"journal":{"durability":")" + durability + R"("},"follow":{"enabled":false})";
  if (queue_depth != 64) aopts.extra_config += R"(,"commands":{"queue_depth":)" + std::to_string(queue_depth) + "}";
  // SWAS_BENCH_AGENT_ENV="K=V K=V": extra environment for the agent (e.g. heaptrack's LD_PRELOAD).
  if (const char* extra = std::getenv("SWAS_BENCH_AGENT_ENV")) {
    std::istringstream words(extra);
    for (std::string kv; words >> kv;)
      if (const auto eq = kv.find('='); eq != std::string::npos) aopts.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  Agent agent(dir, aopts);
  const pid_t pid = agent.process().pid();

  std::this_thread::sleep_for(1500ms);  // past the first status publish and journal upkeep
  r.idle_rss_kb = status_kb(pid, "VmRSS");
  r.idle_anon_kb = status_kb(pid, "RssAnon");
  save_smaps(pid, durability + "-q" + std::to_string(queue_depth) + "-idle");

  Driver driver(broker.uri(), "bench/replies/" + name);
  const std::string topic = Agent::command_topic();
  std::size_t next_instance = 0;
  auto command = [&](const std::string& id) {
    return swas::it::stop_command(id, instance_id("", next_instance++), "cn-hangzhou",
                                  R"(,"ClientToken":"bench-)" + durability + "-" + id + "\"");
  };

  // Warm-up: a few commands at once, so that every worker opens its TLS connection (the figure
  // reported is the slowest of them); then the sequential phase, one command at a time.
  std::vector<double> latencies;
  CpuSample seq_cpu0{};
  if (run_sequential && s.warmup > 0) {
    driver.reset(s.warmup);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < s.warmup; ++i) driver.publish(topic, command("w-" + std::to_string(i)), i);
    if (driver.wait_answered(s.warmup, Clock::now() + 30s) < s.warmup) progress("warm-up commands unanswered");
    for (const Arrival& a : driver.arrivals())
      if (a.arrived) r.first_ms = std::max(r.first_ms, ms_between(t0, a.at));
    std::this_thread::sleep_for(200ms);
  }
  const std::size_t seq_total = run_sequential ? s.sequential : 0;
  driver.reset(seq_total);
  std::unique_ptr<swas::it::Process> attached_seq =
      run_sequential ? attach_if_asked("sequential", dir, pid, durability, queue_depth) : nullptr;
  seq_cpu0 = cpu(pid);
  for (std::size_t i = 0; i < seq_total; ++i) {
    const std::string payload = command("s-" + std::to_string(i));
    const auto t0 = Clock::now();
    driver.publish(topic, payload, i);
    if (!driver.wait_slot(i, Clock::now() + 15s)) {
      progress("no result for sequential command " + std::to_string(i) + " within 15 s");
      continue;
    }
    const Arrival a = driver.arrivals()[i];
    latencies.push_back(ms_between(t0, a.at));
    r.seq_ok += a.ok ? 1 : 0;
  }
  if (run_sequential) {
    const CpuSample seq_cpu1 = cpu(pid);
    detach(attached_seq);
    r.seq_n = s.sequential;
    r.seq_answered = latencies.size();
    r.seq_cpu_ms_per_cmd = (seq_cpu1.sched_ms - seq_cpu0.sched_ms) / static_cast<double>(s.sequential);
    r.mean = latencies.empty() ? -1 : [&] {
      double sum = 0;
      for (double v : latencies) sum += v;
      return sum / static_cast<double>(latencies.size());
    }();
    std::sort(latencies.begin(), latencies.end());
    r.p50 = percentile(latencies, 50);
    r.p90 = percentile(latencies, 90);
    r.p99 = percentile(latencies, 99);
    r.max = latencies.empty() ? -1 : latencies.back();
    r.after_seq_rss_kb = status_kb(pid, "VmRSS");
    std::this_thread::sleep_for(1200ms);  // let the status message and PUBACKs settle
  }

  // The bursts: every command published at once (as fast as the broker takes them), then wait
  // for every result; repeated s.bursts times with the same agent.
  std::unique_ptr<swas::it::Process> attached = attach_if_asked("burst", dir, pid, durability, queue_depth);
  r.burst_n = s.burst;
  const CpuSample b0 = cpu(pid);
  for (std::size_t round = 0; round < s.bursts; ++round) {
    driver.reset(s.burst);
    std::vector<std::string> payloads;
    for (std::size_t i = 0; i < s.burst; ++i)
      payloads.push_back(command("b" + std::to_string(round) + "-" + std::to_string(i)));
    Report::Burst b;
    const auto t0 = Clock::now();
    // At most `publish_window` unacknowledged PUBLISHes: the broker's Receive Maximum
    // (mosquitto's max_inflight_messages, 20). Past it Paho C holds a message back until its send
    // thread's next 1-second tick, which would measure the driver, not the agent.
    std::deque<mqtt::delivery_token_ptr> window;
    for (std::size_t i = 0; i < s.burst; ++i) {
      if (window.size() >= s.publish_window) {
        window.front()->wait_for(10s);
        window.pop_front();
      }
      window.push_back(driver.publish(topic, payloads[i], i));
    }
    b.publish_ms = ms_between(t0, Clock::now());
    b.answered = driver.wait_answered(s.burst, Clock::now() + 120s);
    const auto arrivals = driver.arrivals();
    std::vector<Clock::time_point> times;
    for (const Arrival& a : arrivals) {
      if (!a.arrived) continue;
      times.push_back(a.at);
      b.ok += a.ok ? 1 : 0;
      b.busy += a.busy ? 1 : 0;
    }
    std::sort(times.begin(), times.end());
    for (std::size_t i = 1; i < times.size(); ++i) b.pauses += ms_between(times[i - 1], times[i]) >= 500 ? 1 : 0;
    b.last_ms = times.empty() ? -1 : ms_between(t0, times.back());
    b.throughput = b.last_ms > 0 ? 1000.0 * static_cast<double>(b.answered) / b.last_ms : -1;
    if (std::getenv("SWAS_BENCH_TRACE")) {  // arrival time of every burst result, in ms from t0
      std::string line = "burst arrivals (ms):";
      for (const Arrival& a : arrivals) line += " " + (a.arrived ? fmt(ms_between(t0, a.at), 1) : std::string("-"));
      progress(line);
    }
    if (b.answered < s.burst)
      progress(std::to_string(s.burst - b.answered) + " burst commands unanswered after 120 s");
    r.bursts.push_back(b);
    std::this_thread::sleep_for(300ms);  // the trailing PUBACKs and journal acknowledgements
  }
  const CpuSample b1 = cpu(pid);
  const double n = static_cast<double>(s.burst * s.bursts);
  if (n > 0) {
    r.burst_cpu_stat_ms = (b1.stat_ms - b0.stat_ms) / n;
    r.burst_cpu_sched_ms = (b1.sched_ms - b0.sched_ms) / n;
  }
  detach(attached);
  r.peak_rss_kb = status_kb(pid, "VmHWM");
  save_smaps(pid, durability + "-q" + std::to_string(queue_depth) + "-after-burst");
  r.after_burst_rss_kb = status_kb(pid, "VmRSS");

  agent.process().signal(SIGTERM);
  r.exit_status = agent.process().wait_exit(30s);
  if (!r.exit_status) progress("the agent did not exit within 30 s of SIGTERM (killed)");
  read_https_line(agent.process().log(), r);
  if (driver.unexpected() > 0) progress(std::to_string(driver.unexpected()) + " extra/duplicate results seen");
  return r;
}

// ---- following to Stopped (issue 12) ----------------------------------------------------------

struct FollowReport {
  std::uint32_t interval_ms = 0, stop_ms = 0;
  std::size_t n = 0, results_ok = 0, finals = 0, stopped = 0;
  double result_p50 = -1, result_p99 = -1, stopped_p50 = -1, stopped_p99 = -1;
  double overhead_p50 = -1, overhead_p99 = -1, overhead_max = -1;
  double list_calls = -1, phase_s = -1;
  double cpu_ms_per_cmd = -1;
  double idle_cpu_ms_per_s = -1;
  std::string https_line;
};

// Commands published one by one at random gaps of 0..2 intervals (so follows overlap and start
// at every phase of the poll cadence), each to its own instance that stays Stopping for
// `stop_ms`; waits for every final lifecycle message.
FollowReport run_follow(std::uint32_t interval_ms, const Settings& s, unsigned seed) {
  FollowReport r;
  r.interval_ms = interval_ms;
  r.stop_ms = s.follow_stop_ms;
  r.n = s.follow_n;
  progress("== follow, interval " + std::to_string(interval_ms) + " ms, stopping time " +
           std::to_string(s.follow_stop_ms) + " ms, " + std::to_string(s.follow_n) + " commands");
  TempDir dir;
  Mosquitto broker(dir);
  EmulatorOptions eopts;
  eopts.stop_delay_ms = static_cast<int>(s.follow_stop_ms);
  const std::string tag = "f" + std::to_string(interval_ms);
  Emulator cloud(dir, instances_json(tag, s.follow_n), eopts);
  AgentOptions aopts(broker.uri(), cloud.endpoint());
  aopts.extra_config = R"(,"follow":{"interval_ms":)" + std::to_string(interval_ms) + "}";
  Agent agent(dir, aopts);
  const pid_t pid = agent.process().pid();
  Driver driver(broker.uri(), "bench/replies/follow-" + tag);
  driver.reset(s.follow_n);
  std::vector<Clock::time_point> sent(s.follow_n);
  unsigned state = seed;
  auto next_random = [&state] {  // xorshift32: the same gaps for the same seed
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  // The agent's idle CPU (status and journal upkeep every second), subtracted below: the commands
  // are spread over a minute or more.
  std::this_thread::sleep_for(1500ms);
  const CpuSample idle0 = cpu(pid);
  const auto idle_t0 = Clock::now();
  std::this_thread::sleep_for(3s);
  const double idle_ms_per_s = (cpu(pid).sched_ms - idle0.sched_ms) / (ms_between(idle_t0, Clock::now()) / 1000.0);
  r.idle_cpu_ms_per_s = idle_ms_per_s;
  std::unique_ptr<swas::it::Process> attached = attach_if_asked("follow", dir, pid, "follow", interval_ms);
  const CpuSample c0 = cpu(pid);
  const auto phase0 = Clock::now();
  for (std::size_t i = 0; i < s.follow_n; ++i) {
    sent[i] = Clock::now();
    driver.publish(Agent::command_topic(),
                   swas::it::stop_command("f-" + std::to_string(i), instance_id(tag, i), "cn-hangzhou"), i);
    std::this_thread::sleep_for(std::chrono::milliseconds(next_random() % (2 * interval_ms)));
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(s.follow_stop_ms + 4 * interval_ms + 30000);
  r.finals = driver.wait_finals(s.follow_n, deadline);
  r.phase_s = ms_between(phase0, Clock::now()) / 1000.0;
  const CpuSample c1 = cpu(pid);
  detach(attached);
  r.cpu_ms_per_cmd = (c1.sched_ms - c0.sched_ms - idle_ms_per_s * r.phase_s) / static_cast<double>(s.follow_n);
  std::vector<double> to_result, to_stopped, overhead;
  const auto arrivals = driver.arrivals();
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    const Arrival& a = arrivals[i];
    if (a.arrived && a.ok) {
      ++r.results_ok;
      to_result.push_back(ms_between(sent[i], a.at));
    }
    if (a.final_at && a.outcome == "Stopped") {
      ++r.stopped;
      to_stopped.push_back(ms_between(sent[i], *a.final_at));
      if (a.arrived) overhead.push_back(ms_between(a.at, *a.final_at) - s.follow_stop_ms);
    }
  }
  for (auto* v : {&to_result, &to_stopped, &overhead}) std::sort(v->begin(), v->end());
  r.result_p50 = percentile(to_result, 50);
  r.result_p99 = percentile(to_result, 99);
  r.stopped_p50 = percentile(to_stopped, 50);
  r.stopped_p99 = percentile(to_stopped, 99);
  r.overhead_p50 = percentile(overhead, 50);
  r.overhead_p99 = percentile(overhead, 99);
  r.overhead_max = overhead.empty() ? -1 : overhead.back();
  r.list_calls = cloud.calls("ListInstanceStatus");
  agent.process().signal(SIGTERM);
  agent.process().wait_exit(30s);
  Report https;
  read_https_line(agent.process().log(), https);
  r.https_line = https.https_line;
  if (r.finals < s.follow_n) progress(std::to_string(s.follow_n - r.finals) + " follows without a final message");
  return r;
}

void print_follow_table(const std::vector<FollowReport>& rs) {
  std::cout << "\n| following to Stopped |";
  for (const auto& r : rs) std::cout << " interval " << fmt(r.interval_ms / 1000.0, 1) << " s |";
  std::cout << "\n|---|";
  for (std::size_t i = 0; i < rs.size(); ++i) std::cout << "---|";
  std::cout << "\n";
  auto row = [&](const std::string& label, auto cell) {
    std::cout << "| " << label << " |";
    for (const auto& r : rs) std::cout << " " << cell(r) << " |";
    std::cout << "\n";
  };
  row("emulator's stopping time (Stopping → Stopped)", [](const FollowReport& r) { return std::to_string(r.stop_ms) + " ms"; });
  row("commands (one at a time, random gaps of 0–2 intervals) / ok / final Stopped", [](const FollowReport& r) {
    return std::to_string(r.n) + " / " + std::to_string(r.results_ok) + " / " + std::to_string(r.stopped);
  });
  row("command → RequestId p50 / p99",
      [](const FollowReport& r) { return fmt(r.result_p50, 1) + " / " + fmt(r.result_p99, 1) + " ms"; });
  row("**command → Stopped p50 / p99**",
      [](const FollowReport& r) { return "**" + fmt(r.stopped_p50, 0) + " / " + fmt(r.stopped_p99, 0) + " ms**"; });
  row("overhead beyond the cloud's stopping time (RequestId → Stopped − stopping time) p50 / p99 / max",
      [](const FollowReport& r) {
        return fmt(r.overhead_p50, 0) + " / " + fmt(r.overhead_p99, 0) + " / " + fmt(r.overhead_max, 0) + " ms";
      });
  row("ListInstanceStatus calls in all / per followed stop", [](const FollowReport& r) {
    return fmt(r.list_calls, 0) + " / " + fmt(r.n ? r.list_calls / static_cast<double>(r.n) : -1, 2);
  });
  row("one poller per instance at the same interval would make (per stop)", [](const FollowReport& r) {
    // A poll right after the result, then one per interval until the stopping time has passed.
    return fmt(1.0 + std::ceil(static_cast<double>(r.stop_ms) / r.interval_ms), 0);
  });
  row("ListInstanceStatus calls per minute while following",
      [](const FollowReport& r) { return fmt(r.phase_s > 0 ? r.list_calls * 60.0 / r.phase_s : -1, 1); });
  row("shutdown line", [](const FollowReport& r) { return "`" + r.https_line + "`"; });
  row("agent CPU when idle (schedstat, before the commands)",
      [](const FollowReport& r) { return fmt(r.idle_cpu_ms_per_s, 3) + " ms/s"; });
  row("agent CPU per followed stop, idle CPU subtracted (schedstat)",
      [](const FollowReport& r) { return fmt(r.cpu_ms_per_cmd, 3) + " ms"; });
}

// ---- the account's rate quota (issue 13) -----------------------------------------------------

struct QuotaReport {
  std::string name;
  std::size_t n = 0, ok = 0, stopped = 0;
  double last_result_s = -1, last_stopped_s = -1;
  double allowed = -1, throttled = -1, stop_instances_calls = -1, list_calls = -1;
  std::size_t progress = 0;
};

// 40 stops at once against the emulator's quota of 10 StopInstance calls per 5 s: as 40 commands
// (with or without cloud.quota), or as one InstanceIds command.
QuotaReport run_quota(const std::string& name, bool configured, bool one_command) {
  QuotaReport r;
  r.name = name;
  r.n = 40;
  progress("== quota: " + name);
  TempDir dir;
  Mosquitto broker(dir);
  EmulatorOptions eopts;
  eopts.stop_delay_ms = 300;
  const std::string tag = "q" + std::to_string(configured) + std::to_string(one_command);
  Emulator cloud(dir, instances_json(tag, r.n), eopts);
  cloud.set_quotas(R"({"quotas":{"StopInstance":"10/5s","StopInstances":"10/5s"}})");
  AgentOptions aopts(broker.uri(), cloud.endpoint());
  aopts.extra_config = R"(,"follow":{"interval_ms":500})";
  if (configured) aopts.cloud_extra = R"(,"quota":{"StopInstance":"10/5s"})";
  Agent agent(dir, aopts);
  Driver driver(broker.uri(), "bench/replies/" + tag);
  const std::size_t slots = one_command ? 1 : r.n;
  driver.reset(slots);
  const auto t0 = Clock::now();
  if (one_command) {
    std::string ids;
    for (std::size_t i = 0; i < r.n; ++i) ids += std::string(i ? "," : "") + "\"" + instance_id(tag, i) + "\"";
    driver.publish(Agent::command_topic(),
                   R"({"id":"many","action":"StopInstance","RegionId":"cn-hangzhou","InstanceIds":[)" + ids + "]}", 0);
  } else {
    for (std::size_t i = 0; i < r.n; ++i)
      driver.publish(Agent::command_topic(),
                     swas::it::stop_command("q-" + std::to_string(i), instance_id(tag, i), "cn-hangzhou"), i);
  }
  driver.wait_answered(slots, Clock::now() + 120s);
  driver.wait_finals(r.n, Clock::now() + 120s);  // one final message per instance
  for (const Arrival& a : driver.arrivals()) {
    if (a.arrived) {
      r.ok += a.ok ? (one_command ? r.n : 1) : 0;
      r.last_result_s = std::max(r.last_result_s, ms_between(t0, a.at) / 1000.0);
    }
    r.stopped += a.stopped_finals;
    if (a.last_final_at) r.last_stopped_s = std::max(r.last_stopped_s, ms_between(t0, *a.last_final_at) / 1000.0);
  }
  r.progress = driver.progress_messages();
  const swas::it::Json state = cloud.state();
  const char* action = one_command ? "StopInstances" : "StopInstance";
  r.allowed = state.num({"quota_calls", action, Emulator::kAccessKeyId, "allowed"});
  r.throttled = std::max(0.0, state.num({"quota_calls", action, Emulator::kAccessKeyId, "throttled"}));
  r.stop_instances_calls = std::max(0.0, state.num({"actions", "StopInstances"}));
  r.list_calls = std::max(0.0, state.num({"actions", "ListInstanceStatus"}));
  agent.process().signal(SIGTERM);
  agent.process().wait_exit(30s);
  return r;
}

void print_quota_table(const std::vector<QuotaReport>& rs) {
  std::cout << "\n| 40 stops at once, the cloud's quota 10 calls / 5 s |";
  for (const auto& r : rs) std::cout << " " << r.name << " |";
  std::cout << "\n|---|";
  for (std::size_t i = 0; i < rs.size(); ++i) std::cout << "---|";
  std::cout << "\n";
  auto row = [&](const std::string& label, auto cell) {
    std::cout << "| " << label << " |";
    for (const auto& r : rs) std::cout << " " << cell(r) << " |";
    std::cout << "\n";
  };
  row("results ok", [](const QuotaReport& r) { return std::to_string(r.ok) + "/" + std::to_string(r.n); });
  row("last result after", [](const QuotaReport& r) { return fmt(r.last_result_s, 1) + " s"; });
  row("instances reported Stopped / last one after", [](const QuotaReport& r) {
    return std::to_string(r.stopped) + "/" + std::to_string(r.n) + " / " + fmt(r.last_stopped_s, 1) + " s";
  });
  row("stop calls the cloud allowed / throttled", [](const QuotaReport& r) {
    return fmt(r.allowed, 0) + " / " + fmt(r.throttled, 0);
  });
  row("progress messages (RateLimited)", [](const QuotaReport& r) { return std::to_string(r.progress); });
  row("ListInstanceStatus calls (following all 40 to Stopped)", [](const QuotaReport& r) { return fmt(r.list_calls, 0); });
}

std::string mb(long kb) { return kb < 0 ? "—" : fmt(static_cast<double>(kb) / 1024.0, 2) + " MB"; }
std::string count(std::size_t a, std::size_t b) { return std::to_string(a) + "/" + std::to_string(b); }

void print_table(const std::vector<Report>& rs, std::size_t warmup) {
  std::cout << "| measure |";
  for (const auto& r : rs) std::cout << " " << r.name << " |";
  std::cout << "\n|---|";
  for (std::size_t i = 0; i < rs.size(); ++i) std::cout << "---|";
  std::cout << "\n";
  auto row = [&](const std::string& label, auto cell) {
    std::cout << "| " << label << " |";
    for (const auto& r : rs) std::cout << " " << cell(r) << " |";
    std::cout << "\n";
  };
  row("commands.queue_depth", [](const Report& r) { return std::to_string(r.queue_depth); });
  row("idle RSS after start-up (VmRSS)", [](const Report& r) { return mb(r.idle_rss_kb); });
  row("idle anonymous RSS (RssAnon)", [](const Report& r) { return mb(r.idle_anon_kb); });
  row("warm-up: slowest of " + std::to_string(warmup) + " commands sent at once after start-up (new TLS connections)",
      [](const Report& r) { return r.seq_n ? fmt(r.first_ms) + " ms" : "—"; });
  row("sequential: answered / ok", [](const Report& r) {
    return r.seq_n ? count(r.seq_answered, r.seq_n) + " / " + std::to_string(r.seq_ok) : "—";
  });
  row("sequential latency p50", [](const Report& r) { return r.seq_n ? fmt(r.p50, 3) + " ms" : "—"; });
  row("sequential latency p90", [](const Report& r) { return r.seq_n ? fmt(r.p90, 3) + " ms" : "—"; });
  row("sequential latency p99", [](const Report& r) { return r.seq_n ? fmt(r.p99, 3) + " ms" : "—"; });
  row("sequential latency max", [](const Report& r) { return r.seq_n ? fmt(r.max, 3) + " ms" : "—"; });
  row("sequential latency mean", [](const Report& r) { return r.seq_n ? fmt(r.mean, 3) + " ms" : "—"; });
  row("sequential: agent CPU per command", [](const Report& r) {
    return r.seq_n ? fmt(r.seq_cpu_ms_per_cmd, 3) + " ms" : "—";
  });
  row("RSS after the sequential run", [](const Report& r) { return mb(r.after_seq_rss_kb); });
  auto per_burst = [](const Report& r, auto cell) {
    std::string out;
    for (const auto& b : r.bursts) out += (out.empty() ? "" : " · ") + cell(b);
    return out.empty() ? std::string("—") : out;
  };
  auto median_throughput = [](const Report& r) {
    std::vector<double> v;
    for (const auto& b : r.bursts) v.push_back(b.throughput);
    std::sort(v.begin(), v.end());
    return v.empty() ? -1.0 : v[v.size() / 2];
  };
  row("burst size × bursts", [](const Report& r) { return std::to_string(r.burst_n) + " × " + std::to_string(r.bursts.size()); });
  row("burst: answered / ok / Busy (each burst)", [&](const Report& r) {
    return per_burst(r, [&](const Report::Burst& b) {
      return count(b.answered, r.burst_n) + " / " + std::to_string(b.ok) + " / " + std::to_string(b.busy);
    });
  });
  row("burst: all published after (each burst)",
      [&](const Report& r) { return per_burst(r, [](const Report::Burst& b) { return fmt(b.publish_ms, 0) + " ms"; }); });
  row("burst: last result after (each burst)",
      [&](const Report& r) { return per_burst(r, [](const Report::Burst& b) { return fmt(b.last_ms, 0) + " ms"; }); });
  row("burst: pauses ≥ 0.5 s between consecutive results (each burst)", [&](const Report& r) {
    return per_burst(r, [](const Report::Burst& b) { return std::to_string(b.pauses); });
  });
  row("burst throughput, results/s until the last (each burst)",
      [&](const Report& r) { return per_burst(r, [](const Report::Burst& b) { return fmt(b.throughput, 0); }); });
  row("**burst throughput, median**", [&](const Report& r) { return "**" + fmt(median_throughput(r), 0) + "/s**"; });
  row("burst: agent CPU per command, all bursts (schedstat, ns)",
      [](const Report& r) { return fmt(r.burst_cpu_sched_ms, 3) + " ms"; });
  row("burst: agent CPU per command, all bursts (/proc/pid/stat utime+stime)",
      [](const Report& r) { return fmt(r.burst_cpu_stat_ms, 3) + " ms"; });
  row("peak RSS (VmHWM) after the bursts", [](const Report& r) { return mb(r.peak_rss_kb); });
  row("RSS after the bursts", [](const Report& r) { return mb(r.after_burst_rss_kb); });
  row("exit status after SIGTERM",
      [](const Report& r) { return r.exit_status ? std::to_string(*r.exit_status) : std::string("killed"); });
  row("shutdown line", [](const Report& r) { return "`" + r.https_line + "`"; });
  row("requests that needed a full TLS handshake", [](const Report& r) {
    return r.full_handshake_share < 0 ? std::string("not measured yet") : fmt(r.full_handshake_share, 2) + " %";
  });
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Settings s;
  std::string only;  // one scenario: full, process or default
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::size_t {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return static_cast<std::size_t>(std::strtoul(argv[++i], nullptr, 10));
    };
    if (a == "--sequential") s.sequential = value();
    else if (a == "--burst") s.burst = value();
    else if (a == "--queue-depth") s.queue_depth = value();
    else if (a == "--warmup") s.warmup = value();
    else if (a == "--bursts") s.bursts = value();
    else if (a == "--publish-window") s.publish_window = std::max<std::size_t>(1, value());
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--follow-commands") s.follow_n = std::max<std::size_t>(1, value());
    else if (a == "--smoke") {
      s.sequential = 20;
      s.burst = 100;
      s.bursts = 1;
      s.follow_n = 10;
      s.follow_intervals_ms = {500};
    } else {
      std::cerr << "usage: swas-e2e-bench [--sequential N] [--burst N] [--queue-depth N] [--warmup N] [--bursts N] [--publish-window N] [--follow-commands N] [--only full|process|default|follow|quota] [--smoke]\n";
      return 2;
    }
  }
  try {
    std::vector<Report> reports;
    if (only.empty() || only == "full") reports.push_back(run("full", "full", s.queue_depth, true, s));
    if (only.empty() || only == "process") reports.push_back(run("process", "process", s.queue_depth, true, s));
    if (only.empty() || only == "default")
      reports.push_back(run("full, default queue (64)", "full", 64, false, s));
    std::vector<QuotaReport> quotas;
    if (only.empty() || only == "quota") {
      quotas.push_back(run_quota("40 commands, no cloud.quota", false, false));
      quotas.push_back(run_quota("40 commands, cloud.quota 10/5s", true, false));
      quotas.push_back(run_quota("one command, 40 InstanceIds", false, true));
    }
    std::vector<FollowReport> follows;
    if (only.empty() || only == "follow")
      for (std::uint32_t interval : s.follow_intervals_ms) follows.push_back(run_follow(interval, s, 20261203u));
    if (!reports.empty()) print_table(reports, s.warmup);
    if (!follows.empty()) print_follow_table(follows);
    if (!quotas.empty()) print_quota_table(quotas);
    bool complete = !reports.empty() || !follows.empty() || !quotas.empty();
    for (const QuotaReport& q : quotas) complete = complete && q.ok == q.n && q.stopped == q.n;
    for (const FollowReport& f : follows) complete = complete && f.stopped == f.n;
    for (const Report& r : reports) {
      complete = complete && r.seq_answered == r.seq_n && r.bursts.size() == s.bursts;
      for (const auto& b : r.bursts) complete = complete && b.answered == r.burst_n;
    }
    if (!complete) progress("some commands were not answered");
    return complete ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    return 1;
  }
}
