// Reading the cloud's answer to a StopInstance call: success, a cloud error, or unreadable.
#pragma once
#include <string>
#include <variant>

#include "http_types.hpp"

namespace swas {

struct CloudSuccess {
  std::string request_id;
};

// An error answered by the cloud; fields kept verbatim (absent ones are empty).
struct CloudError {
  int http_status = 0;
  std::string code;
  std::string message;
  std::string request_id;
  std::string host_id;
  std::string recommend;
};

// The cloud answered but not in the documented form (not JSON, no RequestId, ...).
struct CloudUnreadable {
  int http_status = 0;
  std::string reason;
};

using CloudOutcome = std::variant<CloudSuccess, CloudError, CloudUnreadable>;

CloudOutcome parse_cloud_response(const HttpResponse& response);

// The retry rule: failures that a later attempt may not see again (500, 502, 503, 504).
bool is_retryable_status(int http_status);

}  // namespace swas
