// Every field rule of contract §3.
#include "command.hpp"

#include <gtest/gtest.h>

#include "limits.hpp"

namespace swas {
namespace {

const char* kGw = "gw-001";

CommandRejection rejected(const std::string& payload) {
  auto parsed = parse_command(payload, kGw);
  EXPECT_TRUE(std::holds_alternative<CommandRejection>(parsed)) << payload;
  if (auto* r = std::get_if<CommandRejection>(&parsed)) return *r;
  return {std::nullopt, AgentError::Busy, "not rejected"};
}

StopCommand accepted(const std::string& payload) {
  auto parsed = parse_command(payload, kGw);
  EXPECT_TRUE(std::holds_alternative<StopCommand>(parsed)) << payload;
  if (auto* c = std::get_if<StopCommand>(&parsed)) return *c;
  return {};
}

TEST(Command, ContractExampleIsAccepted) {
  const auto c = accepted(R"({"id":"c-20261126-0001","action":"StopInstance",
      "InstanceId":"ace0706b2ac4454d984295a94213****","RegionId":"cn-hangzhou",
      "ClientToken":"123e4567-e89b-12d3-a456-426655440000"})");
  EXPECT_EQ(c.id, "c-20261126-0001");
  EXPECT_EQ(c.action, "StopInstance");
  EXPECT_EQ(c.instance_id, "ace0706b2ac4454d984295a94213****");
  EXPECT_EQ(c.region_id, "cn-hangzhou");
  EXPECT_EQ(c.client_token, "123e4567-e89b-12d3-a456-426655440000");
  EXPECT_FALSE(c.client_token_derived);
}

TEST(Command, TypeCommandIsACommandAndOtherTypesAreIgnored) {
  accepted(R"({"type":"command","id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r"})");
  for (const char* t : {"result", "status", ""}) {
    auto parsed = parse_command(std::string(R"({"type":")") + t + R"(","id":"a"})", kGw);
    ASSERT_TRUE(std::holds_alternative<NotACommand>(parsed)) << t;
  }
  EXPECT_EQ(rejected(R"({"type":5,"id":"a"})").code, AgentError::InvalidCommand);
}

TEST(Command, DerivedClientTokenIsStableAsciiAndPerGatewayAndId) {
  const auto a = accepted(R"({"id":"x1","action":"StopInstance","InstanceId":"i","RegionId":"r"})");
  const auto b = accepted(R"({"id":"x1","action":"StopInstance","InstanceId":"i","RegionId":"r"})");
  EXPECT_TRUE(a.client_token_derived);
  EXPECT_EQ(a.client_token, b.client_token);
  EXPECT_EQ(a.client_token.size(), 36u);
  EXPECT_TRUE(is_printable_ascii(a.client_token, 64));
  EXPECT_NE(derive_client_token("gw-001", "x1"), derive_client_token("gw-002", "x1"));
  EXPECT_NE(derive_client_token("gw-001", "x1"), derive_client_token("gw-001", "x2"));
  // An empty ClientToken means "derive one" as well.
  const auto c = accepted(R"({"id":"x1","action":"StopInstance","InstanceId":"i","RegionId":"r","ClientToken":""})");
  EXPECT_EQ(c.client_token, a.client_token);
}

TEST(Command, UnreadablePayloadsAreInvalidCommandWithNullId) {
  for (const char* p : {"", "not json", "{", "[1,2]", "\"s\"", "42", "null", R"({"id":"a"} trailing)"}) {
    const auto r = rejected(p);
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << p;
    EXPECT_FALSE(r.id.has_value()) << p;
  }
}

TEST(Command, OversizePayloadIsRefusedWithoutParsing) {
  std::string big = R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","pad":")";
  big += std::string(limits::kMaxCommandBytes, 'x') + "\"}";
  const auto r = rejected(big);
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_NE(r.message.find("8192"), std::string::npos);
  // Exactly at the limit is still accepted.
  std::string edge = R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","pad":")";
  edge += std::string(limits::kMaxCommandBytes - edge.size() - 2, 'x') + "\"}";
  ASSERT_EQ(edge.size(), limits::kMaxCommandBytes);
  accepted(edge);
}

