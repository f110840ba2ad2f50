// Integration harness: real processes (mosquitto, swas-emulator, swas-agent) on free loopback
// ports, in a scratch directory, stopped when the test ends.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <cjson/cJSON.h>

namespace mqtt {
class async_client;
class connect_options;
}

namespace swas::it {

using namespace std::chrono_literals;

int free_port();
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, unsigned mode = 0600);

// A scratch directory removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process with stdout/stderr in files; killed (SIGKILL) on destruction if still running.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log_path,
          const std::map<std::string, std::string>& extra_env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit status (or 128+signal), or nullopt if still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string log() const { return read_file(log_path_); }
  // Waits until the log contains `text`; false on timeout or when the process died.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Certificates made once per test binary by tests/support/make-test-certs.
const std::string& cert_dir();

struct MosquittoOptions {
  bool persistent = false;           // keep sessions and queued messages across broker restarts
  int autosave_every = 1;            // ... saved after this many changes (and at a clean stop)
  bool tls = false;                  // a second listener with TLS (test CA, server.pem)
  bool require_client_cert = false;  // ... that requires a client certificate
  std::string password_file;         // ... that requires this mosquitto_passwd file
  std::string acl_text;              // an ACL for the plain listener (mosquitto acl_file syntax)
  std::string extra_conf;            // more mosquitto.conf lines (global settings)
};

class Mosquitto {
 public:
  explicit Mosquitto(const TempDir& dir, bool persistent = false);
  Mosquitto(const TempDir& dir, MosquittoOptions options);
  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  // The TLS listener, by host name (certificates name localhost).
  std::string tls_uri() const { return "ssl://localhost:" + std::to_string(tls_port_); }
  void restart();
  // restart() in two steps: SIGTERM (a persistent broker saves its sessions), then the same
  // config on the same port.
  void stop();
  void start_again();
  std::string log() const { return proc_->log(); }

 private:
  void start();
  std::string config_text() const;
  const TempDir& dir_;
  MosquittoOptions options_;
  int port_ = 0;
  int tls_port_ = 0;
  std::unique_ptr<Process> proc_;
};

// JSON document helper for results and emulator state.
struct Json {
  explicit Json(const std::string& text);
  Json(Json&&) = default;
  const cJSON* at(std::initializer_list<const char*> path) const;
  std::string str(std::initializer_list<const char*> path) const;
  double num(std::initializer_list<const char*> path) const;
  bool is_true(std::initializer_list<const char*> path) const;
  bool is_null(std::initializer_list<const char*> path) const;
  bool valid() const { return root != nullptr; }
  std::string text;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root;
};

// The entries of the emulator's request log (state()["log"]) for one action, in order. They point
// into `state`: keep it alive (not a temporary) while they are used.
std::vector<const cJSON*> emulator_log(const Json& state, const std::string& action);

struct EmulatorOptions {
  std::string cert = "server.pem";
  std::string key = "server.key";
  std::string ca = "ca.pem";  // what the test itself trusts when it talks to the emulator
  int stop_delay_ms = 300;
  std::vector<std::string> extra_args;  // e.g. {"--clock-offset-s", "1200"}
  int port = 0;                         // 0: any free port
};

class Emulator {
 public:
  static constexpr const char* kStsAccessKeyId = "STS.TestStsAccessKeyId";
  static constexpr const char* kStsSecret = "TestStsSecret-d0n0tl0g";
  static constexpr const char* kStsToken = "TestSecurityToken-d0n0tl0g";
  static constexpr const char* kAccessKeyId = "LTAI5tTestAccessKeyId";
  static constexpr const char* kAccessKeySecret = "TestAccessKeySecret-d0n0tl0g";

  Emulator(const TempDir& dir, const std::string& instances_json, EmulatorOptions opts = {});
  int port() const { return port_; }
  std::string endpoint() const { return "https://localhost:" + std::to_string(port_); }
  // GET /__emulator/state
  Json state();
  // How many API calls of `action` the emulator answered (StopInstance, ListInstanceStatus), 0 when none.
  double calls(const std::string& action);
  void set_faults(const std::string& faults_json);
  // POST /__emulator/quotas, e.g. {"quotas":{"StopInstance":"10/5s"}}.
  void set_quotas(const std::string& quotas_json);
  std::string log() const { return proc_->log(); }
  Process& process() { return *proc_; }

 private:
  std::string request(const std::string& method, const std::string& path, const std::string& body);
  int port_ = 0;
  std::string ca_;
  std::unique_ptr<Process> proc_;
};

