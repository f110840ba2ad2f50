// Status encoding with cJSON, in the field order docs/fleet.md shows.
#include "status_message.hpp"

#include <cjson/cJSON.h>

#include <memory>

namespace swas {

std::string encode_status(const StatusSnapshot& s) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> o(cJSON_CreateObject(), &cJSON_Delete);
  cJSON_AddStringToObject(o.get(), "type", "status");
  cJSON_AddStringToObject(o.get(), "state", s.online ? "online" : "offline");
  cJSON_AddStringToObject(o.get(), "gateway_id", s.gateway_id.c_str());
  cJSON_AddStringToObject(o.get(), "version", s.version.c_str());
  if (s.online) {
    cJSON_AddStringToObject(o.get(), "started_at", s.started_at.c_str());
    cJSON* c = cJSON_AddObjectToObject(o.get(), "counters");
    cJSON_AddNumberToObject(c, "received", static_cast<double>(s.received));
    cJSON_AddNumberToObject(c, "succeeded", static_cast<double>(s.succeeded));
    cJSON_AddNumberToObject(c, "failed", static_cast<double>(s.failed));
    cJSON_AddNumberToObject(c, "rejected", static_cast<double>(s.rejected));
    cJSON_AddNumberToObject(c, "in_flight", static_cast<double>(s.in_flight));
    if (s.last_error.empty()) cJSON_AddNullToObject(o.get(), "last_error");
    else cJSON_AddStringToObject(o.get(), "last_error", s.last_error.c_str());
  }
  char* text = cJSON_PrintUnformatted(o.get());
  std::string out = text ? text : "";
  cJSON_free(text);
  return out;
}

}  // namespace swas
