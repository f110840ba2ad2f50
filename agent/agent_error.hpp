// The agent's own error codes (contract §4) as values, with their wire names.
#pragma once
#include <string_view>

namespace swas {

enum class AgentError {
  InvalidCommand,
  MissingParameter,
  InvalidParameter,
  UnsupportedAction,
  CredentialsMissing,
  CloudUnreachable,
  Busy,
  InvalidCloudResponse,  // extension: the cloud answered, but not in a form we can read
  CommandExpired,        // extension: expiresAt or MQTT 5 Message Expiry passed before it ran
  Forbidden,             // extension: outside policy.allowed_regions / allowed_instances
  Throttled,             // extension: over policy.rate_limit
  Unauthenticated,       // extension: policy.command_key_file set and the signature is missing/wrong/stale
  RateLimited,           // extension: waited past its expiry for the cloud's rate quota; never sent
};

constexpr std::string_view to_string(AgentError e) {
  switch (e) {
    case AgentError::InvalidCommand: return "InvalidCommand";
    case AgentError::MissingParameter: return "MissingParameter";
    case AgentError::InvalidParameter: return "InvalidParameter";
    case AgentError::UnsupportedAction: return "UnsupportedAction";
    case AgentError::CredentialsMissing: return "CredentialsMissing";
    case AgentError::CloudUnreachable: return "CloudUnreachable";
    case AgentError::Busy: return "Busy";
    case AgentError::InvalidCloudResponse: return "InvalidCloudResponse";
    case AgentError::CommandExpired: return "CommandExpired";
    case AgentError::Forbidden: return "Forbidden";
    case AgentError::Throttled: return "Throttled";
    case AgentError::Unauthenticated: return "Unauthenticated";
    case AgentError::RateLimited: return "RateLimited";
  }
  return "InternalError";
}

}  // namespace swas