TEST(Command, NestingBeyondTheBoundIsInvalidCommandAndTheBoundItselfAccepted) {
  // The command object is level 1; an unknown member "pad" nests the rest, arrays or objects.
  const auto with_pad = [](const std::string& pad) {
    return R"({"id":"c-1","action":"StopInstance","InstanceId":"i","RegionId":"r","pad":)" + pad + "}";
  };
  const auto arrays = [](std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  const auto objects = [](std::size_t levels) {
    std::string s;
    for (std::size_t i = 0; i < levels; ++i) s += R"({"a":)";
    return s + "1" + std::string(levels, '}');
  };
  for (const auto& pad : {arrays(limits::kMaxJsonDepth - 1), objects(limits::kMaxJsonDepth - 1)})
    EXPECT_EQ(accepted(with_pad(pad)).id, "c-1") << pad;
  // One level more, the 21 levels of the design review, and cJSON's own limit of 1000.
  for (const auto& pad : {arrays(limits::kMaxJsonDepth), objects(limits::kMaxJsonDepth), arrays(20), arrays(1000)}) {
    const auto r = rejected(with_pad(pad));
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << pad;
    EXPECT_FALSE(r.id.has_value()) << "refused before it is parsed: no id to echo";
    EXPECT_EQ(r.message, "payload nests objects and arrays more than 8 levels deep");
  }
  // Brackets inside strings are text, not nesting.
  accepted(with_pad(R"(")" + std::string(50, '[') + R"(")"));
}

TEST(Command, IdRules) {
  EXPECT_EQ(rejected(R"({"action":"StopInstance","InstanceId":"i","RegionId":"r"})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":7,"action":"StopInstance"})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":"","action":"StopInstance"})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":"tab\there","action":"StopInstance"})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":"\u00e9","action":"StopInstance"})").code, AgentError::InvalidCommand);
  const std::string id128(128, 'a');
  accepted(R"({"id":")" + id128 + R"(","action":"StopInstance","InstanceId":"i","RegionId":"r"})");
  const auto r = rejected(R"({"id":")" + id128 + R"(a","action":"StopInstance"})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_FALSE(r.id.has_value());
}

TEST(Command, ActionRules) {
  auto r = rejected(R"({"id":"a","action":"StartInstance","InstanceId":"i","RegionId":"r"})");
  EXPECT_EQ(r.code, AgentError::UnsupportedAction);
  EXPECT_EQ(r.id, "a");
  EXPECT_EQ(rejected(R"({"id":"a","InstanceId":"i","RegionId":"r"})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":"a","action":["StopInstance"]})").code, AgentError::InvalidCommand);
  EXPECT_EQ(rejected(R"({"id":"a","action":"stopinstance","InstanceId":"i","RegionId":"r"})").code,
            AgentError::UnsupportedAction);
}

TEST(Command, MissingParametersNameTheField) {
  auto r = rejected(R"({"id":"a","action":"StopInstance","RegionId":"r"})");
  EXPECT_EQ(r.code, AgentError::MissingParameter);
  EXPECT_EQ(r.message, "InstanceId is required");
  r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"","RegionId":"r"})");
  EXPECT_EQ(r.code, AgentError::MissingParameter);
  EXPECT_EQ(r.message, "InstanceId is required");
  r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i"})");
  EXPECT_EQ(r.message, "RegionId is required");
  r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":""})");
  EXPECT_EQ(r.code, AgentError::MissingParameter);
  EXPECT_EQ(r.message, "RegionId is required");
}

TEST(Command, WrongTypesAreInvalidCommand) {
  for (const char* p : {R"({"id":"a","action":"StopInstance","InstanceId":5,"RegionId":"r"})",
                        R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":null})",
                        R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","ClientToken":1})",
                        R"({"id":"a","action":"StopInstance","InstanceId":{},"RegionId":"r"})"}) {
    const auto r = rejected(p);
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << p;
    EXPECT_EQ(r.id, "a");
  }
}

TEST(Command, RegionIdCharset) {
  accepted(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"ap-southeast-1"})");
  for (const char* region : {"CN-hangzhou", "cn_hangzhou", "cn hangzhou", "cn/x", "cn.x"}) {
    const auto r = rejected(std::string(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":")") + region + "\"}");
    EXPECT_EQ(r.code, AgentError::InvalidParameter) << region;
  }
}

