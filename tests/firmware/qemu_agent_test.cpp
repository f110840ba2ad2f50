// The gateway images run: a cross-built swas-agent under qemu-user, against a loopback mosquitto
// and the host-built SWAS emulator, checks its config, stops an instance and returns the
// emulator's RequestId, reports a cloud error verbatim, and exits 0 on SIGTERM (issue 5).
//
// Usage: firmware_qemu_test --agent PATH --qemu qemu-aarch64 --sysroot /usr/aarch64-linux-gnu
//                           --machine aarch64|arm
// Exit status: 0 passed, 1 failed, 77 skipped (ctest SKIP_RETURN_CODE) when the cross binary, qemu
// or the target's loader is missing: firmware/build-images builds the images and installs them.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

namespace swas::it {
namespace {

constexpr int kSkip = 77;
// qemu-user translates every instruction: TLS handshakes and start-up take seconds, not ms.
constexpr auto kStartTimeout = std::chrono::seconds(90);
constexpr auto kResultTimeout = std::chrono::seconds(90);

struct Options {
  std::string agent;
  std::string qemu;
  std::string sysroot;
  std::string machine;  // "aarch64" or "arm"
};

struct Target {
  std::uint16_t elf_machine;
  const char* loader;  // inside the sysroot
};

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> known{
      {"aarch64", {183, "/lib/ld-linux-aarch64.so.1"}},  // EM_AARCH64
      {"arm", {40, "/lib/ld-linux-armhf.so.3"}},         // EM_ARM
  };
  return known;
}

class Failure : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw Failure(what);
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = dirs.find(':', start);
    const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

// e_machine of an ELF file (offset 18, little-endian on every target here), 0 if not ELF.
std::uint16_t elf_machine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[20] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return 0;
  if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') return 0;
  return static_cast<std::uint16_t>(header[18] | (header[19] << 8));
}

