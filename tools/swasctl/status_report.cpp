// Reading status messages with cJSON and laying them out as a table.
#include "status_report.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <array>
#include <memory>

namespace swasctl {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

const std::array<const char*, 5> kCounters = {"received", "succeeded", "failed", "rejected", "in_flight"};

std::string string_at(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) && item->valuestring ? item->valuestring : "";
}

std::string gateway_from_topic(std::string_view topic) {
  // .../<gateway>/status
  const std::size_t last = topic.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::string(topic);
  const std::size_t before = topic.rfind('/', last - 1);
  const std::size_t start = before == std::string_view::npos ? 0 : before + 1;
  return std::string(topic.substr(start, last - start));
}

std::string counter_text(const GatewayStatus& g, const char* name) {
  const auto it = g.counters.find(name);
  return it == g.counters.end() ? "-" : std::to_string(it->second);
}

std::vector<std::string> row_for(const GatewayStatus& g) {
  std::vector<std::string> row = {printable(g.gateway, 64), printable(g.state.empty() ? "?" : g.state, 16),
                                  printable(g.version.empty() ? "-" : g.version, 32)};
  for (const char* c : kCounters) row.push_back(counter_text(g, c));
  row.push_back(g.last_error.empty() ? "-" : printable(g.last_error, 200));
  return row;
}

}  // namespace

std::string printable(std::string text, std::size_t max) {
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

std::optional<GatewayStatus> parse_status(std::string_view topic, std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  const JsonPtr root(cJSON_ParseWithLength(payload.data(), payload.size()), &cJSON_Delete);
  if (!cJSON_IsObject(root.get()) || string_at(root.get(), "type") != "status") return std::nullopt;
  GatewayStatus s;
  s.gateway = string_at(root.get(), "gateway_id");
  if (s.gateway.empty()) s.gateway = gateway_from_topic(topic);
  s.state = string_at(root.get(), "state");
  s.version = string_at(root.get(), "version");
  s.started_at = string_at(root.get(), "started_at");
  s.last_error = string_at(root.get(), "last_error");
  const cJSON* counters = cJSON_GetObjectItemCaseSensitive(root.get(), "counters");
  for (const char* name : kCounters) {
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(counters, name);
    if (cJSON_IsNumber(n)) s.counters[name] = static_cast<long long>(n->valuedouble);
  }
  s.raw = std::string(payload);
  return s;
}

std::string format_status_table(const std::vector<GatewayStatus>& gateways) {
  std::vector<std::vector<std::string>> rows = {
      {"GATEWAY", "STATE", "VERSION", "RECEIVED", "SUCCEEDED", "FAILED", "REJECTED", "IN_FLIGHT", "LAST ERROR"}};
  for (const auto& g : gateways) rows.push_back(row_for(g));
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string format_status_json(const std::vector<GatewayStatus>& gateways) {
  std::string out = "[";
  for (std::size_t i = 0; i < gateways.size(); ++i) out += (i ? "," : "") + gateways[i].raw;
  return out + "]\n";
}

}  // namespace swasctl
