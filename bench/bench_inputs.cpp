#include "bench_inputs.hpp"

#include <variant>

#include "result_message.hpp"
#include "stop_request.hpp"

namespace swas::bench {

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs i;
    i.gateway_id = "gw-001";
    i.command_with_token =
        R"({"id": "c-20261126-0001", "action": "StopInstance", )"
        R"("InstanceId": "ace0706b2ac4454d984295a94213abcd", "RegionId": "cn-hangzhou", )"
        R"("ClientToken": "123e4567-e89b-12d3-a456-426655440000"})";
    i.command_without_token =
        R"({"id": "c-20261126-0001", "action": "StopInstance", )"
        R"("InstanceId": "ace0706b2ac4454d984295a94213abcd", "RegionId": "cn-hangzhou"})";
    i.endpoint = Endpoint{"swas.cn-hangzhou.aliyuncs.com", 443, "swas.cn-hangzhou.aliyuncs.com"};
    i.credentials = Credentials("LTAI5tBenchAccessKeyId", "BenchAccessKeySecret-0123456789abcd", "");
    i.x_acs_date = "2026-11-26T03:07:12Z";
    i.nonce = "3f6c1a0d9b7e4c2a8d5f0e1b2c3d4e5f";
    i.cloud_ok.status = 200;
    i.cloud_ok.headers = {{"Date", "Thu, 26 Nov 2026 03:07:12 GMT"},
                          {"Content-Type", "application/json;charset=utf-8"},
                          {"x-acs-request-id", "20758A-585D-4A41-A9B2-28DA8F4F534F"},
                          {"Content-Length", "50"},
                          {"Connection", "keep-alive"}};
    i.cloud_ok.body = R"({"RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F"})";
    return i;
  }();
  return in;
}

std::size_t run_chain(const Inputs& in, const std::string& payload) {
  const ParsedCommand parsed = parse_command(payload, in.gateway_id);
  const auto* cmd = std::get_if<StopCommand>(&parsed);
  if (!cmd) return 0;
  const HttpRequest req = build_stop_request(*cmd, in.endpoint, in.credentials, in.x_acs_date, in.nonce);
  const CloudOutcome outcome = parse_cloud_response(in.cloud_ok);
  const auto* ok = std::get_if<CloudSuccess>(&outcome);
  if (!ok) return 0;
  return encode_success(*cmd, ok->request_id).size() + req.headers.size();
}

}  // namespace swas::bench
