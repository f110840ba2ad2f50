// Parsing of swasctl's command line: a table of options per subcommand, then the checks.
#include "cli.hpp"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "command.hpp"  // is_printable_ascii
#include "config.hpp"   // is_valid_gateway_id

namespace swasctl {
namespace {

// One option: a string it fills, a flag it sets, or a list it appends to (an option that may be
// given more than once).
struct Slot {
  std::string* text = nullptr;
  bool* flag = nullptr;
  std::vector<std::string>* list = nullptr;
};
using OptionTable = std::map<std::string, Slot, std::less<>>;

void add_broker_options(OptionTable& t, BrokerOptions& b) {
  t["--broker"] = {&b.uri, nullptr};
  t["--cafile"] = {&b.ca_file, nullptr};
  t["--cert"] = {&b.cert_file, nullptr};
  t["--key"] = {&b.key_file, nullptr};
  t["--username"] = {&b.username, nullptr};
  t["--password-file"] = {&b.password_file, nullptr};
}

// Fills the table's slots from args[first..]; an error message, or nullopt. Sets `help`.
std::optional<std::string> fill_options(const std::vector<std::string>& args, std::size_t first,
                                        const OptionTable& table, bool& help) {
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      continue;
    }
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const auto it = table.find(name);
    if (arg.rfind("--", 0) != 0 || it == table.end()) return "unknown argument '" + arg + "'";
    const Slot& slot = it->second;
    if (slot.flag) {
      if (eq != std::string::npos) return name + " takes no value";
      *slot.flag = true;
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return name + " needs a value";
    }
    if (slot.list)
      slot.list->push_back(std::move(value));
    else
      *slot.text = std::move(value);
  }
  return std::nullopt;
}

