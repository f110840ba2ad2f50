// The cloud answers {"RequestId"} on success and {RequestId, HostId, Code, Message, Recommend} on
// error (docs/signature.md, "What the cloud answers").
#include "cloud_response.hpp"

#include <cjson/cJSON.h>

#include <memory>

#include "json_text.hpp"
#include "limits.hpp"

namespace swas {
namespace {

std::string string_field(const cJSON* object, const char* name) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, name);
  return cJSON_IsString(item) && item->valuestring ? std::string(item->valuestring) : std::string();
}

}  // namespace

bool is_retryable_status(int http_status) {
  return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

CloudOutcome parse_cloud_response(const HttpResponse& response) {
  if (json_nesting_depth(response.body) > limits::kMaxJsonDepth)
    return CloudUnreadable{response.status, "the body nests objects and arrays more than " +
                                                std::to_string(limits::kMaxJsonDepth) + " levels deep"};
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(
      cJSON_ParseWithLength(response.body.data(), response.body.size()), &cJSON_Delete);
  const bool ok_status = response.status >= 200 && response.status < 300;
  if (!root || !cJSON_IsObject(root.get())) {
    return CloudUnreadable{response.status, "the body is not a JSON object"};
  }
  if (ok_status) {
    std::string request_id = string_field(root.get(), "RequestId");
    if (request_id.empty()) return CloudUnreadable{response.status, "the body has no RequestId"};
    if (request_id.size() > limits::kMaxCloudFieldBytes)
      return CloudUnreadable{response.status, "the RequestId is longer than " +
                                                  std::to_string(limits::kMaxCloudFieldBytes) + " bytes"};
    return CloudSuccess{std::move(request_id)};
  }
  CloudError err;
  err.http_status = response.status;
  err.code = string_field(root.get(), "Code");
  err.message = string_field(root.get(), "Message");
  err.request_id = string_field(root.get(), "RequestId");
  err.host_id = string_field(root.get(), "HostId");
  err.recommend = string_field(root.get(), "Recommend");
  if (err.code.empty()) return CloudUnreadable{response.status, "the error body has no Code"};
  // The result carries these verbatim and the journal keeps it: a field no real answer comes near
  // makes the answer unreadable rather than a record of any size (docs/limits.md).
  for (const std::string* field : {&err.code, &err.message, &err.request_id, &err.host_id, &err.recommend})
    if (field->size() > limits::kMaxCloudFieldBytes)
      return CloudUnreadable{response.status, "the error body has a field longer than " +
                                                  std::to_string(limits::kMaxCloudFieldBytes) + " bytes"};
  return err;
}

}  // namespace swas
