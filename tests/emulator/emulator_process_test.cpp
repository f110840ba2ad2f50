// Starts the real swas-emulator binary with certificates from make-test-certs and talks TLS to it.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "emulator_limits.hpp"
#include "emulator_time.hpp"
#include "signed_request.hpp"
#include "tls_test_client.hpp"

namespace swas::emulator::test {
namespace {

std::string certs_dir() { return std::string(SWAS_EMULATOR_TEST_DIR) + "/certs"; }

// The request as bytes, the way an HTTP/1.1 client writes it.
std::string wire(const HttpRequest& request) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\n";
  for (const auto& h : request.headers) out += h.name + ": " + h.value + "\r\n";
  out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n\r\n" + request.body;
  return out;
}

std::int64_t now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

class EmulatorProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string command = std::string(SWAS_MAKE_TEST_CERTS) + " " + certs_dir();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ofstream(config_path()) << R"({
      "credentials": [{"access_key_id": "YourAccessKeyId", "access_key_secret": "YourAccessKeySecret"}],
      "instances": [{"InstanceId": "ace0706b2ac4454d984295a94213abcd", "RegionId": "cn-hangzhou"}],
      "stop_delay_ms": 100,
      "quotas": {"ListInstanceStatus": "1000/60s"}
    })";
  }
  static std::string config_path() { return std::string(SWAS_EMULATOR_TEST_DIR) + "/config.json"; }
  std::string port_file() const { return std::string(SWAS_EMULATOR_TEST_DIR) + "/port"; }

  void SetUp() override {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      const std::string cert = certs_dir() + "/server.pem", key = certs_dir() + "/server.key";
      execl(SWAS_EMULATOR_BINARY, SWAS_EMULATOR_BINARY, "--config", config_path().c_str(),
            "--cert", cert.c_str(), "--key", key.c_str(), "--port-file", port_file().c_str(),
            "--log-requests", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    ready_line_ = read_line(out[0], 10000);
    close(out[0]);
    const std::string prefix = "swas-emulator listening on 127.0.0.1:";
    ASSERT_EQ(ready_line_.rfind(prefix, 0), 0u) << "got: " << ready_line_;
    port_ = static_cast<std::uint16_t>(std::stoi(ready_line_.substr(prefix.size())));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  static std::string read_line(int fd, int timeout_ms) {
    std::string line;
    char c = 0;
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) == 1 && read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
  }

  HttpRequest stop_request(const std::string& nonce) const {
    RequestSpec spec;
    spec.host = "localhost:" + std::to_string(port_);
    spec.date_s = now_s();
    spec.nonce = nonce;
    spec.query = stop_query(kInstanceId, kRegionId, "process-test-token");
    return make_signed_request(spec);
  }

  HttpRequest stop_instances_request(const std::string& nonce, const std::string& ids) const {
    RequestSpec spec;
    spec.host = "localhost:" + std::to_string(port_);
    spec.action = "StopInstances";
    spec.date_s = now_s();
    spec.nonce = nonce;
    spec.query = {{"InstanceIds", ids}, {"RegionId", kRegionId}, {"ForceStop", "false"}};
    return make_signed_request(spec);
  }

  std::string admin_request(const std::string& method, const std::string& path,
                            const std::string& body = "") const {
    return wire(HttpRequest{method, path, {{"Host", "localhost:" + std::to_string(port_)}}, body});
  }

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_line_;
};

