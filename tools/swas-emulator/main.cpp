// swas-emulator: a local HTTPS stand-in for swas.<region>.aliyuncs.com (StopInstance,
// StopInstances, ListInstanceStatus) for tests.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "emulator_config.hpp"
#include "emulator_core.hpp"
#include "emulator_time.hpp"
#include "tls_server.hpp"

namespace {

using swas::emulator::EmulatorCore;
using swas::emulator::EmulatorReply;

constexpr const char* kUsage =
    "usage: swas-emulator --config FILE --cert FILE --key FILE [--host 127.0.0.1] [--port N]\n"
    "                     [--port-file FILE] [--clock-offset-s N] [--log-requests] [--help]\n"
    "Emulates the SWAS StopInstance, StopInstances and ListInstanceStatus APIs (swas-open\n"
    "2020-06-01) over HTTPS for tests.\n"
    "--port 0 (default) picks a free port; when ready, prints\n"
    "'swas-emulator listening on HOST:PORT' and writes PORT to --port-file.\n"
    "--clock-offset-s shifts the emulator's clock (Date header, x-acs-date check).\n"
    "Exit status: 0 after SIGTERM/SIGINT or --help, 2 usage or config error, 1 runtime error.\n";

struct CliOptions {
  std::string config, cert, key, host = "127.0.0.1", port_file;
  long port = 0;
  long long clock_offset_s = 0;
  bool log_requests = false;
  bool help = false;
};

bool parse_integer(const std::string& text, long long low, long long high, long long& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < low || value > high) return false;
  out = value;
  return true;
}

bool usage_error(std::string& error, std::string message) {
  error = std::move(message);
  return false;
}

// Sets `error` and returns false on a usage error. Accepts "--flag value" and "--flag=value".
bool parse_cli(int argc, char** argv, CliOptions& o, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    const auto eq = flag.find('=');
    const bool inline_value = flag.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" || flag == "--log-requests") {
      (flag == "--help" ? o.help : o.log_requests) = true;
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) return usage_error(error, flag + " needs a value");
      value = argv[++i];
    }
    long long number = 0;
    if (flag == "--config") o.config = value;
    else if (flag == "--cert") o.cert = value;
    else if (flag == "--key") o.key = value;
    else if (flag == "--host") o.host = value;
    else if (flag == "--port-file") o.port_file = value;
    else if (flag == "--port" && parse_integer(value, 0, 65535, number)) o.port = static_cast<long>(number);
    else if (flag == "--clock-offset-s" && parse_integer(value, -3153600000LL, 3153600000LL, number))
      o.clock_offset_s = number;
    else return usage_error(error, "bad option or value: " + flag + " " + value);
  }
  if (o.help) return true;
  if (o.config.empty() || o.cert.empty() || o.key.empty())
    return usage_error(error, "--config, --cert and --key are required");
  return true;
}

// Written to a temporary name first so a reader polling the file never sees half a number.
bool write_port_file(const std::string& path, unsigned port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!(out << port << "\n")) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::int64_t emulator_now_ms(long long offset_s) {
  using namespace std::chrono;
  const auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<std::int64_t>(now) + offset_s * 1000;
}

void log_request(const swas::HttpRequest& request, const EmulatorReply& reply, std::int64_t now) {
  const std::string* request_id = swas::find_header(reply.response.headers, "x-acs-request-id");
  std::fprintf(stderr, "swas-emulator: %s %s %s -> %s %s%s\n",
               swas::emulator::format_acs_date(swas::emulator::floor_seconds(now)).c_str(),
               request.method.c_str(), request.target.c_str(),
               reply.drop_connection ? "dropped" : std::to_string(reply.response.status).c_str(),
               reply.code.empty() ? "OK" : reply.code.c_str(),
               request_id != nullptr ? (" RequestId=" + *request_id).c_str() : "");
}

int run(const CliOptions& o, swas::emulator::EmulatorConfig config) {
  EmulatorCore core(std::move(config));
  swas::emulator::TlsServerOptions server_options;
  server_options.host = o.host;
  server_options.port = static_cast<std::uint16_t>(o.port);
  server_options.cert_file = o.cert;
  server_options.key_file = o.key;
  if (o.log_requests)
    server_options.log = [](const std::string& line) {
      std::fprintf(stderr, "swas-emulator: %s\n", line.c_str());
    };
  swas::emulator::TlsServer server(server_options, [&core, &o](const swas::HttpRequest& request) {
    const std::int64_t now = emulator_now_ms(o.clock_offset_s);
    EmulatorReply reply = core.handle(request, now);
    if (o.log_requests) log_request(request, reply, now);
    return reply;
  });
  if (auto error = server.start()) {
    std::fprintf(stderr, "swas-emulator: %s\n", error->c_str());
    return 1;
  }
  if (!o.port_file.empty() && !write_port_file(o.port_file, server.port())) {
    std::fprintf(stderr, "swas-emulator: cannot write %s\n", o.port_file.c_str());
    return 1;
  }
  std::printf("swas-emulator listening on %s:%u\n", o.host.c_str(), unsigned{server.port()});
  std::fflush(stdout);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CliOptions options;
  std::string error;
  if (!parse_cli(argc, argv, options, error)) {
    std::fprintf(stderr, "swas-emulator: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto config = swas::emulator::load_config_file(options.config);
  if (!config) {
    std::fprintf(stderr, "swas-emulator: %s\n", config.error().c_str());
    return 2;
  }
  // Blocked before any thread exists so every thread inherits the mask and sigwait() gets them;
  // SIGPIPE is ignored because a client may hang up while we write.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return run(options, std::move(*config));
}
