// EmulatorCore gateway behaviour: every check in the real gateway's order, with its error.
#include "core_fixture.hpp"
#include "emulator_time.hpp"

namespace swas::emulator::test {
namespace {

using GatewayChecksTest = CoreFixture;

// Vector 2 of docs/signature.md, as bytes on the wire.
HttpRequest vector2_request(const std::string& host, const std::string& token,
                            const std::string& signature) {
  const std::string signed_headers =
      token.empty() ? "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
                      "x-acs-version"
                    : "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;"
                      "x-acs-signature-nonce;x-acs-version";
  HttpRequest request{"POST",
                      "/?ClientToken=123e4567-e89b-12d3-a456-426655440000&InstanceId="
                      "ace0706b2ac4454d984295a94213abcd&RegionId=cn-hangzhou",
                      {{"Host", host},
                       {"x-acs-action", "StopInstance"},
                       {"x-acs-version", "2020-06-01"},
                       {"x-acs-date", "2023-10-26T10:22:32Z"},
                       {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
                       {"x-acs-content-sha256", std::string(kEmptyPayloadSha256)}},
                      ""};
  if (!token.empty()) request.headers.push_back({"x-acs-security-token", token});
  request.headers.push_back({"Authorization", "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
                                              "SignedHeaders=" + signed_headers +
                                              ",Signature=" + signature});
  return request;
}

TEST(GatewayReferenceVectors, Vector2IsAcceptedAsDocumented) {
  std::int64_t date_s = 0;
  ASSERT_TRUE(parse_acs_date("2023-10-26T10:22:32Z", date_s));
  struct Case {
    const char* host;
    const char* token;
    const char* signature;
  } cases[] = {
      {"swas.cn-hangzhou.aliyuncs.com", "",
       "b5d7c53c1e00a28d11f6657c64e47f037fc978fbac4b386310ee37b62280f0c9"},
      {"swas.cn-hangzhou.aliyuncs.com", "TestSecurityToken",
       "beb8ecdceb873d0207c5b1d1af291b3139542c57c0ca5459ce37784aebee13c5"},
      {"127.0.0.1:8080", "", "573f3ccab7bce402e9a52baaa2685ebf2c24da7678449f98c5912ec7dc926012"},
  };
  for (const Case& c : cases) {
    EmulatorConfig config = base_config();
    config.credentials[0].security_token = c.token;
    EmulatorCore core(config, 1);
    const EmulatorReply reply = core.handle(vector2_request(c.host, c.token, c.signature),
                                            date_s * 1000);
    EXPECT_EQ(reply.response.status, 200) << c.host << " " << reply.response.body;
  }
}

TEST_F(GatewayChecksTest, ErrorBodyHasTheRealFormAndHeaders) {
  RequestSpec s = spec();
  s.access_key_id = "NoSuchKey";
  const EmulatorReply reply = send(s);
  EXPECT_EQ(reply.response.status, 404);
  const Json body(reply.response.body);
  const std::string id = body.str("RequestId");
  EXPECT_EQ(body.str("HostId"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(body.str("Code"), "InvalidAccessKeyId.NotFound");
  EXPECT_EQ(body.str("Message"), "Specified access key is not found.");
  EXPECT_EQ(body.str("Recommend"), "https://api.aliyun.com/troubleshoot?q="
                                   "InvalidAccessKeyId.NotFound&product=SWAS&requestId=" + id);
  EXPECT_EQ(cJSON_GetArraySize(body.get()), 5);
  EXPECT_EQ(*find_header(reply.response.headers, "x-acs-request-id"), id);
  EXPECT_NE(find_header(reply.response.headers, "Date"), nullptr);
  EXPECT_EQ(reply.code, "InvalidAccessKeyId.NotFound");
}

TEST_F(GatewayChecksTest, MissingOrMalformedAuthorization) {
  HttpRequest request = make_signed_request(spec());
  remove_header(request, "Authorization");
  EXPECT_EQ(code_of(send_raw(request)), "MissingAccessKeyId");
  for (const char* bad : {"Bearer abc", "ACS3-HMAC-SHA256 Credential=YourAccessKeyId",
                          "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=",
                          "ACS3-HMAC-SHA1 Credential=a,SignedHeaders=host,Signature=00",
                          "ACS3-HMAC-SHA256 garbage"}) {
    set_header(request, "Authorization", bad);
    const EmulatorReply reply = send_raw(request);
    EXPECT_EQ(reply.response.status, 400) << bad;
    EXPECT_EQ(code_of(reply), "IncompleteSignature") << bad;
  }
}

TEST_F(GatewayChecksTest, EachMissingAcsHeaderIsMissingParameterNamingIt) {
  for (const char* name : {"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                           "x-acs-content-sha256"}) {
    HttpRequest request = make_signed_request(spec());
    remove_header(request, name);
    const EmulatorReply reply = send_raw(request);
    EXPECT_EQ(reply.response.status, 400) << name;
    EXPECT_EQ(code_of(reply), "MissingParameter") << name;
    EXPECT_NE(Json(reply.response.body).str("Message").find(std::string("\"") + name + "\""),
              std::string::npos);
  }
}

TEST_F(GatewayChecksTest, TimestampMoreThan15MinutesOffIsExpired) {
  for (std::int64_t offset_s : {-901, 901, -3600}) {
    RequestSpec s = spec();
    s.date_s += offset_s;
    const EmulatorReply reply = send(s);
    EXPECT_EQ(reply.response.status, 400) << offset_s;
    EXPECT_EQ(code_of(reply), "InvalidTimeStamp.Expired") << offset_s;
    EXPECT_EQ(Json(reply.response.body).str("Message"),
              "Specified time stamp or date value is expired.");
  }
  for (std::int64_t offset_s : {-900, 900}) {  // exactly 15 minutes off is still accepted
    RequestSpec s = spec();
    s.date_s += offset_s;
    EXPECT_NE(code_of(send(s)), "InvalidTimeStamp.Expired") << offset_s;
  }
}

TEST_F(GatewayChecksTest, UnparseableTimestampIsFormatError) {
  HttpRequest request = make_signed_request(spec());
  set_header(request, "x-acs-date", "2026-11-26 00:00:00");
  EXPECT_EQ(code_of(send_raw(request)), "InvalidTimeStamp.Format");
}

TEST_F(GatewayChecksTest, WrongSecretIsSignatureDoesNotMatchWithServerStringToSign) {
  RequestSpec s = spec();
  s.access_key_secret = "not-the-secret";
  const EmulatorReply reply = send(s);
  EXPECT_EQ(reply.response.status, 400);
  EXPECT_EQ(code_of(reply), "SignatureDoesNotMatch");
  const std::string message = Json(reply.response.body).str("Message");
  EXPECT_EQ(message.rfind("Specified signature is not matched with our calculation. "
                          "server string to sign is:ACS3-HMAC-SHA256\n", 0),
            0u)
      << message;
}

TEST_F(GatewayChecksTest, TamperedRequestsAreSignatureDoesNotMatch) {
  HttpRequest query_changed = make_signed_request(spec());
  query_changed.target += "&Extra=1";
  EXPECT_EQ(code_of(send_raw(query_changed)), "SignatureDoesNotMatch");

  HttpRequest body_changed = make_signed_request(spec());
  body_changed.body = "x";  // x-acs-content-sha256 still claims the empty body
  EXPECT_EQ(code_of(send_raw(body_changed)), "SignatureDoesNotMatch");

  HttpRequest method_changed = make_signed_request(spec());
  method_changed.method = "GET";
  EXPECT_EQ(code_of(send_raw(method_changed)), "SignatureDoesNotMatch");

  HttpRequest unsigned_header = make_signed_request(spec());
  unsigned_header.headers.push_back({"x-acs-extra", "1"});
  EXPECT_EQ(code_of(send_raw(unsigned_header)), "SignatureDoesNotMatch");
  EXPECT_EQ(stops_of(kInstanceId), 0);
}

TEST_F(GatewayChecksTest, PercentEncodedQueryValuesVerify) {
  // Reserved characters travel %-encoded; the gateway decodes, re-encodes and must agree.
  EXPECT_EQ(send(spec("a b*c~d/+%=&")).response.status, 200);
  // Non-ASCII verifies too, then fails the ClientToken rule, not the signature.
  EXPECT_EQ(code_of(send(spec("caf\xC3\xA9"))), "InvalidParameter");
}

TEST_F(GatewayChecksTest, NonceCanBeUsedOnceAndOnlyVerifiedRequestsSpendIt) {
  RequestSpec bad = spec();
  bad.nonce = "shared-nonce";
  bad.access_key_secret = "wrong";
  EXPECT_EQ(code_of(send(bad)), "SignatureDoesNotMatch");
  RequestSpec good = spec();
  good.nonce = "shared-nonce";
  EXPECT_EQ(send(good).response.status, 200);
  const EmulatorReply replay = send(good);
  EXPECT_EQ(replay.response.status, 400);
  EXPECT_EQ(code_of(replay), "SignatureNonceUsed");
  EXPECT_EQ(Json(replay.response.body).str("Message"), "Specified signature nonce was used already.");
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(GatewayChecksTest, NonceIsForgottenOnlyAfterItsTimestampCouldNoLongerPass) {
  RequestSpec s = spec();
  s.date_s += 900;  // dated 15 min ahead: still acceptable until 30 min from now
  ASSERT_EQ(send(s).response.status, 200);
  now_ms_ += 29 * 60 * 1000;
  EXPECT_EQ(code_of(send(s)), "SignatureNonceUsed");
  now_ms_ += 60 * 1000;
  s.date_s = now_ms_ / 1000;
  EXPECT_EQ(code_of(send(s)), "IncorrectInstanceStatus");  // nonce forgotten, passes the gateway
}

TEST_F(GatewayChecksTest, SecurityTokenRules) {
  RequestSpec sts = spec();
  sts.access_key_id = "StsKeyId";
  sts.access_key_secret = "StsKeySecret";
  EXPECT_EQ(code_of(send(sts)), "MissingSecurityToken");
  sts.nonce = "n-sts-1";
  sts.security_token = "OtherToken";
  EXPECT_EQ(code_of(send(sts)), "InvalidSecurityToken.MismatchWithAccessKey");
  sts.nonce = "n-sts-2";
  sts.security_token = "TestSecurityToken";
  EXPECT_EQ(send(sts).response.status, 200);

  RequestSpec long_term = spec();
  long_term.security_token = "TestSecurityToken";
  EXPECT_EQ(code_of(send(long_term)), "InvalidSecurityToken.MismatchWithAccessKey");
}

TEST_F(GatewayChecksTest, OtherActionOrVersionIsRefused) {
  RequestSpec action = spec();
  action.action = "StartInstance";
  const EmulatorReply not_found = send(action);
  EXPECT_EQ(not_found.response.status, 404);
  EXPECT_EQ(code_of(not_found), "InvalidAction.NotFound");
  RequestSpec version = spec();
  version.version = "2019-01-01";
  const EmulatorReply bad_version = send(version);
  EXPECT_EQ(bad_version.response.status, 400);
  EXPECT_EQ(code_of(bad_version), "InvalidVersion");
  EXPECT_EQ(stops_of(kInstanceId), 0);
}

TEST_F(GatewayChecksTest, ChecksRunInTheGatewaysOrder) {
  RequestSpec s = spec();
  s.access_key_id = "NoSuchKey";
  s.date_s -= 3600;
  s.action = "Nope";
  EXPECT_EQ(code_of(send(s)), "InvalidAccessKeyId.NotFound");  // key before time
  s.access_key_id = kAccessKeyId;
  EXPECT_EQ(code_of(send(s)), "InvalidTimeStamp.Expired");  // time before signature
  s.date_s += 3600;
  s.access_key_secret = "wrong";
  EXPECT_EQ(code_of(send(s)), "SignatureDoesNotMatch");  // signature before action
  s.access_key_secret = kAccessKeySecret;
  s.query = {};
  EXPECT_EQ(code_of(send(s)), "InvalidAction.NotFound");  // action before parameters
}

}  // namespace
}  // namespace swas::emulator::test
