// swas-agent: parses the command line, loads and checks the configuration, and runs the agent.
// The wiring in firmware/ (this file, agent_setup.cpp, agent_runtime.cpp) is the only code that
// knows both agent/ and platform/.
#include <signal.h>
#if defined(__GLIBC__)
#include <malloc.h>  // mallopt
#endif

#include <cstdio>

#include "agent_runtime.hpp"
#include "agent_setup.hpp"
#include "cli.hpp"
#include "paho_message_bus.hpp"
#include "stderr_logger.hpp"

#ifndef SWAS_VERSION
#define SWAS_VERSION "0.0.0"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

int run(const swas::CliOptions& cli) {
  swas::LogLevel level = swas::LogLevel::Info;
  swas::parse_log_level(cli.log_level, level);
  swas::StderrLogger log(level);
  auto setup = swas::load_agent_setup(cli.config_path, cli.gateway_id);
  if (!setup) {
    std::fprintf(stderr, "swas-agent: configuration error: %s\n", setup.error().c_str());
    return kExitUsage;
  }
  if (cli.check_config) {
    if (auto ok = swas::check_runtime_resources(*setup); !ok) {
      std::fprintf(stderr, "swas-agent: configuration error: %s\n", ok.error().c_str());
      return kExitUsage;
    }
    if (!setup->credentials) {
      std::fprintf(stderr, "swas-agent: %s\n", setup->warnings.front().c_str());
      return kExitUsage;
    }
    std::printf("config OK (gateway %s, credentials from %s)\n", setup->config.gateway_id.c_str(),
                setup->credentials_source.c_str());
    return kExitOk;
  }
  for (const auto& w : setup->warnings) log.write(swas::LogLevel::Warn, w);
  // Before anything creates a Paho client. Only an ssl:// broker needs OpenSSL; for tcp:// Paho's
  // initialisation of it cost 1.3 MiB of RSS for nothing (docs/footprint.md).
  swas::init_paho(setup->config.mqtt.tls);
  return swas::run_agent(std::move(*setup), swas::RuntimeOptions{SWAS_VERSION, level}, log);
}

}  // namespace

int main(int argc, char** argv) {
  // At most two malloc arenas (glibc's default: up to 8 per core, in practice one per busy
  // thread), so what the workers and Paho's threads free is reused rather than kept in an arena
  // of each: peak RSS after the bench's bursts 0.2 MB lower, CPU the same (docs/footprint.md).
#ifdef M_ARENA_MAX  // glibc only (musl, e.g. OpenWrt, has no arenas to cap)
  mallopt(M_ARENA_MAX, 2);
#endif
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a peer closing a socket is an error value, not a crash

  auto cli = swas::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  if (!cli) {
    std::fprintf(stderr, "swas-agent: %s\n\n%s", cli.error().c_str(), swas::usage_text().c_str());
    return kExitUsage;
  }
  if (cli->help) {
    std::fputs(swas::usage_text().c_str(), stdout);
    return kExitOk;
  }
  if (cli->version) {
    std::printf("swas-agent %s\n", SWAS_VERSION);
    return kExitOk;
  }
  try {
    return run(*cli);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swas-agent: fatal: %s\n", e.what());
    return 1;
  }
}
