// Accepts "--opt value" and "--opt=value" forms.
#include "cli.hpp"

namespace swas {

Expected<CliOptions, std::string> parse_cli(const std::vector<std::string>& args) {
  CliOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_inline = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto take_value = [&](const char* name) -> Expected<std::string, std::string> {
      if (has_inline) return value;
      if (i + 1 >= args.size()) return unexpected(std::string(name) + " needs a value");
      return args[++i];
    };
    if (arg == "--config") {
      auto v = take_value("--config");
      if (!v) return unexpected(v.error());
      o.config_path = *v;
    } else if (arg == "--log-level") {
      auto v = take_value("--log-level");
      if (!v) return unexpected(v.error());
      if (*v != "debug" && *v != "info" && *v != "warn" && *v != "error")
        return unexpected("--log-level must be debug, info, warn or error, not \"" + *v + "\"");
      o.log_level = *v;
    } else if (arg == "--gateway-id") {
      auto v = take_value("--gateway-id");
      if (!v) return unexpected(v.error());
      o.gateway_id = *v;
    } else if (arg == "--check-config" && !has_inline) {
      o.check_config = true;
    } else if (arg == "--version" && !has_inline) {
      o.version = true;
    } else if ((arg == "--help" || arg == "-h") && !has_inline) {
      o.help = true;
    } else {
      return unexpected("unknown argument \"" + args[i] + "\"");
    }
  }
  return o;
}

std::string usage_text() {
  return "Usage: swas-agent [--config PATH] [--log-level debug|info|warn|error]\n"
         "                  [--gateway-id ID] [--check-config] [--version] [--help]\n"
         "\n"
         "Receives StopInstance commands over MQTT, calls Alibaba Cloud Simple Application Server\n"
         "(swas-open 2020-06-01) over HTTPS with a signature V3 request, and publishes the result.\n"
         "\n"
         "  --config PATH      configuration file (default /etc/swas-agent/config.json)\n"
         "  --log-level LEVEL  debug, info (default), warn or error; logs go to standard error\n"
         "  --gateway-id ID    this gateway's id; overrides SWAS_GATEWAY_ID, which overrides the\n"
         "                     config file's gateway_id (one image for many gateways)\n"
         "  --check-config     load and validate the configuration, credentials, CA files and\n"
         "                     state directory, print what is wrong or \"config OK\", and exit\n"
         "  --version          print the version and exit\n"
         "  --help             print this help and exit\n"
         "\n"
         "Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and optional\n"
         "ALIBABA_CLOUD_SECURITY_TOKEN take precedence over the config's credentials_file.\n"
         "\n"
         "Exit status: 0 clean stop (SIGTERM/SIGINT) or successful check; 2 usage or configuration\n"
         "error; 1 fatal runtime error. Documentation: README.md and docs/ in the source tree.\n";
}

}  // namespace swas
