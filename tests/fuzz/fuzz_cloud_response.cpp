// Fuzzes the reading of the cloud's answer and the result built from it. Input format (so seeds
// are hand-written text): the first line is the HTTP status in decimal, the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "cloud_response.hpp"
#include "command.hpp"
#include "fuzz_check.hpp"
#include "result_message.hpp"

namespace {

using swas::fuzz::member_string;
using swas::fuzz::reparse_object;

swas::HttpResponse split(std::string_view input) {
  swas::HttpResponse r;
  const std::size_t nl = input.find('\n');
  const std::string_view first = input.substr(0, nl);
  long status = 0;
  bool negative = false;
  for (std::size_t i = 0; i < first.size() && i < 10; ++i) {
    if (i == 0 && first[i] == '-') negative = true;
    else if (first[i] >= '0' && first[i] <= '9') status = status * 10 + (first[i] - '0');
    else break;
  }
  r.status = static_cast<int>(negative ? -status : status);
  if (nl != std::string_view::npos) r.body = std::string(input.substr(nl + 1));
  return r;
}

swas::StopCommand make_command() {
  swas::StopCommand cmd;
  cmd.id = "c-fuzz";
  cmd.action = "StopInstance";
  cmd.instance_id = "i-fuzz";
  cmd.region_id = "cn-hangzhou";
  cmd.client_token = "123e4567-e89b-12d3-a456-426655440000";
  return cmd;
}
const swas::StopCommand kCommand = make_command();

void check_result(const std::string& text) {
  auto root = reparse_object(text);
  SWAS_FUZZ_CHECK(member_string(root.get(), "type") == "result", text);
  SWAS_FUZZ_CHECK(member_string(root.get(), "id") == kCommand.id, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const swas::HttpResponse response = split(std::string_view(reinterpret_cast<const char*>(data), size));
  const bool ok_status = response.status >= 200 && response.status < 300;
  const swas::CloudOutcome outcome = swas::parse_cloud_response(response);

  if (const auto* success = std::get_if<swas::CloudSuccess>(&outcome)) {
    SWAS_FUZZ_CHECK(ok_status, "success with HTTP " + std::to_string(response.status));
    SWAS_FUZZ_CHECK(!success->request_id.empty(), "success without a RequestId");
    const std::string text = swas::encode_success(kCommand, success->request_id);
    check_result(text);
    SWAS_FUZZ_CHECK(member_string(reparse_object(text).get(), "RequestId") == success->request_id, text);
  } else if (const auto* error = std::get_if<swas::CloudError>(&outcome)) {
    SWAS_FUZZ_CHECK(!ok_status, "a cloud error with HTTP " + std::to_string(response.status));
    SWAS_FUZZ_CHECK(error->http_status == response.status, "HttpStatus changed");
    SWAS_FUZZ_CHECK(!error->code.empty(), "a cloud error without a Code");
    const std::string text = swas::encode_cloud_error(kCommand, *error);
    check_result(text);
    auto root = reparse_object(text);
    const cJSON* e = cJSON_GetObjectItemCaseSensitive(root.get(), "error");
    // Verbatim: what the cloud said is what the dashboard reads.
    SWAS_FUZZ_CHECK(member_string(e, "Code") == error->code, text);
    SWAS_FUZZ_CHECK(member_string(e, "Message") == error->message, text);
    SWAS_FUZZ_CHECK(member_string(e, "RequestId") == error->request_id, text);
  } else {
    const auto& unreadable = std::get<swas::CloudUnreadable>(outcome);
    SWAS_FUZZ_CHECK(unreadable.http_status == response.status, "HttpStatus changed");
    SWAS_FUZZ_CHECK(!unreadable.reason.empty(), "unreadable without a reason");
    check_result(swas::encode_agent_error(kCommand, swas::AgentError::InvalidCloudResponse, unreadable.reason,
                                          unreadable.http_status));
  }
  SWAS_FUZZ_CHECK(swas::is_retryable_status(response.status) ==
                      (response.status == 500 || response.status == 502 || response.status == 503 ||
                       response.status == 504),
                  "retry rule");
  return 0;
}
