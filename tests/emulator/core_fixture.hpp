// Test fixture: an EmulatorCore with one credential and one Running instance, at a fixed clock.
#pragma once
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "emulator_core.hpp"
#include "signed_request.hpp"

namespace swas::emulator::test {

// 2026-11-26T00:00:00Z; any fixed instant works, the core never reads a clock.
inline constexpr std::int64_t kNowS = 1795651200;

inline EmulatorConfig base_config() {
  EmulatorConfig config;
  config.credentials.push_back({kAccessKeyId, kAccessKeySecret, ""});
  config.credentials.push_back({"StsKeyId", "StsKeySecret", "TestSecurityToken"});
  config.instances.push_back({kInstanceId, kRegionId, "Running", std::nullopt, StopOutcome::Stopped});
  config.stop_delay_ms = 2000;
  return config;
}

// A JSON value parsed from a response body, with small accessors.
class Json {
 public:
  explicit Json(const std::string& text) : root_(cJSON_Parse(text.c_str()), &cJSON_Delete) {}
  bool valid() const { return root_ != nullptr; }
  const cJSON* get() const { return root_.get(); }
  std::string str(const char* key) const {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(root_.get(), key);
    return cJSON_IsString(item) ? item->valuestring : "<absent>";
  }
  double num(const char* key) const {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(root_.get(), key);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
  }

 private:
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root_;
};

class CoreFixture : public ::testing::Test {
 protected:
  explicit CoreFixture(EmulatorConfig config = base_config())
      : core_(std::make_unique<EmulatorCore>(std::move(config), 42)) {}

  // A signed StopInstance for the instance, dated now, with a fresh nonce.
  RequestSpec spec(const std::string& client_token = "") {
    RequestSpec s;
    s.date_s = now_ms_ / 1000;
    s.nonce = "nonce-" + std::to_string(++nonce_counter_);
    s.query = stop_query(kInstanceId, kRegionId, client_token);
    return s;
  }
  // A signed ListInstanceStatus with these query parameters, dated now, with a fresh nonce.
  RequestSpec list_spec(std::vector<QueryParam> query) {
    RequestSpec s = spec();
    s.action = "ListInstanceStatus";
    s.query = std::move(query);
    return s;
  }
  EmulatorReply send(const RequestSpec& s) { return core_->handle(make_signed_request(s), now_ms_); }
  EmulatorReply send_raw(const HttpRequest& r) { return core_->handle(r, now_ms_); }
  EmulatorReply admin(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    HttpRequest request{method, path, {{"host", "localhost"}}, body};
    return core_->handle(request, now_ms_);
  }
  // The state of the instance as GET /__emulator/state reports it.
  std::string state_of(const std::string& instance_id);
  double stops_of(const std::string& instance_id);

  static std::string code_of(const EmulatorReply& r) { return Json(r.response.body).str("Code"); }
  static std::string request_id_of(const EmulatorReply& r) {
    return Json(r.response.body).str("RequestId");
  }

  std::unique_ptr<EmulatorCore> core_;
  std::int64_t now_ms_ = kNowS * 1000;
  int nonce_counter_ = 0;
};

inline std::string CoreFixture::state_of(const std::string& instance_id) {
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* instances = cJSON_GetObjectItemCaseSensitive(state.get(), "instances");
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, instances) {
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(item, "InstanceId");
    if (cJSON_IsString(id) && instance_id == id->valuestring)
      return cJSON_GetObjectItemCaseSensitive(item, "state")->valuestring;
  }
  return "<absent>";
}

inline double CoreFixture::stops_of(const std::string& instance_id) {
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* stops = cJSON_GetObjectItemCaseSensitive(state.get(), "stops");
  const cJSON* count = cJSON_GetObjectItemCaseSensitive(stops, instance_id.c_str());
  return cJSON_IsNumber(count) ? count->valuedouble : -1;
}

}  // namespace swas::emulator::test
