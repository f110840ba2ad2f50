// swas-agent: the only file that knows both agent/ and platform/. It parses the command line,
// builds the adapters, runs the worker, and waits for signals.
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include "agent_setup.hpp"
#include "cli.hpp"
#include "command_processor.hpp"
#include "ctr_drbg_entropy.hpp"
#include "mbedtls_https_client.hpp"
#include "paho_message_bus.hpp"
#include "stderr_logger.hpp"
#include "system_clock.hpp"
#include "work_queue.hpp"

#ifndef SWAS_VERSION
#define SWAS_VERSION "0.0.0"
#endif

namespace swas {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFatal = 1;
constexpr int kExitUsage = 2;
constexpr std::uint32_t kConnectTimeoutMs = 10000;
constexpr std::uint32_t kDisconnectTimeoutMs = 5000;

void info(Logger& log, const std::string& line) { log.write(LogLevel::Info, line); }

sigset_t blocked_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits up to `ms` for SIGTERM/SIGINT; true when one arrived. SIGHUP is logged and ignored.
bool wait_for_stop_signal(const sigset_t& set, Logger& log, long ms) {
  for (;;) {
    int sig = 0;
    if (ms < 0) {
      if (sigwait(&set, &sig) != 0) continue;
    } else {
      timespec ts{ms / 1000, (ms % 1000) * 1000000L};
      sig = sigtimedwait(&set, nullptr, &ts);
      if (sig < 0) return false;  // timeout (or EINTR): no stop requested
    }
    if (sig == SIGHUP) {
      log.write(LogLevel::Warn, "SIGHUP: reloading is not supported; restart the agent to apply changes");
      continue;
    }
    info(log, std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    return true;
  }
}

int run(const CliOptions& cli) {
  LogLevel level = LogLevel::Info;
  parse_log_level(cli.log_level, level);
  StderrLogger log(level);
  auto setup = load_agent_setup(cli.config_path);
  if (!setup) {
    std::fprintf(stderr, "swas-agent: configuration error: %s\n", setup.error().c_str());
    return kExitUsage;
  }
  HttpsClientOptions https_opts{setup->config.cloud.ca_file, setup->config.cloud.timeout_ms, 64 * 1024};
  auto https = MbedTlsHttpsClient::create(https_opts);
  if (!https) {
    std::fprintf(stderr, "swas-agent: configuration error: cloud.ca_file %s\n", https.error().c_str());
    return kExitUsage;
  }
  if (cli.check_config) {
    if (!setup->credentials) {
      std::fprintf(stderr, "swas-agent: %s\n", setup->warnings.front().c_str());
      return kExitUsage;
    }
    std::printf("config OK (gateway %s, credentials from %s)\n", setup->config.gateway_id.c_str(),
                setup->credentials_source.c_str());
    return kExitOk;
  }
  for (const auto& w : setup->warnings) log.write(LogLevel::Warn, w);

  const Config& cfg = setup->config;
  SystemClock clock;
  auto entropy = CtrDrbgEntropy::create("swas-agent workflow");
  if (!entropy) {
    log.write(LogLevel::Error, entropy.error());
    return kExitFatal;
  }
  PahoMessageBus bus(MessageBusOptions{cfg.mqtt, setup->mqtt_password, 1000}, log);
  wipe(setup->mqtt_password);

  ProcessorSettings settings;
  settings.gateway_id = cfg.gateway_id;
  settings.command_topic = cfg.mqtt.command_topic;
  settings.endpoint_override = cfg.cloud.endpoint;
  CommandProcessor processor(settings, std::move(setup->credentials), clock, **entropy, **https, bus, log);

  WorkQueue<IncomingMessage> queue(limits::kDefaultQueueDepth);
  std::thread worker([&] {
    while (auto msg = queue.pop()) processor.handle(*msg);
  });
  auto on_message = [&](IncomingMessage&& msg) {
    if (queue.try_push(msg)) return;
    if (auto busy = busy_answer(msg, cfg.gateway_id, cfg.mqtt.command_topic)) {
      log.write(LogLevel::Warn, "command queue full (" + std::to_string(limits::kDefaultQueueDepth) +
                                    "): answering Busy");
      bus.publish(*busy);
    }
  };

  const sigset_t signals = blocked_signals();
  bool stop = false;
  for (long backoff_ms = 1000; !stop;) {
    auto connected = bus.connect(on_message, kConnectTimeoutMs);
    if (connected) break;
    log.write(LogLevel::Warn, connected.error() + "; retrying in " + std::to_string(backoff_ms / 1000) + " s");
    stop = wait_for_stop_signal(signals, log, backoff_ms);
    backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
  }
  if (!stop) {
    info(log, "swas-agent " SWAS_VERSION " running for gateway " + cfg.gateway_id);
    wait_for_stop_signal(signals, log, -1);
  }
  // Settle in-flight work: no new commands, finish the queued ones (no more retry waits), publish
  // their results, then disconnect.
  queue.close();
  clock.shutdown();
  worker.join();
  bus.disconnect(kDisconnectTimeoutMs);
  info(log, "stopped");
  return kExitOk;
}

}  // namespace
}  // namespace swas

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  const sigset_t set = swas::blocked_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a peer closing a socket is an error value, not a crash

  auto cli = swas::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  if (!cli) {
    std::fprintf(stderr, "swas-agent: %s\n\n%s", cli.error().c_str(), swas::usage_text().c_str());
    return 2;
  }
  if (cli->help) {
    std::fputs(swas::usage_text().c_str(), stdout);
    return 0;
  }
  if (cli->version) {
    std::printf("swas-agent %s\n", SWAS_VERSION);
    return 0;
  }
  try {
    return swas::run(*cli);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swas-agent: fatal: %s\n", e.what());
    return 1;
  }
}
