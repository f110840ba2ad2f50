// Implementation of the integration harness. Paths of the binaries come from CMake definitions.
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mqtt/async_client.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "mbedtls_https_client.hpp"

namespace swas::it {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; }
  ::chmod(path.c_str(), mode);
}

TempDir::TempDir() {
  std::string tmpl = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) +
                     "/swas-it-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SWAS_KEEP_TEST_DIRS")) return;
  const std::string cmd = "rm -rf '" + path_ + "'";
  if (std::system(cmd.c_str()) != 0) { /* best effort */ }
}

Process::Process(const std::vector<std::string>& argv, const std::string& log_path,
                 const std::map<std::string, std::string>& extra_env)
    : log_path_(log_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : extra_env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(5s);
  }
}

bool Process::running() {
  if (status_) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

bool Process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log().find(text) != std::string::npos) return true;
    if (!running() || std::chrono::steady_clock::now() > deadline) return log().find(text) != std::string::npos;
    std::this_thread::sleep_for(10ms);
  }
}

const std::string& cert_dir() {
  static TempDir* dir = [] {
    auto* d = new TempDir();  // lives for the whole test binary
    const std::string cmd = std::string(SWAS_MAKE_TEST_CERTS) + " '" + d->path() + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make-test-certs failed");
    return d;
  }();
  return dir->path();
}

Mosquitto::Mosquitto(const TempDir& dir, bool persistent) : dir_(dir) {
  options_.persistent = persistent;
  start();
}

Mosquitto::Mosquitto(const TempDir& dir, MosquittoOptions options) : dir_(dir), options_(std::move(options)) { start(); }

std::string Mosquitto::config_text() const {
  std::string c;
  if (::geteuid() == 0) c += "user root\n";  // else mosquitto drops to its own user and cannot read 0600 keys
  c += "per_listener_settings true\nset_tcp_nodelay true\nmax_queued_messages 10000\n";
  c += options_.extra_conf;
  c += options_.persistent ? "persistence true\npersistence_location " + dir_.path() +
                                 "/\nautosave_interval " + std::to_string(options_.autosave_every) + "\nautosave_on_changes true\n"
                           : "persistence false\n";
  c += "listener " + std::to_string(port_) + " 127.0.0.1\nallow_anonymous true\n";
  if (!options_.acl_text.empty()) {
    write_file(dir_.file("mosquitto.acl"), options_.acl_text, 0644);
    c += "acl_file " + dir_.file("mosquitto.acl") + "\n";
  }
  if (options_.tls) {
    c += "listener " + std::to_string(tls_port_) + " 127.0.0.1\ncafile " + cert_dir() + "/ca.pem\ncertfile " +
         cert_dir() + "/server.pem\nkeyfile " + cert_dir() + "/server.key\n";
    if (options_.require_client_cert) c += "require_certificate true\n";
    if (!options_.password_file.empty()) c += "allow_anonymous false\npassword_file " + options_.password_file + "\n";
    else c += "allow_anonymous true\n";
  }
  return c;
}

void Mosquitto::start() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) {
      port_ = free_port();
      tls_port_ = free_port();
    }
    const std::string conf = dir_.file("mosquitto.conf");
    write_file(conf, config_text(), 0644);
    proc_ = std::make_unique<Process>(std::vector<std::string>{SWAS_MOSQUITTO, "-c", conf},
                                      dir_.file("mosquitto.log"));
    if (proc_->wait_for_log("running", 5s) && proc_->running()) return;
  }
  throw std::runtime_error("mosquitto did not start: " + proc_->log());
}

void Mosquitto::restart() {
  stop();
  start_again();
}

void Mosquitto::stop() {
  proc_->signal(SIGTERM);
  proc_->wait_exit(5s);
}

void Mosquitto::start_again() {
  const std::size_t before = proc_->log().size();
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{SWAS_MOSQUITTO, "-c", dir_.file("mosquitto.conf")}, dir_.file("mosquitto.log"));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (proc_->log().find("running", before) == std::string::npos && proc_->running() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
}

Json::Json(const std::string& t) : text(t), root(cJSON_Parse(t.c_str()), &cJSON_Delete) {}

