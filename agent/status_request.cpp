// ListInstanceStatus request and answer.
#include "status_request.hpp"

#include <cjson/cJSON.h>

#include <memory>

#include "json_text.hpp"
#include "limits.hpp"
#include "stop_request.hpp"

namespace swas {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;


bool printable_ascii(std::string_view s) {
  for (const char ch : s)
    if (ch < 0x20 || ch > 0x7E) return false;
  return true;
}

}  // namespace

HttpRequest build_list_status_request(std::string_view region_id, const std::vector<std::string>& instance_ids,
                                      const Endpoint& endpoint, const Credentials& credentials,
                                      std::string_view x_acs_date, std::string_view nonce) {
  return build_rpc_request("ListInstanceStatus",
                           {{"InstanceIds", json_string_array(instance_ids)},
                            {"PageNumber", "1"},
                            {"PageSize", std::to_string(limits::kMaxInstanceIdsPerPoll)},
                            {"RegionId", std::string(region_id)}},
                           endpoint, credentials, x_acs_date, nonce);
}

std::variant<InstanceStatuses, StatusListUnreadable> parse_instance_statuses(std::string_view body) {
  if (json_has_nul(body)) return StatusListUnreadable{"the body holds a NUL character"};
  if (json_nesting_depth(body) > limits::kMaxJsonDepth)
    return StatusListUnreadable{"the body nests objects and arrays more than " +
                                std::to_string(limits::kMaxJsonDepth) + " levels deep"};
  JsonPtr root(cJSON_ParseWithLength(body.data(), body.size()), &cJSON_Delete);
  if (!root || !cJSON_IsObject(root.get())) return StatusListUnreadable{"the body is not a JSON object"};
  const cJSON* list = cJSON_GetObjectItemCaseSensitive(root.get(), "InstanceStatuses");
  if (!cJSON_IsArray(list)) return StatusListUnreadable{"the body has no InstanceStatuses array"};
  if (cJSON_GetArraySize(list) > static_cast<int>(limits::kMaxInstanceIdsPerPoll))
    return StatusListUnreadable{"InstanceStatuses has more entries than the 100 asked for"};
  InstanceStatuses out;
  for (const cJSON* item = list->child; item; item = item->next) {
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(item, "InstanceId");
    const cJSON* status = cJSON_GetObjectItemCaseSensitive(item, "Status");
    if (!cJSON_IsObject(item) || !cJSON_IsString(id) || !cJSON_IsString(status))
      return StatusListUnreadable{"an entry of InstanceStatuses lacks the strings InstanceId and Status"};
    const std::string_view status_text = status->valuestring;
    if (status_text.empty() || status_text.size() > limits::kMaxInstanceStatusChars || !printable_ascii(status_text))
      return StatusListUnreadable{"a Status is empty, longer than " + std::to_string(limits::kMaxInstanceStatusChars) +
                                  " characters or not printable ASCII"};
    out.by_instance[id->valuestring] = std::string(status_text);
  }
  return out;
}

}  // namespace swas