TEST_F(EmulatorProcessTest, StopsOverTlsWithKeepAlive) {
  TlsTestClient client;
  ASSERT_EQ(client.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
  ASSERT_TRUE(client.send(wire(stop_request("process-nonce-1"))));
  WireResponse stop;
  ASSERT_TRUE(client.read_response(stop));
  EXPECT_EQ(stop.status, 200) << stop.body;
  EXPECT_NE(stop.body.find("\"RequestId\""), std::string::npos);
  EXPECT_EQ(stop.header("Connection"), "keep-alive");
  EXPECT_EQ(stop.header("Content-Type"), "application/json;charset=utf-8");
  EXPECT_NE(stop.header("x-acs-request-id"), "");
  EXPECT_NE(stop.header("Date").find(" GMT"), std::string::npos);

  ASSERT_TRUE(client.send(admin_request("GET", "/__emulator/state")));  // same connection
  WireResponse state;
  ASSERT_TRUE(client.read_response(state));
  EXPECT_EQ(state.status, 200);
  EXPECT_NE(state.body.find("\"stops\":{\"ace0706b2ac4454d984295a94213abcd\":1}"),
            std::string::npos)
      << state.body;
  EXPECT_NE(state.body.find("\"requests\":1"), std::string::npos);
}

TEST_F(EmulatorProcessTest, StopInstancesAndQuotasOverTls) {
  TlsTestClient client;
  ASSERT_EQ(client.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
  ASSERT_TRUE(client.send(admin_request("GET", "/__emulator/state")));
  WireResponse initial;
  ASSERT_TRUE(client.read_response(initial));
  // The config file's quota is loaded and echoed.
  EXPECT_NE(initial.body.find("\"quotas\":{\"ListInstanceStatus\":\"1000/60s\"}"),
            std::string::npos)
      << initial.body;
  EXPECT_NE(initial.body.find("\"quota_retry_after\":false"), std::string::npos);

  const std::string second = R"([{"InstanceId": "i-process-2", "RegionId": "cn-hangzhou"}])";
  ASSERT_TRUE(client.send(admin_request("POST", "/__emulator/instances", second)));
  WireResponse added;
  ASSERT_TRUE(client.read_response(added));
  ASSERT_EQ(added.status, 200) << added.body;
  ASSERT_TRUE(client.send(admin_request(
      "POST", "/__emulator/quotas",
      R"({"quotas": {"StopInstances": "1/3600s"}, "quota_retry_after": true})")));
  WireResponse switched;
  ASSERT_TRUE(client.read_response(switched));
  ASSERT_EQ(switched.status, 200) << switched.body;

  const std::string both = R"(["ace0706b2ac4454d984295a94213abcd","i-process-2"])";
  ASSERT_TRUE(client.send(wire(stop_instances_request("process-many-1", both))));
  WireResponse stopped;
  ASSERT_TRUE(client.read_response(stopped));
  EXPECT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(stopped.body, "{\"RequestId\":\"" + stopped.header("x-acs-request-id") + "\"}");

  ASSERT_TRUE(client.send(wire(stop_instances_request("process-many-2", R"(["i-process-2"])"))));
  WireResponse throttled;
  ASSERT_TRUE(client.read_response(throttled));
  EXPECT_EQ(throttled.status, 400) << throttled.body;
  EXPECT_NE(throttled.body.find("\"Code\":\"Throttling.User\""), std::string::npos);
  EXPECT_NE(throttled.body.find("\"RequestId\":\"" + throttled.header("x-acs-request-id") + "\""),
            std::string::npos);
  // Milliseconds until the one call of the hour leaves the window: at most an hour.
  const std::string retry_after = throttled.header("x-acs-retry-after");
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoll(retry_after), 1);
  EXPECT_LE(std::stoll(retry_after), 3600000);

  ASSERT_TRUE(client.send(admin_request("GET", "/__emulator/state")));
  WireResponse state;
  ASSERT_TRUE(client.read_response(state));
  EXPECT_NE(state.body.find("\"stops\":{\"ace0706b2ac4454d984295a94213abcd\":1,\"i-process-2\":1}"),
            std::string::npos)
      << state.body;
  EXPECT_NE(state.body.find("\"quota_calls\":{\"StopInstances\":{\"YourAccessKeyId\":"
                            "{\"allowed\":1,\"throttled\":1}}}"),
            std::string::npos)
      << state.body;
}

TEST_F(EmulatorProcessTest, WritesPortFileAndExitsZeroOnSigterm) {
  std::ifstream in(port_file());
  unsigned port = 0;
  in >> port;
  EXPECT_EQ(port, port_);
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(EmulatorProcessTest, DropFaultCutsTheConnectionWithoutAnswer) {
  {
    TlsTestClient admin;
    ASSERT_EQ(admin.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
    ASSERT_TRUE(admin.send(admin_request("POST", "/__emulator/faults", R"({"drop_count": 1})")));
    WireResponse ok;
    ASSERT_TRUE(admin.read_response(ok));
    ASSERT_EQ(ok.status, 200);
  }
  TlsTestClient client;
  ASSERT_EQ(client.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
  ASSERT_TRUE(client.send(wire(stop_request("process-nonce-2"))));
  WireResponse none;
  EXPECT_FALSE(client.read_response(none));

  TlsTestClient retry;  // the next request is served normally
  ASSERT_EQ(retry.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
  ASSERT_TRUE(retry.send(wire(stop_request("process-nonce-3"))));
  WireResponse stop;
  ASSERT_TRUE(retry.read_response(stop));
  EXPECT_EQ(stop.status, 200) << stop.body;
}

TEST_F(EmulatorProcessTest, ConnectionsBeyondTheBoundAreRefusedUntilOneCloses) {
  std::vector<std::unique_ptr<TlsTestClient>> open;
  for (std::size_t i = 0; i < kMaxConnections; ++i) {
    open.push_back(std::make_unique<TlsTestClient>());
    ASSERT_EQ(open.back()->connect("localhost", port_, certs_dir() + "/ca.pem"), "") << i;
  }
  TlsTestClient refused;
  EXPECT_NE(refused.connect("localhost", port_, certs_dir() + "/ca.pem"), "");
  open.pop_back();  // one hangs up; its slot frees once the server notices
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    TlsTestClient client;
    served = client.connect("localhost", port_, certs_dir() + "/ca.pem").empty() &&
             client.send(admin_request("GET", "/__emulator/state"));
    WireResponse state;
    served = served && client.read_response(state) && state.status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
}

TEST_F(EmulatorProcessTest, ClientWithAnotherCaRefusesTheServer) {
  TlsTestClient client;
  EXPECT_NE(client.connect("localhost", port_, certs_dir() + "/other-ca.pem"), "");
}

}  // namespace
}  // namespace swas::emulator::test