const cJSON* Json::at(std::initializer_list<const char*> path) const {
  const cJSON* n = root.get();
  for (const char* p : path) n = n ? cJSON_GetObjectItemCaseSensitive(n, p) : nullptr;
  return n;
}
std::string Json::str(std::initializer_list<const char*> path) const {
  const cJSON* n = at(path);
  return cJSON_IsString(n) ? n->valuestring : "<absent>";
}
double Json::num(std::initializer_list<const char*> path) const {
  const cJSON* n = at(path);
  return cJSON_IsNumber(n) ? n->valuedouble : -1;
}
bool Json::is_true(std::initializer_list<const char*> path) const { return cJSON_IsTrue(at(path)); }
bool Json::is_null(std::initializer_list<const char*> path) const { return cJSON_IsNull(at(path)); }

Emulator::Emulator(const TempDir& dir, const std::string& instances_json, EmulatorOptions opts)
    : ca_(cert_dir() + "/" + opts.ca) {
  const std::string config = dir.file("emulator-" + std::to_string(free_port()) + ".json");
  write_file(config, std::string(R"({"credentials":[{"access_key_id":")") + kAccessKeyId +
                         R"(","access_key_secret":")" + kAccessKeySecret + R"("},{"access_key_id":")" +
                         kStsAccessKeyId + R"(","access_key_secret":")" + kStsSecret + R"(","security_token":")" +
                         kStsToken + R"("}],"instances":)" +
                         instances_json + R"(,"stop_delay_ms":)" + std::to_string(opts.stop_delay_ms) + "}");
  const std::string port_file = config + ".port";
  std::vector<std::string> argv{SWAS_EMULATOR_BIN, "--config", config, "--cert", cert_dir() + "/" + opts.cert,
                                "--key", cert_dir() + "/" + opts.key, "--port", std::to_string(opts.port),
                                "--port-file", port_file};
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  proc_ = std::make_unique<Process>(argv, config + ".log");
  if (!proc_->wait_for_log("listening on", 10s)) throw std::runtime_error("emulator did not start: " + proc_->log());
  port_ = std::atoi(read_file(port_file).c_str());
}

std::string Emulator::request(const std::string& method, const std::string& path, const std::string& body) {
  auto client = MbedTlsHttpsClient::create({ca_, 5000, 1 << 20});
  if (!client) throw std::runtime_error(client.error());
  HttpRequest req{method, path, {{"Host", "localhost:" + std::to_string(port_)}, {"Content-Type", "application/json"}}, body};
  auto resp = (*client)->round_trip(Endpoint{"localhost", static_cast<std::uint16_t>(port_), ""}, req);
  if (!resp) throw std::runtime_error("emulator admin request failed: " + resp.error().detail);
  return resp->body;
}

Json Emulator::state() { return Json(request("GET", "/__emulator/state", "")); }
std::vector<const cJSON*> emulator_log(const Json& state, const std::string& action) {
  std::vector<const cJSON*> out;
  const cJSON* log = state.at({"log"});
  for (const cJSON* e = log ? log->child : nullptr; e; e = e->next) {
    const cJSON* a = cJSON_GetObjectItemCaseSensitive(e, "action");
    if (cJSON_IsString(a) && action == a->valuestring) out.push_back(e);
  }
  return out;
}

double Emulator::calls(const std::string& action) {
  const double n = state().num({"actions", action.c_str()});
  return n < 0 ? 0 : n;
}
void Emulator::set_faults(const std::string& faults_json) { request("POST", "/__emulator/faults", faults_json); }
void Emulator::set_quotas(const std::string& quotas_json) { request("POST", "/__emulator/quotas", quotas_json); }

