// Building the signed StopInstance request (contract §5) for one attempt.
#pragma once
#include <string>
#include <string_view>

#include "command.hpp"
#include "credentials.hpp"
#include "http_types.hpp"
#include "signer.hpp"

namespace swas {

inline constexpr std::string_view kApiVersion = "2020-06-01";

// An RPC-style call as the official SDKs send it (POST /, parameters in the query, empty body, V3
// signed) for one attempt.
HttpRequest build_rpc_request(std::string_view action, const std::vector<QueryParam>& query,
                              const Endpoint& endpoint, const Credentials& credentials,
                              std::string_view x_acs_date, std::string_view nonce);

// ["a","b"]: how InstanceIds travel in a query parameter.
std::string json_string_array(const std::vector<std::string>& items);

// An attempt's request (StopInstance, or StopInstances for an InstanceIds command): fresh `x_acs_date` ("YYYY-MM-DDThh:mm:ssZ") and `nonce` each time.
HttpRequest build_stop_request(const StopCommand& cmd, const Endpoint& endpoint,
                               const Credentials& credentials, std::string_view x_acs_date,
                               std::string_view nonce);

}  // namespace swas
