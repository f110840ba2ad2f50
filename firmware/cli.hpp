// The command line of swas-agent (contract §1).
#pragma once
#include <string>
#include <vector>

#include "expected.hpp"

namespace swas {

struct CliOptions {
  std::string config_path = "/etc/swas-agent/config.json";
  std::string log_level = "info";
  std::string gateway_id;  // --gateway-id; empty: SWAS_GATEWAY_ID or the config file
  bool check_config = false;
  bool version = false;
  bool help = false;
};

// Parses argv (without argv[0]). The error says which argument is wrong.
Expected<CliOptions, std::string> parse_cli(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace swas