Agent::Agent(const TempDir& dir, AgentOptions o, bool wait_ready) {
  const std::string tag = std::to_string(free_port());
  const std::string creds = dir.file("credentials-" + tag + ".json");
  write_file(creds, std::string(R"({"access_key_id":")") + Emulator::kAccessKeyId + R"(","access_key_secret":")" +
                        Emulator::kAccessKeySecret + "\"}", 0600);
  const std::string state = o.state_dir.empty() ? dir.file("state-" + tag) : o.state_dir;
  config_path_ = dir.file("agent-" + tag + ".json");
  write_file(config_path_,
             R"({"gateway_id":")" + gateway_id() + R"(","mqtt":{"uri":")" + o.mqtt_uri +
                 R"(","version":)" + std::to_string(o.mqtt_version) + R"(,"keepalive_s":10)" + o.mqtt_extra +
                 R"(},"cloud":{"endpoint":")" +
                 o.endpoint + R"(","ca_file":")" + (o.ca_file.empty() ? cert_dir() + "/ca.pem" : o.ca_file) +
                 R"(","timeout_ms":)" + std::to_string(o.cloud_timeout_ms) + R"(,"retry":)" + o.retry_json + o.cloud_extra + R"(},"credentials_file":")" + (o.credentials_in_env ? dir.file("none.json") : creds) +
                 R"(","state_dir":")" + state + "\"" + o.extra_config + "}",
             0644);
  env_ = o.env;
  if (o.credentials_in_env && !env_.count("ALIBABA_CLOUD_ACCESS_KEY_ID")) {
    env_["ALIBABA_CLOUD_ACCESS_KEY_ID"] = Emulator::kAccessKeyId;
    env_["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = Emulator::kAccessKeySecret;
  }
  log_level_ = o.log_level;
  restart(wait_ready);
}

void Agent::restart(bool wait_ready) {
  const std::string log_path = config_path_ + ".log";
  const std::size_t before = read_file(log_path).size();
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{SWAS_AGENT_BIN, "--config", config_path_, "--log-level", log_level_}, log_path, env_);
  if (!wait_ready) return;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (read_file(log_path).find("subscribed to", before) == std::string::npos) {
    if (!proc_->running() || std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("agent did not subscribe: " + proc_->log());
    std::this_thread::sleep_for(10ms);
  }
}

MqttProbe::MqttProbe(const std::string& uri, int version, bool reconnect, bool persistent_session) {
  mqtt::create_options create(version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
  client_ = std::make_unique<mqtt::async_client>(uri, "probe-" + std::to_string(free_port()), create);
  client_->set_message_callback([this](mqtt::const_message_ptr m) {
    if (!m) return;
    Received r{m->get_topic(), m->get_payload_str(), ""};
    if (m->get_properties().contains(mqtt::property::CORRELATION_DATA))
      r.correlation = mqtt::get<std::string>(m->get_properties(), mqtt::property::CORRELATION_DATA);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(std::move(r));
    }
    cv_.notify_all();
  });
  // Filled in place and kept: in Paho C++ 1.2 a copy of connect_options points into the original's
  // properties (platform/paho_message_bus.cpp), so a copy out of a builder loses the session expiry.
  connect_options_ = std::make_unique<mqtt::connect_options>();
  mqtt::connect_options& opts = *connect_options_;
  opts.set_mqtt_version(version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
  if (reconnect) {
    opts.set_automatic_reconnect(std::chrono::milliseconds(200), std::chrono::seconds(2));
    client_->set_connected_handler([this](const std::string&) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& t : topics_) client_->subscribe(t, 1);
    });
  }
  if (version == 5 && persistent_session) {
    opts.set_clean_start(false);
    opts.set_properties(mqtt::properties{{mqtt::property::SESSION_EXPIRY_INTERVAL, 3600}});
  } else if (version == 5) {
    opts.set_clean_start(true);
  } else {
    opts.set_clean_session(true);
  }
  client_->connect(opts)->wait_for(10s);
}

MqttProbe::~MqttProbe() {
  try {
    if (client_->is_connected()) client_->disconnect()->wait_for(2s);
  } catch (...) {
  }
}

void MqttProbe::subscribe(const std::string& topic) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    topics_.push_back(topic);
  }
  client_->subscribe(topic, 1)->wait_for(5s);
}

void MqttProbe::publish(const std::string& topic, const std::string& payload, const std::string& response_topic,
                        const std::string& correlation) {
  auto msg = mqtt::make_message(topic, payload, 1, false);
  mqtt::properties props;
  if (!response_topic.empty()) props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, response_topic));
  if (!correlation.empty()) props.add(mqtt::property(mqtt::property::CORRELATION_DATA, correlation));
  msg->set_properties(props);
  // While the broker is away (a chaos test restarts it), keep trying for a while.
  for (int attempt = 0; attempt < 100; ++attempt) {
    try {
      if (client_->publish(msg)->wait_for(5s)) return;
    } catch (const mqtt::exception&) {
    }
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("probe could not publish to " + topic);
}