bool has_scheme(const std::string& uri, std::initializer_list<const char*> schemes) {
  for (const char* s : schemes) {
    const std::string prefix = std::string(s) + "://";
    if (uri.size() > prefix.size() && uri.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

std::optional<std::string> check_broker(const BrokerOptions& b) {
  if (b.uri.empty()) return "--broker is required (for example tcp://127.0.0.1:1883)";
  if (!has_scheme(b.uri, {"tcp", "mqtt", "ssl", "mqtts", "ws", "wss"}))
    return "--broker '" + b.uri + "': use tcp://, mqtt://, ssl://, mqtts://, ws:// or wss:// and a host";
  const bool files = !b.ca_file.empty() || !b.cert_file.empty() || !b.key_file.empty();
  if (files && !b.tls()) return "--cafile, --cert and --key need a TLS broker URI (ssl://, mqtts:// or wss://)";
  if (b.cert_file.empty() != b.key_file.empty()) return "--cert and --key go together";
  if (!b.password_file.empty() && b.username.empty()) return "--password-file needs --username";
  return std::nullopt;
}

std::optional<std::string> check_gateway(const std::string& gateway, bool required) {
  if (gateway.empty() && !required) return std::nullopt;
  if (!swas::is_valid_gateway_id(gateway))
    return "--gateway " + std::string(gateway.empty() ? "is required" : "'" + gateway + "' is not valid") +
           ": 1-64 characters of A-Z a-z 0-9 _ . -";
  return std::nullopt;
}

std::optional<std::string> check_topic(const std::string& topic, const char* option, bool filter) {
  if (topic.empty() || topic.size() > 1024) return std::string(option) + " must be 1-1024 characters";
  if (!filter && topic.find_first_of("+#") != std::string::npos)
    return std::string(option) + " must be a topic name, without + or #";
  return std::nullopt;
}

// 1 to kMaxInstances, none empty, none twice. Their form is the agent's to judge (it answers
// InvalidParameter naming the id), as it always was for one --instance.
std::optional<std::string> check_instances(const StopOptions& o) {
  if (o.instances.empty()) return std::string("--instance is required");
  if (o.instances.size() > kMaxInstances)
    return std::to_string(o.instances.size()) + " instances: one command stops at most " +
           std::to_string(kMaxInstances) + " (give at most " + std::to_string(kMaxInstances) +
           " --instance options; split the list over several commands)";
  std::set<std::string_view> seen;
  for (const std::string& id : o.instances) {
    if (id.empty()) return std::string("--instance must not be empty");
    if (!seen.insert(id).second) return "--instance '" + id + "' is given twice";
  }
  if (o.uses_instance_ids() && !o.command_key_file.empty())
    return std::string("--command-key-file signs commands for one --instance only: the signed form "
                       "(docs/security.md) has no InstanceIds or ForceStop");
  return std::nullopt;
}

std::optional<std::string> check_stop(StopOptions& o, const std::string& timeout, const std::string& expires,
                                      const std::string& wait_timeout) {
  if (auto e = check_broker(o.broker)) return e;
  if (auto e = check_gateway(o.gateway, true)) return e;
  if (auto e = check_instances(o)) return e;
  if (o.region.empty()) return std::string("--region is required (for example cn-hangzhou)");
  if (!o.id.empty() && !swas::is_printable_ascii(o.id, 128)) return std::string("--id must be 1-128 printable ASCII characters");
  if (!timeout.empty()) {
    const auto d = parse_duration(timeout);
    if (!d) return "--timeout '" + timeout + "': use for example 30s, 500ms or 2m (at most 1h)";
    o.timeout = *d;
  }
  o.expires = o.timeout;
  if (!expires.empty()) {
    const auto d = parse_duration(expires);
    if (!d || *d < std::chrono::seconds(1)) return "--expires '" + expires + "': use for example 10m or 90s (1s to 1h)";
    o.expires = *d;
  }
  if (!wait_timeout.empty()) {
    if (!o.wait) return std::string("--wait-timeout needs --wait");
    const auto d = parse_duration(wait_timeout);
    if (!d) return "--wait-timeout '" + wait_timeout + "': use for example 11m, 90s or 500ms (at most 1h)";
    o.wait_timeout = *d;
  }
  if (o.command_topic.empty()) o.command_topic = "swas/" + o.gateway + "/commands";
  return check_topic(o.command_topic, "--command-topic", false);
}

std::optional<std::string> check_status(StatusOptions& o, const std::string& wait) {
  if (auto e = check_broker(o.broker)) return e;
  if (auto e = check_gateway(o.gateway, false)) return e;
  if (!wait.empty()) {
    const auto d = parse_duration(wait);
    if (!d) return "--wait '" + wait + "': use for example 2s or 500ms (at most 1h)";
    o.wait = *d;
  }
  if (o.status_topic.empty()) o.status_topic = "swas/" + (o.gateway.empty() ? "+" : o.gateway) + "/status";
  return check_topic(o.status_topic, "--status-topic", true);
}

Invocation parse_stop(const std::vector<std::string>& args) {
  StopOptions o;
  std::string timeout;
  std::string expires;
  std::string wait_timeout;
  OptionTable t;
  add_broker_options(t, o.broker);
  t["--gateway"] = {&o.gateway, nullptr};
  t["--instance"] = {nullptr, nullptr, &o.instances};
  t["--region"] = {&o.region, nullptr};
  t["--client-token"] = {&o.client_token, nullptr};
  t["--id"] = {&o.id, nullptr};
  t["--command-topic"] = {&o.command_topic, nullptr};
  t["--command-key-file"] = {&o.command_key_file, nullptr};
  t["--timeout"] = {&timeout, nullptr};
  t["--expires"] = {&expires, nullptr};
  t["--json"] = {nullptr, &o.json};
  t["--force"] = {nullptr, &o.force};
  t["--wait"] = {nullptr, &o.wait};
  t["--wait-timeout"] = {&wait_timeout, nullptr};
  bool help = false;
  auto error = fill_options(args, 1, t, help);
  if (help) return HelpRequest{stop_usage()};
  if (!error) error = check_stop(o, timeout, expires, wait_timeout);
  if (error) return UsageError{"swasctl stop: " + *error, stop_usage()};
  return o;
}

Invocation parse_status(const std::vector<std::string>& args) {
  StatusOptions o;
  std::string wait;
  OptionTable t;
  add_broker_options(t, o.broker);
  t["--gateway"] = {&o.gateway, nullptr};
  t["--status-topic"] = {&o.status_topic, nullptr};
  t["--wait"] = {&wait, nullptr};
  t["--json"] = {nullptr, &o.json};
  bool help = false;
  auto error = fill_options(args, 1, t, help);
  if (help) return HelpRequest{status_usage()};
  if (!error) error = check_status(o, wait);
  if (error) return UsageError{"swasctl status: " + *error, status_usage()};
  return o;
}

}  // namespace

bool BrokerOptions::tls() const { return has_scheme(uri, {"ssl", "mqtts", "wss"}); }

Invocation parse_command_line(const std::vector<std::string>& args, std::string_view version) {
  if (args.empty()) return UsageError{"swasctl: a command is required", main_usage()};
  const std::string& cmd = args[0];
  if (cmd == "stop") return parse_stop(args);
  if (cmd == "status") return parse_status(args);
  if (cmd == "--help" || cmd == "-h") return HelpRequest{main_usage()};
  if (cmd == "help") {
    if (args.size() > 1 && args[1] == "stop") return HelpRequest{stop_usage()};
    if (args.size() > 1 && args[1] == "status") return HelpRequest{status_usage()};
    return HelpRequest{main_usage()};
  }
  if (cmd == "--version") return HelpRequest{"swasctl " + std::string(version) + "\n"};
  return UsageError{"swasctl: unknown command '" + cmd + "'", main_usage()};
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double scale = 1000.0;
  std::string_view number = text;
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    scale = 1.0;
    number = text.substr(0, text.size() - 2);
  } else if (!text.empty() && (text.back() == 's' || text.back() == 'm')) {
    scale = text.back() == 'm' ? 60000.0 : 1000.0;
    number = text.substr(0, text.size() - 1);
  }
  if (number.empty() || number.find_first_not_of("0123456789.") != std::string_view::npos) return std::nullopt;
  const std::string digits(number);
  char* end = nullptr;
  const double value = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(value)) return std::nullopt;
  const double ms = std::round(value * scale);
  if (ms < 1.0 || ms > static_cast<double>(kMaxDuration.count())) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string frac = std::to_string(ms % 1000);
  frac = std::string(3 - frac.size(), '0') + frac;
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(ms / 1000) + "." + frac + "s";
}

}  // namespace swasctl