struct AgentOptions {
  AgentOptions(std::string uri, std::string cloud_endpoint)
      : mqtt_uri(std::move(uri)), endpoint(std::move(cloud_endpoint)) {}
  std::string mqtt_uri;
  std::string endpoint;
  std::string ca_file;  // default: the test CA
  int mqtt_version = 5;
  std::string log_level = "info";
  bool credentials_in_env = false;
  std::string extra_config;  // raw JSON members appended to the top-level object
  std::string mqtt_extra;  // raw JSON members appended to the "mqtt" object
  std::string cloud_extra;  // raw JSON members appended to the "cloud" object
  std::map<std::string, std::string> env;  // extra environment (credentials from the environment)
  // cloud.retry: small waits keep tests short; the attempt bound is what tests count.
  std::string retry_json = R"({"max_attempts":4,"backoff_base_ms":50,"backoff_max_ms":200,"deadline_ms":30000})";
  int cloud_timeout_ms = 3000;  // cloud.timeout_ms: the budget of one attempt
  std::string state_dir;  // default: a fresh directory per agent
};

class Agent {
 public:
  Agent(const TempDir& dir, AgentOptions opts, bool wait_ready = true);
  static std::string gateway_id() { return "gw-it"; }
  static std::string command_topic() { return "swas/gw-it/commands"; }
  Process& process() { return *proc_; }
  std::string config_path() const { return config_path_; }
  // Starts the agent again with the same config and state (after a kill).
  void restart(bool wait_ready = true);

 private:
  std::string config_path_;
  std::map<std::string, std::string> env_;
  std::string log_level_;
  std::unique_ptr<Process> proc_;
};

// A dashboard stand-in: publishes commands and collects every result it sees.
class MqttProbe {
 public:
  // `reconnect`: reconnect and resubscribe automatically when the broker goes away.
  // `persistent_session`: MQTT 5 only; the broker keeps the subscriptions and queues messages while
  // the probe is away (with a persistent broker, across its restarts too).
  MqttProbe(const std::string& uri, int version = 5, bool reconnect = false, bool persistent_session = false);
  ~MqttProbe();
  void subscribe(const std::string& topic);
  void publish(const std::string& topic, const std::string& payload,
               const std::string& response_topic = "", const std::string& correlation = "");
  struct Received {
    std::string topic;
    std::string payload;
    std::string correlation;
  };
  // Waits for the first result whose id is `id` (or null when id is empty).
  std::optional<Received> wait_result(const std::string& id, std::chrono::milliseconds timeout = 15s);
  // Waits for the first result whose id is `id` that arrived on `topic`.
  std::optional<Received> wait_result_on(const std::string& topic, const std::string& id,
                                         std::chrono::milliseconds timeout = 15s);
  // Shows that no further answer to anything published before is on its way: publishes a marker
  // command (marker_command(): it goes through the agent's intake, journal, queue and a worker like
  // any command, and expires there without reaching the cloud) and waits for its answer (on
  // `response_topic` when given). The agent takes messages in, and answers those it refuses at
  // intake, in the order the broker delivers them; its workers take commands in that order and
  // publish a command's answers together; every message leaves on one connection, which the broker
  // forwards in order. So once the marker's answer is here, every answer published before it is
  // here too: strictly so for answers given at intake, and for every earlier command's work when
  // the agent has one worker (commands.max_in_flight 1); with more, the earlier commands had all
  // started. Use it instead of waiting "long enough" before counting answers. False when the
  // marker's answer did not come.
  bool await_marker(const std::string& marker_id, const std::string& command_topic,
                    const std::string& response_topic = "", std::chrono::milliseconds timeout = 15s);
  // Every result with that id seen so far.
  std::vector<Received> results_for(const std::string& id);
  std::size_t result_count();
  // Lifecycle messages (type "lifecycle") of command `id`, in the order received.
  std::vector<Received> lifecycle_for(const std::string& id);
  // Waits for the first lifecycle message of `id` (the final one when `final_only`).
  std::optional<Received> wait_lifecycle(const std::string& id, bool final_only, std::chrono::milliseconds timeout = 15s);
  // Every message of `id` whose type is `type` ("progress", ...), in the order received.
  std::vector<Received> of_type(const std::string& id, const std::string& type);
  // Waits until `count` messages of `type` (only final ones when `final_only`) were received, of any
  // id; returns how many there were.
  std::size_t wait_count(const std::string& type, bool final_only, std::size_t count, std::chrono::milliseconds timeout);
  // Every message received on `topic` (any type), in the order received.
  std::vector<Received> on_topic(const std::string& topic);
  // Waits until at least `count` messages were received on `topic`; false on timeout.
  bool wait_on_topic(const std::string& topic, std::size_t count, std::chrono::milliseconds timeout = 15s);
  // Every result and lifecycle message of `id`, in the order received.
  std::vector<Received> messages_for(const std::string& id);

 private:
  std::unique_ptr<mqtt::connect_options> connect_options_;
  std::unique_ptr<mqtt::async_client> client_;
  std::vector<std::string> topics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Received> received_;
};

// A stop command that expired long ago (expiresAt 2000-01-01): accepted, journaled and queued like
// any command, then answered CommandExpired by the worker that takes it, without a cloud call.
std::string marker_command(const std::string& id);

std::string stop_command(const std::string& id, const std::string& instance,
                         const std::string& region = "cn-hangzhou", const std::string& extra = "");

}  // namespace swas::it