// Why the test cannot run here, or "" when it can.
std::string missing_prerequisite(const Options& o) {
  if (::access(o.agent.c_str(), X_OK) != 0) return "the cross-built agent " + o.agent + " is missing";
  if (!on_path(o.qemu)) return o.qemu + " (Debian package qemu-user) is not installed";
  const std::string loader = o.sysroot + targets().at(o.machine).loader;
  if (::access(loader.c_str(), R_OK) != 0) return "the target's loader " + loader + " is missing";
  return "";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const Options& o) {
  check(elf_machine(o.agent) == targets().at(o.machine).elf_machine,
        o.agent + " is not an " + o.machine + " executable (e_machine " + std::to_string(elf_machine(o.agent)) + ")");
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, R"([{"InstanceId":"i-gw-running","RegionId":"cn-hangzhou","state":"Running"},
                             {"InstanceId":"i-gw-stopped","RegionId":"cn-hangzhou","state":"Stopped"}])");
  const std::string credentials = dir.file("credentials.json");
  write_file(credentials, std::string(R"({"access_key_id":")") + Emulator::kAccessKeyId +
                              R"(","access_key_secret":")" + Emulator::kAccessKeySecret + "\"}",
             0600);
  const std::string config = dir.file("agent.json");
  write_file(config,
             R"({"gateway_id":"gw-qemu","mqtt":{"uri":")" + broker.uri() + R"(","keepalive_s":20},)" +
                 R"("cloud":{"endpoint":")" + emulator.endpoint() + R"(","ca_file":")" + cert_dir() +
                 R"(/ca.pem","timeout_ms":30000},"credentials_file":")" + credentials + R"(","state_dir":")" +
                 dir.file("state") + "\"}",
             0644);
  const std::vector<std::string> agent{o.qemu, "-L", o.sysroot, o.agent, "--config", config};

  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::string> argv = agent;
    argv.push_back("--check-config");
    Process check_config(argv, dir.file("check-config.log"));
    const auto status = check_config.wait_exit(kStartTimeout);
    check(status && *status == 0 && check_config.log().find("config OK") != std::string::npos,
          "--check-config under " + o.qemu + " did not print 'config OK' and exit 0:\n" + check_config.log());
  }
  std::cout << "--check-config: config OK in " << seconds_since(t0) << " s\n";

  t0 = std::chrono::steady_clock::now();
  Process process(agent, dir.file("agent.log"));
  check(process.wait_for_log("subscribed to swas/gw-qemu/commands", kStartTimeout),
        "the agent did not subscribe:\n" + process.log());
  std::cout << "started and subscribed in " << seconds_since(t0) << " s\n";

  MqttProbe probe(broker.uri());
  probe.subscribe("swas/gw-qemu/commands");
  t0 = std::chrono::steady_clock::now();
  probe.publish("swas/gw-qemu/commands",
                stop_command("c-qemu-1", "i-gw-running", "cn-hangzhou", R"(,"ClientToken":"qemu-token-1")"));
  const auto ok = probe.wait_result("c-qemu-1", kResultTimeout);
  check(ok.has_value(), "no result for c-qemu-1:\n" + process.log());
  const Json success(ok->payload);
  check(success.is_true({"ok"}), "c-qemu-1 failed: " + success.text + "\n" + process.log());
  const std::string request_id = success.str({"RequestId"});
  check(!request_id.empty() && request_id != "<absent>", "c-qemu-1 has no RequestId: " + success.text);
  check(success.str({"ClientToken"}) == "qemu-token-1", "c-qemu-1 lost its ClientToken: " + success.text);
  check(emulator.state().num({"stops", "i-gw-running"}) == 1, "the emulator did not stop i-gw-running once");
  check(process.log().find(request_id) != std::string::npos, "the agent's log does not name " + request_id);
  std::cout << "StopInstance: RequestId " << request_id << " in " << seconds_since(t0) << " s\n";

  t0 = std::chrono::steady_clock::now();
  probe.publish("swas/gw-qemu/commands", stop_command("c-qemu-2", "i-gw-stopped"));
  const auto refused = probe.wait_result("c-qemu-2", kResultTimeout);
  check(refused.has_value(), "no result for c-qemu-2:\n" + process.log());
  const Json error(refused->payload);
  check(error.str({"error", "Code"}) == "IncorrectInstanceStatus" && error.num({"error", "HttpStatus"}) == 403,
        "c-qemu-2 is not the cloud's IncorrectInstanceStatus: " + error.text);
  std::cout << "StopInstance of a stopped instance: IncorrectInstanceStatus in " << seconds_since(t0) << " s\n";

  process.signal(SIGTERM);
  const auto status = process.wait_exit(std::chrono::seconds(60));
  check(status.has_value() && *status == 0, "the agent did not exit 0 after SIGTERM:\n" + process.log());
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--agent") o.agent = value;
    else if (key == "--qemu") o.qemu = value;
    else if (key == "--sysroot") o.sysroot = value;
    else if (key == "--machine") o.machine = value;
    else return false;
  }
  return argc % 2 == 1 && !o.agent.empty() && !o.qemu.empty() && !o.sysroot.empty() && targets().count(o.machine);
}

}  // namespace
}  // namespace swas::it

int main(int argc, char** argv) {
  using namespace swas::it;
  Options options;
  if (!parse(argc, argv, options)) {
    std::cerr << "usage: " << argv[0] << " --agent PATH --qemu QEMU --sysroot DIR --machine aarch64|arm\n";
    return 2;
  }
  const std::string missing = missing_prerequisite(options);
  if (!missing.empty()) {
    std::cout << "SKIPPED: " << missing << ". Run firmware/build-images to install the cross toolchains "
              << "and qemu-user and build the gateway images, then run this test again.\n";
    return kSkip;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    run(options);
    std::cout << "PASSED: " << options.agent << " under " << options.qemu << " in " << seconds_since(t0) << " s\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
