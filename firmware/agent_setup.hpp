// Loading everything the agent needs before it starts: config, credentials, secrets, directories.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "credentials.hpp"
#include "expected.hpp"

namespace swas {

struct AgentSetup {
  Config config;
  std::optional<Credentials> credentials;  // none: every command is answered CredentialsMissing
  std::string credentials_source;          // "environment" or the credentials file's path
  std::string mqtt_password;
  std::string command_key;                 // policy.command_key_file's contents; empty: not required
  std::vector<std::string> warnings;       // worth a log line, not worth refusing to start
};

// Reads and validates the config file, credentials (environment first, then credentials_file),
// the MQTT password file and the TLS files it names, and prepares state_dir (created 0700 when
// missing). The error names the file or key and says what to do.
// `gateway_id` (from --gateway-id; else SWAS_GATEWAY_ID is used) overrides the file's.
Expected<AgentSetup, std::string> load_agent_setup(const std::string& config_path, const std::string& gateway_id = "");

}  // namespace swas
