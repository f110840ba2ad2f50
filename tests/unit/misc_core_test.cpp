// Smaller core modules: cloud responses, result encoding, time formatting, result cache, credentials.
#include <gtest/gtest.h>

#include <new>
#include <string>

#include "cloud_response.hpp"
#include "credentials.hpp"
#include "json_text.hpp"
#include "limits.hpp"
#include "result_message.hpp"
#include "time_format.hpp"

namespace swas {
namespace {

HttpResponse response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(CloudResponse, Success) {
  auto o = parse_cloud_response(response(200, R"({"RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F"})"));
  ASSERT_TRUE(std::holds_alternative<CloudSuccess>(o));
  EXPECT_EQ(std::get<CloudSuccess>(o).request_id, "20758A-585D-4A41-A9B2-28DA8F4F534F");
}

TEST(CloudResponse, EachSeedErrorKeepsItsFields) {
  struct Case { int status; const char* code; const char* message; };
  for (const Case& c : {Case{500, "InternalError", "An error occurred while processing your request."},
                        Case{403, "IncorrectInstanceStatus", "The state of the current instance does not support this operation."},
                        Case{404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."}}) {
    auto o = parse_cloud_response(response(c.status, std::string(R"({"RequestId":"R","HostId":"h","Code":")") +
                                                         c.code + R"(","Message":")" + c.message + R"(","Recommend":"u"})"));
    ASSERT_TRUE(std::holds_alternative<CloudError>(o)) << c.code;
    const auto& e = std::get<CloudError>(o);
    EXPECT_EQ(e.http_status, c.status);
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(e.request_id, "R");
    EXPECT_EQ(e.host_id, "h");
    EXPECT_EQ(e.recommend, "u");
  }
}

TEST(CloudResponse, MalformedBodiesAreUnreadable) {
  for (const auto& r : {response(200, ""), response(200, "{}"), response(200, R"({"RequestId":5})"),
                        response(200, "[\"RequestId\"]"), response(502, "<html>bad gateway</html>"),
                        response(400, R"({"Message":"no code"})"), response(200, "{\"RequestId\":\"x\""),
                        response(200, std::string("{\"RequestId\":\"\0\"}", 17))}) {
    EXPECT_TRUE(std::holds_alternative<CloudUnreadable>(parse_cloud_response(r))) << r.body;
  }
}

TEST(CloudResponse, FieldsLongerThanTheBoundAreUnreadableAndTheBoundItselfIsKept) {
  const std::string at(1024, 'm'), over(1025, 'm');
  const std::vector<std::string> fields = {"Code", "Message", "RequestId", "HostId", "Recommend"};
  const auto body = [&](const std::string& big_field, const std::string& value) {
    std::string b = "{";
    for (const auto& f : fields) b += "\"" + f + "\":\"" + (f == big_field ? value : "v") + "\",";
    b.back() = '}';
    return b;
  };
  for (const auto& field : fields) {
    EXPECT_TRUE(std::holds_alternative<CloudError>(parse_cloud_response(response(403, body(field, at))))) << field;
    EXPECT_TRUE(std::holds_alternative<CloudUnreadable>(parse_cloud_response(response(403, body(field, over)))))
        << field;
  }
  EXPECT_TRUE(std::holds_alternative<CloudUnreadable>(
      parse_cloud_response(response(200, R"({"RequestId":")" + over + "\"}"))));
}

TEST(CloudResponse, NestingBeyondTheBoundIsUnreadableAndTheBoundItselfIsKept) {
  // "x" nests arrays under the body's object: levels in all.
  const auto nested = [](std::size_t levels) {
    return ",\"x\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  const std::string ok = R"({"RequestId":"R")", error = R"({"RequestId":"R","Code":"InternalError")";
  EXPECT_TRUE(std::holds_alternative<CloudSuccess>(parse_cloud_response(response(200, ok + nested(limits::kMaxJsonDepth)))));
  EXPECT_TRUE(std::holds_alternative<CloudError>(parse_cloud_response(response(500, error + nested(limits::kMaxJsonDepth)))));
  for (const auto& r : {response(200, ok + nested(limits::kMaxJsonDepth + 1)),
                        response(500, error + nested(limits::kMaxJsonDepth + 1)), response(200, ok + nested(1000))}) {
    const auto o = parse_cloud_response(r);
    ASSERT_TRUE(std::holds_alternative<CloudUnreadable>(o)) << r.body;
    EXPECT_EQ(std::get<CloudUnreadable>(o).http_status, r.status);
    EXPECT_NE(std::get<CloudUnreadable>(o).reason.find("more than 8 levels deep"), std::string::npos);
  }
}

TEST(JsonText, NestingDepthCountsObjectsAndArraysOutsideStrings) {
  EXPECT_EQ(json_nesting_depth(""), 0u);
  EXPECT_EQ(json_nesting_depth("42"), 0u);
  EXPECT_EQ(json_nesting_depth(R"("[{")"), 0u);
  EXPECT_EQ(json_nesting_depth("{}"), 1u);
  EXPECT_EQ(json_nesting_depth("[1,2]"), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1],"b":{"c":{}}})"), 3u);
  EXPECT_EQ(json_nesting_depth(R"({"a":[[1]],"b":[2]})"), 3u);
  // Brackets in strings, after escaped quotes and backslashes, are text.
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[{\"[[","b":"\\","c":[]})"), 2u);
  // Not JSON: unbalanced closers count as nothing, an open string runs to the end.
  EXPECT_EQ(json_nesting_depth("]]]}{["), 2u);
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[)"), 1u);
}

TEST(CloudResponse, RetryableStatuses) {
  for (int s : {500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (int s : {200, 400, 403, 404, 429, 501}) EXPECT_FALSE(is_retryable_status(s)) << s;
}

TEST(ResultMessage, EscapesEveryString) {
  StopCommand cmd{"id\"1", "StopInstance", "i\\1", "r", "t", false, std::nullopt};
  const std::string s = encode_success(cmd, "R\n");
  EXPECT_EQ(s, R"({"type":"result","id":"id\"1","action":"StopInstance","InstanceId":"i\\1","RegionId":"r","ClientToken":"t","ok":true,"RequestId":"R\n"})");
}

TEST(ResultMessage, CloudErrorFormMatchesTheContract) {
  StopCommand cmd{"c-20261126-0001", "StopInstance", "ace0706b2ac4454d984295a94213****", "cn-hangzhou",
                  "123e4567-e89b-12d3-a456-426655440000", false, std::nullopt};
  CloudError e{403, "IncorrectInstanceStatus", "The state of the current instance does not support this operation.",
               "20758A-585D-4A41-A9B2-28DA8F4F534F", "", ""};
  EXPECT_EQ(encode_cloud_error(cmd, e),
            R"({"type":"result","id":"c-20261126-0001","action":"StopInstance",)"
            R"("InstanceId":"ace0706b2ac4454d984295a94213****","RegionId":"cn-hangzhou",)"
            R"("ClientToken":"123e4567-e89b-12d3-a456-426655440000","ok":false,)"
            R"("error":{"source":"cloud","HttpStatus":403,"Code":"IncorrectInstanceStatus",)"
            R"("Message":"The state of the current instance does not support this operation.",)"
            R"("RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F"}})");
}

TEST(ResultMessage, RejectionWithNullId) {
  EXPECT_EQ(encode_rejection({std::nullopt, AgentError::InvalidCommand, "payload is not valid JSON"}),
            R"({"type":"result","id":null,"ok":false,"error":{"source":"agent","Code":"InvalidCommand","Message":"payload is not valid JSON"}})");
}

TEST(TimeFormat, KnownInstants) {
  EXPECT_EQ(format_iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601_utc(1698315752), "2023-10-26T10:22:32Z");
  EXPECT_EQ(format_iso8601_utc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_iso8601_utc(4102444799), "2099-12-31T23:59:59Z");
  EXPECT_EQ(format_http_date(1698315752), "Thu, 26 Oct 2023 10:22:32 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-86400), "Wed, 31 Dec 1969 00:00:00 GMT");
}

TEST(Credentials, ParsesAndNeverEchoesValues) {
  auto c = parse_credentials_json(R"({"access_key_id":"AK","access_key_secret":"S3CR3T","security_token":"T"})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id(), "AK");
  EXPECT_EQ(c->access_key_secret(), "S3CR3T");
  EXPECT_EQ(c->security_token(), "T");
  auto bad = parse_credentials_json(R"({"access_key_id":"AK","access_key_secret":"S3CR3T","extra":"S3CR3T"})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().find("S3CR3T"), std::string::npos);
  EXPECT_FALSE(parse_credentials_json(R"({"access_key_id":"AK"})").has_value());
  EXPECT_FALSE(parse_credentials_json(R"({"access_key_id":"AK","access_key_secret":5})").has_value());
  EXPECT_FALSE(parse_credentials_json("nope").has_value());
}

// wipe() overwrites a secret's bytes where they are, then empties the string; the buffer stays the
// string's (capacity is kept), so the test can look at it afterwards.
TEST(Credentials, WipeZeroesTheBytesInPlace) {
  for (const std::string& secret : {std::string("short-s3cret"), std::string(200, 'k') + "-long-s3cret"}) {
    std::string s = secret;
    const char* bytes = s.data();
    const std::size_t n = s.size();
    wipe(s);
    EXPECT_TRUE(s.empty());
    ASSERT_EQ(s.data(), bytes) << "the buffer moved: nothing left to inspect";
    std::size_t left = 0;
    for (std::size_t i = 0; i < n; ++i) left += bytes[i] != 0 ? 1 : 0;
    EXPECT_EQ(left, 0u) << secret.size() << "-byte secret: " << left << " bytes not zeroed";
  }
}

// A Credentials object wipes its secret and its security token when it is destroyed. Both are
// short enough to live inside the object (the small-string buffer), so after the destructor ran
// the object's own storage can be searched for them.
TEST(Credentials, TheDestructorWipesTheSecretAndTheToken) {
  const std::string secret = "S3cr3t-v4lue", token = "T0ken-v4lue";
  alignas(Credentials) unsigned char storage[sizeof(Credentials)];
  auto* c = new (storage) Credentials("AKID", secret, token);
  const auto inside = [&](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data()) >= storage &&
           reinterpret_cast<const unsigned char*>(s.data()) < storage + sizeof storage;
  };
  ASSERT_TRUE(inside(c->access_key_secret()) && inside(c->security_token()))
      << "the strings are not stored inside the object on this standard library";
  const std::string before(reinterpret_cast<const char*>(storage), sizeof storage);
  ASSERT_NE(before.find(secret), std::string::npos);
  c->~Credentials();
  const std::string after(reinterpret_cast<const char*>(storage), sizeof storage);
  // Not even a tail of either: clearing a string alone writes only its first byte.
  EXPECT_EQ(after.find(secret.substr(1)), std::string::npos) << "the secret is still in memory";
  EXPECT_EQ(after.find(token.substr(1)), std::string::npos) << "the security token is still in memory";
  EXPECT_NE(after.find("AKID"), std::string::npos) << "the AccessKey id is not a secret and is left alone";
}

// The agent moves its Credentials (into the processor, into the cloud session). Moving a short
// string copies its bytes out of the small-string buffer and leaves them there, with size 0: the
// moved-from object's destructor must wipe them too.
TEST(Credentials, AMovedFromObjectKeepsNoByteOfTheSecret) {
  const std::string secret = "S3cr3t-v4lue", token = "T0ken-v4lue";
  alignas(Credentials) unsigned char storage[sizeof(Credentials)];
  auto* from = new (storage) Credentials("AKID", secret, token);
  const Credentials to(std::move(*from));
  EXPECT_EQ(to.access_key_secret(), secret);
  EXPECT_EQ(to.security_token(), token);
  from->~Credentials();
  const std::string after(reinterpret_cast<const char*>(storage), sizeof storage);
  EXPECT_EQ(after.find(secret.substr(1)), std::string::npos) << "the moved-from object kept the secret";
  EXPECT_EQ(after.find(token.substr(1)), std::string::npos) << "the moved-from object kept the token";
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

TEST(TimeParse, Iso8601AndRfc3339AndHttpDate) {
  std::int64_t s = 0;
  ASSERT_TRUE(parse_iso8601_utc("2023-10-26T10:22:32Z", s));
  EXPECT_EQ(s, 1698315752);
  for (const char* bad : {"2023-10-26T10:22:32", "2023-13-26T10:22:32Z", "2023-02-29T00:00:00Z",
                          "2023-10-26 10:22:32Z", "2023-10-26T10:22:60Z", ""})
    EXPECT_FALSE(parse_iso8601_utc(bad, s)) << bad;
  EXPECT_TRUE(parse_iso8601_utc("2024-02-29T00:00:00Z", s));
  std::int64_t ms = 0;
  ASSERT_TRUE(parse_rfc3339_utc_ms("2023-10-26T10:22:32.250Z", ms));
  EXPECT_EQ(ms, 1698315752250);
  ASSERT_TRUE(parse_rfc3339_utc_ms("2023-10-26T10:22:32+00:00", ms));
  EXPECT_EQ(ms, 1698315752000);
  for (const char* bad : {"2023-10-26T10:22:32+08:00", "2023-10-26T10:22:32.Z", "2023-10-26", "tomorrow"})
    EXPECT_FALSE(parse_rfc3339_utc_ms(bad, ms)) << bad;
  ASSERT_TRUE(parse_http_date("Thu, 26 Oct 2023 10:22:32 GMT", s));
  EXPECT_EQ(s, 1698315752);
  EXPECT_EQ(format_http_date(s), "Thu, 26 Oct 2023 10:22:32 GMT");
  for (const char* bad : {"Thu, 26 Oct 2023 10:22:32 UTC", "Thursday, 26-Oct-23 10:22:32 GMT", "Thu, 26 Foo 2023 10:22:32 GMT"})
    EXPECT_FALSE(parse_http_date(bad, s)) << bad;
}

}  // namespace
}  // namespace swas
