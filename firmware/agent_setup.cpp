// Every check an operator would want before the first command arrives, with one clear message.
#include "agent_setup.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "files.hpp"
#include "limits.hpp"

namespace swas {
namespace {

using limits::kMaxConfigFileBytes;
using limits::kMaxSecretFileBytes;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

Expected<bool, std::string> load_credentials(AgentSetup& s) {
  std::string id = env("ALIBABA_CLOUD_ACCESS_KEY_ID");
  std::string secret = env("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty())
      return unexpected(std::string("ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
                                    "must be set together"));
    s.credentials = Credentials(std::move(id), std::move(secret), env("ALIBABA_CLOUD_SECURITY_TOKEN"));
    wipe(secret);
    s.credentials_source = "environment";
    return true;
  }
  const std::string& path = s.config.credentials_file;
  if (!file_exists(path)) {
    s.warnings.push_back("no credentials: neither ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET are set nor " +
                         path + " exists; every command will be answered CredentialsMissing");
    return true;
  }
  if (auto bad = check_private_file(path)) return unexpected("credentials_file " + *bad);
  auto text = read_text_file(path, kMaxSecretFileBytes);
  if (!text) return unexpected("credentials_file " + text.error());
  auto creds = parse_credentials_json(*text);
  wipe(*text);
  if (!creds) return unexpected("credentials_file " + path + ": " + creds.error());
  s.credentials = std::move(*creds);
  s.credentials_source = path;
  return true;
}

Expected<bool, std::string> load_mqtt_files(AgentSetup& s) {
  const MqttConfig& m = s.config.mqtt;
  if (!m.password_file.empty()) {
    if (auto bad = check_private_file(m.password_file)) return unexpected("mqtt.password_file " + *bad);
    auto text = read_text_file(m.password_file, kMaxSecretFileBytes);
    if (!text) return unexpected("mqtt.password_file " + text.error());
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    s.mqtt_password = std::move(*text);
  }
  if (m.tls_files) {
    for (const auto* f : {&m.tls_files->ca_file, &m.tls_files->cert_file, &m.tls_files->key_file})
      if (!f->empty() && !file_exists(*f)) return unexpected("mqtt.tls: " + *f + ": " + std::strerror(errno));
    if (!m.tls_files->key_file.empty())
      if (auto bad = check_private_file(m.tls_files->key_file)) return unexpected("mqtt.tls.key_file " + *bad);
  }
  return true;
}

Expected<bool, std::string> load_command_key(AgentSetup& s) {
  const std::string& path = s.config.policy.command_key_file;
  if (path.empty()) return true;
  if (auto bad = check_private_file(path)) return unexpected("policy.command_key_file " + *bad);
  auto text = read_text_file(path, kMaxSecretFileBytes);
  if (!text) return unexpected("policy.command_key_file " + text.error());
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  if (text->size() < 16) {
    wipe(*text);
    return unexpected("policy.command_key_file " + path + ": the key must be at least 16 bytes "
                      "(for example: head -c 32 /dev/urandom | base64 > " + path + ")");
  }
  s.command_key = std::move(*text);
  return true;
}

Expected<bool, std::string> prepare_state_dir(const std::string& dir) {
  if (!file_exists(dir) && ::mkdir(dir.c_str(), 0700) != 0)
    return unexpected("state_dir " + dir + ": cannot create it: " + std::strerror(errno));
  if (auto bad = check_writable_dir(dir)) return unexpected("state_dir " + *bad);
  return true;
}

}  // namespace

Expected<AgentSetup, std::string> load_agent_setup(const std::string& config_path, const std::string& gateway_id) {
  auto text = read_text_file(config_path, kMaxConfigFileBytes);
  if (!text) return unexpected("cannot read the config file " + text.error());
  std::optional<std::string> override_id;
  if (!gateway_id.empty()) override_id = gateway_id;
  else if (!env("SWAS_GATEWAY_ID").empty()) override_id = env("SWAS_GATEWAY_ID");
  auto config = parse_config(*text, override_id);
  if (!config) return unexpected(config_path + ": " + config.error().to_string());
  AgentSetup s;
  s.config = std::move(*config);
  if (!file_exists(s.config.cloud.ca_file))
    return unexpected("cloud.ca_file " + s.config.cloud.ca_file + ": " + std::strerror(errno));
  if (auto r = load_credentials(s); !r) return unexpected(r.error());
  if (auto r = load_mqtt_files(s); !r) return unexpected(r.error());
  if (auto r = load_command_key(s); !r) return unexpected(r.error());
  if (auto r = prepare_state_dir(s.config.state_dir); !r) return unexpected(r.error());
  return s;
}

}  // namespace swas
