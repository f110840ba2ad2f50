// ListInstanceStatus (swas-open 2020-06-01): the request that follows stopped instances, and the
// reading of its answer (docs/contract.md, "Following a stop to Stopped").
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "credentials.hpp"
#include "http_types.hpp"

namespace swas {

// One attempt: RegionId, InstanceIds as a JSON array (at most limits::kMaxInstanceIdsPerPoll,
// the caller's bound), PageNumber 1 and PageSize 100, V3-signed like a stop.
HttpRequest build_list_status_request(std::string_view region_id, const std::vector<std::string>& instance_ids,
                                      const Endpoint& endpoint, const Credentials& credentials,
                                      std::string_view x_acs_date, std::string_view nonce);

// The statuses of a successful answer, by InstanceId (ids the cloud did not list are absent).
struct InstanceStatuses {
  std::map<std::string, std::string> by_instance;
};

// Why a 2xx answer could not be read (for InvalidCloudResponse).
struct StatusListUnreadable {
  std::string reason;
};

// Reads the body of a 2xx ListInstanceStatus answer: {"InstanceStatuses":[{"InstanceId","Status"}],
// ...}. Unreadable when that array is missing or malformed, holds more than 100 entries, or a
// Status is empty, longer than limits::kMaxInstanceStatusChars or not printable ASCII.
std::variant<InstanceStatuses, StatusListUnreadable> parse_instance_statuses(std::string_view body);

}  // namespace swas
