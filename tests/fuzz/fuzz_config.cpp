// Fuzzes the configuration loader (contract §2) and the endpoint parser: a Config that loads
// satisfies every documented rule; an error always names what is wrong.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

bool has_prefix(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void check_endpoint(const swas::Endpoint& ep, const std::string& what) {
  SWAS_FUZZ_CHECK(!ep.host.empty(), what + ": empty host");
  SWAS_FUZZ_CHECK(ep.host.find_first_of("/?#@ ") == std::string::npos, what + ": host " + ep.host);
  SWAS_FUZZ_CHECK(ep.port != 0, what + ": port 0");
  SWAS_FUZZ_CHECK(!ep.host_header.empty(), what + ": empty Host header");
}

void check_config(const swas::Config& cfg) {
  SWAS_FUZZ_CHECK(swas::is_valid_gateway_id(cfg.gateway_id), "gateway_id: " + cfg.gateway_id);
  const auto& m = cfg.mqtt;
  SWAS_FUZZ_CHECK(m.tls ? has_prefix(m.uri, "ssl://") : has_prefix(m.uri, "tcp://"), "mqtt.uri: " + m.uri);
  SWAS_FUZZ_CHECK(m.uri.size() > 6, "mqtt.uri without a host: " + m.uri);
  SWAS_FUZZ_CHECK(!m.client_id.empty() && m.client_id.size() <= 256, "mqtt.client_id: " + m.client_id);
  SWAS_FUZZ_CHECK(!m.command_topic.empty() && m.command_topic.find_first_of("+#") == std::string::npos,
                  "mqtt.command_topic: " + m.command_topic);
  SWAS_FUZZ_CHECK(m.version == 3 || m.version == 5, "mqtt.version");
  SWAS_FUZZ_CHECK(m.qos >= 0 && m.qos <= 2, "mqtt.qos");
  SWAS_FUZZ_CHECK(m.keepalive_s >= 0 && m.keepalive_s <= 65535, "mqtt.keepalive_s");
  if (m.tls_files) {
    SWAS_FUZZ_CHECK(m.tls, "mqtt.tls without ssl://");
    SWAS_FUZZ_CHECK(m.tls_files->cert_file.empty() == m.tls_files->key_file.empty(), "cert without key");
  }
  SWAS_FUZZ_CHECK(cfg.cloud.timeout_ms >= 100 && cfg.cloud.timeout_ms <= 600000, "cloud.timeout_ms");
  SWAS_FUZZ_CHECK(!cfg.cloud.ca_file.empty(), "cloud.ca_file");
  if (cfg.cloud.endpoint) check_endpoint(*cfg.cloud.endpoint, "cloud.endpoint");
  SWAS_FUZZ_CHECK(!cfg.state_dir.empty(), "state_dir");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = swas::parse_config(text);
  if (cfg) check_config(*cfg);
  else SWAS_FUZZ_CHECK(!cfg.error().to_string().empty(), "a config error without a message");

  auto ep = swas::parse_endpoint(text);
  if (ep) check_endpoint(*ep, "parse_endpoint");
  else SWAS_FUZZ_CHECK(!ep.error().empty(), "an endpoint error without a message");
  return 0;
}
