// What the journal costs per command on this machine's disk, in the agent's own SQLite settings:
// the floor under the end-to-end latency with journal.durability full (an fsync to accept a command
// before its cloud call, another to record its result before it is published), and what the intake
// thread's batching (Journal::begin_many) saves in a burst. Prints Markdown; nothing is checked.
// Usage: swas-journal-bench [N]   (N sequential commands per setting, default 300)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sqlite_journal.hpp"
#include "system_clock.hpp"

namespace {

using Steady = std::chrono::steady_clock;

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

swas::JournalRecord record(const std::string& id) {
  swas::JournalRecord r;
  r.id = id;
  r.action = "StopInstance";
  r.instance_id = "i-bench-" + id;
  r.region_id = "cn-hangzhou";
  r.client_token = "token-" + id;
  r.route = swas::Route{"swas/gw-bench/results", "corr-" + id};
  r.accepted_ms = 1;
  return r;
}

const std::string kResult =
    R"({"type":"result","id":"x","ok":true,"RequestId":"5C8F0A9B-1E2D-4C3B-9A8F-7E6D5C4B3A21","ClientToken":"t"})";

struct Row {
  double accept_p50, accept_p99, finish_p50, command_p50, batch_per_cmd, single_per_cmd;
};

Row measure(swas::Durability durability, int n, const std::string& dir) {
  swas::SystemClock clock;
  const std::string path = dir + "/journal-" + (durability == swas::Durability::Full ? "full" : "process") + ".sqlite3";
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  auto j = swas::SqliteJournal::open(swas::SqliteJournalOptions{path, durability, 86400, 100000}, clock);
  if (!j) {
    std::fprintf(stderr, "journal-bench: %s\n", j.error().c_str());
    std::exit(1);
  }
  auto& journal = **j;
  std::vector<double> accept, finish, command;
  for (int i = 0; i < n; ++i) {
    const std::string id = "seq-" + std::to_string(i);
    const auto t0 = Steady::now();
    if (!journal.begin(record(id))) std::exit(1);
    accept.push_back(ms_since(t0));
    const auto t1 = Steady::now();
    if (!journal.finish(id, kResult)) std::exit(1);
    finish.push_back(ms_since(t1));
    command.push_back(ms_since(t0));
    journal.acknowledge(id);
  }
  // A burst's intake: 16 commands accepted one by one, and as one begin_many.
  constexpr int kBatch = 16;
  const int batches = std::max(1, n / kBatch);
  auto t = Steady::now();
  for (int b = 0; b < batches; ++b)
    for (int i = 0; i < kBatch; ++i) journal.begin(record("one-" + std::to_string(b) + "-" + std::to_string(i)));
  const double single = ms_since(t) / (batches * kBatch);
  t = Steady::now();
  for (int b = 0; b < batches; ++b) {
    std::vector<swas::JournalRecord> recs;
    for (int i = 0; i < kBatch; ++i) recs.push_back(record("many-" + std::to_string(b) + "-" + std::to_string(i)));
    journal.begin_many(recs);
  }
  const double batched = ms_since(t) / (batches * kBatch);
  return Row{percentile(accept, 0.5), percentile(accept, 0.99), percentile(finish, 0.5), percentile(command, 0.5),
             batched, single};
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 300;
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  std::printf("| journal.durability | accept (begin) p50 / p99 | result (finish) p50 | accept + result p50 | burst intake per command: one commit each / 16 per commit |\n");
  std::printf("|---|---|---|---|---|\n");
  for (auto d : {swas::Durability::Full, swas::Durability::Process}) {
    const Row r = measure(d, n, dir);
    std::printf("| %s | %.3f / %.3f ms | %.3f ms | **%.3f ms** | %.3f ms / %.3f ms |\n",
                d == swas::Durability::Full ? "full" : "process", r.accept_p50, r.accept_p99, r.finish_p50, r.command_p50,
                r.single_per_cmd, r.batch_per_cmd);
  }
  std::printf("\n%d sequential commands per setting on %s (the agent's SQLite settings: WAL, synchronous FULL or OFF).\n",
              n, dir.c_str());
  return 0;
}
