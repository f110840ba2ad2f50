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
  }
  return "InternalError";
}

}  // namespace swas
