// Gateways' retained status messages: reading them and listing them. Pure functions.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swasctl {

struct GatewayStatus {
  std::string gateway;
  std::string state;  // "online", "offline" or whatever the agent sent
  std::string version;
  std::string started_at;
  std::map<std::string, long long> counters;  // received, succeeded, failed, rejected, in_flight
  std::string last_error;                     // empty when null or absent
  std::string raw;                            // the payload as received
};

// A status message (type "status") received on `topic`; nullopt for anything else (an empty
// retained payload, another type, not JSON). The gateway is the payload's gateway_id, else the
// topic level before "status".
std::optional<GatewayStatus> parse_status(std::string_view topic, std::string_view payload);

// `text` with control characters made spaces (a hostile payload must not redraw the operator's
// terminal), cut to `max` (at least 4) characters with "..." at the end.
std::string printable(std::string text, std::size_t max);

// One header line and one line per gateway, in the order given, columns aligned.
std::string format_status_table(const std::vector<GatewayStatus>& gateways);

// A JSON array of the raw status messages, one line.
std::string format_status_json(const std::vector<GatewayStatus>& gateways);

}  // namespace swasctl