static bool is_result_for(const std::string& payload, const std::string& id) {
  Json j(payload);
  if (!j.valid() || j.str({"type"}) != "result") return false;
  return id.empty() ? j.is_null({"id"}) : j.str({"id"}) == id;
}

std::optional<MqttProbe::Received> MqttProbe::wait_result(const std::string& id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<Received> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& r : received_)
      if (is_result_for(r.payload, id)) {
        found = r;
        return true;
      }
    return false;
  });
  return found;
}

std::optional<MqttProbe::Received> MqttProbe::wait_result_on(const std::string& topic, const std::string& id,
                                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<Received> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& r : received_)
      if (r.topic == topic && is_result_for(r.payload, id)) {
        found = r;
        return true;
      }
    return false;
  });
  return found;
}

std::vector<MqttProbe::Received> MqttProbe::results_for(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const auto& r : received_)
    if (is_result_for(r.payload, id)) out.push_back(r);
  return out;
}

static bool is_lifecycle_for(const std::string& payload, const std::string& id) {
  Json j(payload);
  return j.valid() && j.str({"type"}) == "lifecycle" && j.str({"id"}) == id;
}

std::vector<MqttProbe::Received> MqttProbe::lifecycle_for(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const auto& r : received_)
    if (is_lifecycle_for(r.payload, id)) out.push_back(r);
  return out;
}

std::optional<MqttProbe::Received> MqttProbe::wait_lifecycle(const std::string& id, bool final_only,
                                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<Received> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& r : received_)
      if (is_lifecycle_for(r.payload, id) && (!final_only || Json(r.payload).is_true({"final"}))) {
        found = r;
        return true;
      }
    return false;
  });
  return found;
}

std::vector<MqttProbe::Received> MqttProbe::messages_for(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const auto& r : received_)
    if (Json j(r.payload); j.valid() && j.str({"id"}) == id &&
                           (j.str({"type"}) == "result" || j.str({"type"}) == "lifecycle"))
      out.push_back(r);
  return out;
}

std::vector<MqttProbe::Received> MqttProbe::of_type(const std::string& id, const std::string& type) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const auto& r : received_)
    if (Json j(r.payload); j.valid() && j.str({"id"}) == id && j.str({"type"}) == type) out.push_back(r);
  return out;
}

std::size_t MqttProbe::wait_count(const std::string& type, bool final_only, std::size_t count,
                                  std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::size_t n = 0;
  cv_.wait_for(lock, timeout, [&] {
    n = 0;
    for (const auto& r : received_) {
      Json j(r.payload);
      n += j.valid() && j.str({"type"}) == type && (!final_only || j.is_true({"final"})) ? 1 : 0;
    }
    return n >= count;
  });
  return n;
}

std::vector<MqttProbe::Received> MqttProbe::on_topic(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const auto& r : received_)
    if (r.topic == topic) out.push_back(r);
  return out;
}

bool MqttProbe::wait_on_topic(const std::string& topic, std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] {
    std::size_t n = 0;
    for (const auto& r : received_) n += r.topic == topic ? 1 : 0;
    return n >= count;
  });
}

std::size_t MqttProbe::result_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (const auto& r : received_) n += Json(r.payload).str({"type"}) == "result" ? 1 : 0;
  return n;
}

bool MqttProbe::await_marker(const std::string& marker_id, const std::string& command_topic,
                             const std::string& response_topic, std::chrono::milliseconds timeout) {
  publish(command_topic, marker_command(marker_id), response_topic, response_topic.empty() ? "" : marker_id);
  return response_topic.empty() ? wait_result(marker_id, timeout).has_value()
                                : wait_result_on(response_topic, marker_id, timeout).has_value();
}

std::string marker_command(const std::string& id) {
  return R"({"id":")" + id +
         R"(","action":"StopInstance","InstanceId":"i-marker","RegionId":"cn-hangzhou","expiresAt":"2000-01-01T00:00:00Z"})";
}

std::string stop_command(const std::string& id, const std::string& instance, const std::string& region,
                         const std::string& extra) {
  return R"({"id":")" + id + R"(","action":"StopInstance","InstanceId":")" + instance + R"(","RegionId":")" +
         region + "\"" + extra + "}";
}

}  // namespace swas::it
