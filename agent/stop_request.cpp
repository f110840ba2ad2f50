// RPC style as the official SDKs send it: POST /, parameters in the query, empty body, V3 signed.
#include "stop_request.hpp"

#include <cjson/cJSON.h>

#include <memory>

#include "signer.hpp"

namespace swas {

std::string json_string_array(const std::vector<std::string>& items) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> array(cJSON_CreateArray(), &cJSON_Delete);
  for (const auto& item : items) cJSON_AddItemToArray(array.get(), cJSON_CreateString(item.c_str()));
  char* text = cJSON_PrintUnformatted(array.get());
  std::string out = text ? text : "[]";
  cJSON_free(text);
  return out;
}

HttpRequest build_rpc_request(std::string_view action, const std::vector<QueryParam>& query,
                              const Endpoint& endpoint, const Credentials& credentials,
                              std::string_view x_acs_date, std::string_view nonce) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/?" + canonical_query_string(query);
  req.headers = {{"host", endpoint.host_header},
                 {"x-acs-action", std::string(action)},
                 {"x-acs-version", std::string(kApiVersion)},
                 {"x-acs-date", std::string(x_acs_date)},
                 {"x-acs-signature-nonce", std::string(nonce)},
                 {"x-acs-content-sha256", std::string(kEmptyPayloadSha256)}};
  if (!credentials.security_token().empty())
    req.headers.push_back({"x-acs-security-token", credentials.security_token()});
  const CanonicalRequest cr =
      canonical_request(req.method, "/", query, req.headers, kEmptyPayloadSha256);
  const std::string signature =
      signature_v3(credentials.access_key_secret(), string_to_sign(cr.text));
  req.headers.push_back(
      {"Authorization", authorization_v3(credentials.access_key_id(), cr.signed_headers, signature)});
  req.headers.push_back({"Accept", "application/json"});
  req.headers.push_back({"User-Agent", "swas-agent/0.1"});
  return req;
}

HttpRequest build_stop_request(const StopCommand& cmd, const Endpoint& endpoint,
                               const Credentials& credentials, std::string_view x_acs_date,
                               std::string_view nonce) {
  if (cmd.many()) {
    std::vector<QueryParam> query = {{"ClientToken", cmd.client_token},
                                     {"InstanceIds", json_string_array(cmd.instance_ids)},
                                     {"RegionId", cmd.region_id}};
    if (cmd.force_stop) query.push_back({"ForceStop", "true"});
    return build_rpc_request("StopInstances", query, endpoint, credentials, x_acs_date, nonce);
  }
  return build_rpc_request(cmd.action,
                           {{"ClientToken", cmd.client_token}, {"InstanceId", cmd.instance_id},
                            {"RegionId", cmd.region_id}},
                           endpoint, credentials, x_acs_date, nonce);
}

}  // namespace swas
