// Signature V3 against the official vector and the derived StopInstance vectors, byte for byte.
#include "signer.hpp"

#include <gtest/gtest.h>

namespace swas {
namespace {

const char* kSecret = "YourAccessKeySecret";

std::vector<Header> vector1_headers() {
  return {{"host", "ecs.cn-shanghai.aliyuncs.com"},
          {"x-acs-action", "RunInstances"},
          {"x-acs-version", "2014-05-26"},
          {"x-acs-date", "2023-10-26T10:22:32Z"},
          {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
          {"x-acs-content-sha256", std::string(kEmptyPayloadSha256)}};
}

TEST(Signer, OfficialVector1CanonicalRequest) {
  const auto cr = canonical_request(
      "POST", "/",
      {{"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"},
       {"RegionId", "cn-shanghai"}},
      vector1_headers(), kEmptyPayloadSha256);
  EXPECT_EQ(cr.text,
            "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
            "host:ecs.cn-shanghai.aliyuncs.com\n"
            "x-acs-action:RunInstances\n"
            "x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-acs-date:2023-10-26T10:22:32Z\n"
            "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
            "x-acs-version:2014-05-26\n"
            "\n"
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string sts = string_to_sign(cr.text);
  EXPECT_EQ(sts, "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  EXPECT_EQ(signature_v3(kSecret, sts),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
}

TEST(Signer, OfficialVector1Authorization) {
  EXPECT_EQ(sign_request_v3("POST", "/",
                            {{"RegionId", "cn-shanghai"},
                             {"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"}},
                            vector1_headers(), kEmptyPayloadSha256, "YourAccessKeyId", kSecret),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
            "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
            "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
}

std::vector<Header> stop_headers(const std::string& host) {
  return {{"host", host},
          {"x-acs-action", "StopInstance"},
          {"x-acs-version", "2020-06-01"},
          {"x-acs-date", "2023-10-26T10:22:32Z"},
          {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
          {"x-acs-content-sha256", std::string(kEmptyPayloadSha256)}};
}

const std::vector<QueryParam> kStopQuery = {
    {"InstanceId", "ace0706b2ac4454d984295a94213abcd"},
    {"RegionId", "cn-hangzhou"},
    {"ClientToken", "123e4567-e89b-12d3-a456-426655440000"}};

TEST(Signer, DerivedStopInstanceVector) {
  const auto cr = canonical_request("POST", "/", kStopQuery, stop_headers("swas.cn-hangzhou.aliyuncs.com"),
                                    kEmptyPayloadSha256);
  EXPECT_EQ(sha256_hex(cr.text), "5b7859bb2de7edb1c16f6e653667438dd14656b8bdbf19c344a7071ed1e510e1");
  EXPECT_EQ(signature_v3(kSecret, string_to_sign(cr.text)),
            "b5d7c53c1e00a28d11f6657c64e47f037fc978fbac4b386310ee37b62280f0c9");
}

TEST(Signer, DerivedStopInstanceWithSecurityToken) {
  auto headers = stop_headers("swas.cn-hangzhou.aliyuncs.com");
  headers.push_back({"x-acs-security-token", "TestSecurityToken"});
  const auto auth = sign_request_v3("POST", "/", kStopQuery, headers, kEmptyPayloadSha256,
                                    "YourAccessKeyId", kSecret);
  EXPECT_EQ(auth,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
            "x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;"
            "x-acs-version,Signature=beb8ecdceb873d0207c5b1d1af291b3139542c57c0ca5459ce37784aebee13c5");
}

TEST(Signer, DerivedStopInstanceWithHostPort) {
  const auto cr = canonical_request("POST", "/", kStopQuery, stop_headers("127.0.0.1:8080"),
                                    kEmptyPayloadSha256);
  EXPECT_EQ(signature_v3(kSecret, string_to_sign(cr.text)),
            "573f3ccab7bce402e9a52baaa2685ebf2c24da7678449f98c5912ec7dc926012");
}

TEST(Signer, OnlyHostContentTypeAndAcsHeadersAreSigned) {
  EXPECT_TRUE(is_signed_header_name("Host"));
  EXPECT_TRUE(is_signed_header_name("Content-Type"));
  EXPECT_TRUE(is_signed_header_name("X-Acs-Date"));
  EXPECT_FALSE(is_signed_header_name("Authorization"));
  EXPECT_FALSE(is_signed_header_name("User-Agent"));
  EXPECT_FALSE(is_signed_header_name("x-acsdate"));
}

TEST(Signer, PercentEncodingFollowsRfc3986) {
  EXPECT_EQ(percent_encode("a b*c~d+e/f%g"), "a%20b%2Ac~d%2Be%2Ff%25g");
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode("\xE4\xB8\xAD"), "%E4%B8%AD");
  EXPECT_EQ(percent_encode(""), "");
  std::string decoded;
  ASSERT_TRUE(percent_decode("a%20b%2Ac+d%e4%B8%ad", decoded));
  EXPECT_EQ(decoded, "a b*c+d\xE4\xB8\xAD");
  EXPECT_FALSE(percent_decode("bad%2", decoded));
  EXPECT_FALSE(percent_decode("bad%zz", decoded));
  EXPECT_FALSE(percent_decode("%", decoded));
}

TEST(Signer, CanonicalQuerySortsAndKeepsEmptyValues) {
  EXPECT_EQ(canonical_query_string({{"b", ""}, {"a", "x y"}, {"C", "1"}}), "C=1&a=x%20y&b=");
  EXPECT_EQ(canonical_query_string({}), "");
}

TEST(Signer, HeaderValuesAreTrimmedAndNamesLowercased) {
  const auto cr = canonical_request("POST", "/", {}, {{"X-Acs-B", "  v  "}, {"HOST", "h"}},
                                    kEmptyPayloadSha256);
  EXPECT_EQ(cr.signed_headers, "host;x-acs-b");
  EXPECT_NE(cr.text.find("host:h\nx-acs-b:v\n\n"), std::string::npos);
}

TEST(Signer, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace swas