TEST(Command, ClientTokenRules) {
  const std::string t64(64, 't');
  accepted(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","ClientToken":")" + t64 + "\"}");
  auto r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","ClientToken":")" + t64 + "t\"}");
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","ClientToken":"caf\u00e9"})");
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  EXPECT_EQ(r.id, "a");
}

TEST(Command, DuplicateKeysAreRefused) {
  const auto r = rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i","InstanceId":"j","RegionId":"r"})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_NE(r.message.find("InstanceId"), std::string::npos);
}

TEST(Command, ADuplicateTypeIsRefusedNotIgnored) {
  // Found in review (issue 11): the first "type" made this a result, so it got no answer at all.
  auto r = rejected(R"({"type":"result","id":"a","type":"command","action":"StopInstance","InstanceId":"i","RegionId":"r"})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_EQ(r.id, "a");
  EXPECT_NE(r.message.find("duplicate key \"type\""), std::string::npos) << r.message;
  r = rejected(R"({"type":"command","type":"status","id":"b"})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_EQ(r.id, "b");
  // Whatever the values, and even when the id cannot be read: answered, with id null.
  r = rejected(R"({"type":"result","type":"result","id":17})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  EXPECT_FALSE(r.id.has_value());
  r = rejected(R"({"type":5,"type":"result","id":"c"})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
  // One "type" that is not "command" still means "not for the agent", whatever else repeats.
  EXPECT_TRUE(std::holds_alternative<NotACommand>(parse_command(R"({"type":"result","id":"a","id":"b"})", kGw)));
}

TEST(Command, UnknownFieldsAreIgnoredForForwardCompatibility) {
  accepted(R"({"id":"a","action":"StopInstance","InstanceId":"i","RegionId":"r","note":{"x":[1,2]}})");
}

TEST(Command, InstanceIdMustBeCleanUtf8) {
  accepted(R"({"id":"a","action":"StopInstance","InstanceId":"\u4e2d-1","RegionId":"r"})");
  EXPECT_EQ(rejected(R"({"id":"a","action":"StopInstance","InstanceId":"i\nj","RegionId":"r"})").code,
            AgentError::InvalidParameter);
  EXPECT_EQ(rejected("{\"id\":\"a\",\"action\":\"StopInstance\",\"InstanceId\":\"\xff\xfe\",\"RegionId\":\"r\"}").code,
            AgentError::InvalidParameter);
}

TEST(Command, NulCharactersAreRefusedNotCutShort) {
  // Found by fuzzing: cJSON ends strings at NUL, so these were read as "i-1" / "StopInstance".
  for (const std::string& p : {std::string(R"({"id":"c-1","action":"StopInstance","InstanceId":"i-1\u0000; i-2","RegionId":"r"})"),
                              std::string(R"({"id":"c-1","action":"StopInstance\u0000Reboot","InstanceId":"i-1","RegionId":"r"})"),
                              std::string("{\"id\":\"c-1\",\0\"action\":\"StopInstance\",\"InstanceId\":\"i\",\"RegionId\":\"r\"}", 68)}) {
    const auto r = rejected(p);
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << p;
    EXPECT_NE(r.message.find("NUL"), std::string::npos);
  }
  // A raw NUL right after a backslash (found by fuzzing).
  static const char kHidden[] =
      "{\"id\":\"c-1\",\"action\":\"StopInstance\",\"InstanceId\":\"i\",\"RegionId\":\"c\\ut\\\0r\"}";
  const std::string hidden(kHidden, sizeof kHidden - 1);
  EXPECT_EQ(hidden.back(), '}');
  EXPECT_NE(rejected(hidden).message.find("NUL"), std::string::npos);
  // An escaped backslash followed by "u0000" is text, not a NUL.
  const auto c = accepted(R"({"id":"c-1","action":"StopInstance","InstanceId":"i\\u0000","RegionId":"r"})");
  EXPECT_EQ(c.instance_id, "i\\u0000");
}

TEST(Command, Utf8Validator) {
  EXPECT_TRUE(is_clean_utf8("abc"));
  EXPECT_TRUE(is_clean_utf8("\xE4\xB8\xAD\xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_clean_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_clean_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_clean_utf8("\xE4\xB8"));          // truncated
  EXPECT_FALSE(is_clean_utf8(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace swas
