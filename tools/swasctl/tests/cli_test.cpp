// swasctl's command line: every option, every check, and the exit-status-2 cases.
#include "cli.hpp"

#include <gtest/gtest.h>

namespace swasctl {
namespace {

using namespace std::chrono_literals;

Invocation parse(std::vector<std::string> args) { return parse_command_line(args, "9.9.9"); }

std::vector<std::string> stop_args() {
  return {"stop", "--broker", "tcp://127.0.0.1:1883", "--gateway", "gw-001", "--instance", "i-1",
          "--region", "cn-hangzhou"};
}

std::string usage_error(std::vector<std::string> args) {
  const Invocation inv = parse(std::move(args));
  const auto* e = std::get_if<UsageError>(&inv);
  return e ? e->message : "<no usage error>";
}

TEST(Cli, StopWithTheRequiredOptionsHasTheDefaults) {
  const Invocation inv = parse(stop_args());
  const auto* o = std::get_if<StopOptions>(&inv);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->broker.uri, "tcp://127.0.0.1:1883");
  EXPECT_EQ(o->gateway, "gw-001");
  EXPECT_EQ(o->instances, std::vector<std::string>{"i-1"});
  EXPECT_FALSE(o->force);
  EXPECT_FALSE(o->uses_instance_ids());  // one instance: InstanceId, as before issue 13
  EXPECT_EQ(o->region, "cn-hangzhou");
  EXPECT_EQ(o->command_topic, "swas/gw-001/commands");
  EXPECT_EQ(o->timeout, 30000ms);
  EXPECT_EQ(o->expires, 30000ms);  // the timeout
  EXPECT_TRUE(o->id.empty());
  EXPECT_TRUE(o->client_token.empty());
  EXPECT_FALSE(o->json);
  EXPECT_FALSE(o->wait);
  EXPECT_EQ(o->wait_timeout, 660000ms);  // the agent's default follow.deadline_s (600 s) and a minute
  EXPECT_FALSE(o->broker.tls());
}

TEST(Cli, WaitAndItsTimeout) {
  auto args = stop_args();
  args.insert(args.end(), {"--wait"});
  Invocation inv = parse(args);
  ASSERT_TRUE(std::holds_alternative<StopOptions>(inv));
  EXPECT_TRUE(std::get<StopOptions>(inv).wait);
  EXPECT_EQ(std::get<StopOptions>(inv).wait_timeout, 660000ms);
  EXPECT_EQ(std::get<StopOptions>(inv).timeout, 30000ms);  // --timeout still waits for the result
  EXPECT_EQ(std::get<StopOptions>(inv).expires, 30000ms);
  args.insert(args.end(), {"--wait-timeout=90s", "--timeout", "5s"});
  inv = parse(args);
  ASSERT_TRUE(std::holds_alternative<StopOptions>(inv));
  EXPECT_EQ(std::get<StopOptions>(inv).wait_timeout, 90000ms);
  EXPECT_EQ(std::get<StopOptions>(inv).timeout, 5000ms);
}

TEST(Cli, WaitTimeoutNeedsWaitAndAReadableDuration) {
  auto with = [](std::vector<std::string> extra) {
    auto args = stop_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error(args);
  };
  EXPECT_NE(with({"--wait-timeout", "5m"}).find("--wait-timeout needs --wait"), std::string::npos);
  EXPECT_NE(with({"--wait", "--wait-timeout", "forever"}).find("--wait-timeout 'forever'"), std::string::npos);
  EXPECT_NE(with({"--wait", "--wait-timeout", "2h"}).find("--wait-timeout '2h'"), std::string::npos);
  EXPECT_NE(with({"--wait", "--wait-timeout"}).find("--wait-timeout needs a value"), std::string::npos);
  EXPECT_NE(with({"--wait=yes"}).find("--wait takes no value"), std::string::npos);
}

TEST(Cli, StopOptionalOptionsInBothSpellings) {
  auto args = stop_args();
  args.insert(args.end(), {"--client-token=tok-1", "--id", "c-1", "--timeout=1.5s", "--json",
                           "--command-topic", "site/a/cmd"});
  const Invocation inv = parse(args);
  const auto* o = std::get_if<StopOptions>(&inv);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->client_token, "tok-1");
  EXPECT_EQ(o->id, "c-1");
  EXPECT_EQ(o->timeout, 1500ms);
  EXPECT_EQ(o->expires, 1500ms);
  EXPECT_TRUE(o->json);
  EXPECT_EQ(o->command_topic, "site/a/cmd");
}

TEST(Cli, ExpiresDefaultsToTheTimeoutUnlessGiven) {
  auto args = stop_args();
  args.insert(args.end(), {"--timeout", "5s", "--expires", "10m"});
  const Invocation inv = parse(args);
  ASSERT_TRUE(std::holds_alternative<StopOptions>(inv));
  EXPECT_EQ(std::get<StopOptions>(inv).timeout, 5000ms);
  EXPECT_EQ(std::get<StopOptions>(inv).expires, 600000ms);
}

TEST(Cli, StopRequiresBrokerGatewayInstanceRegion) {
  EXPECT_NE(usage_error({"stop", "--gateway", "g", "--instance", "i", "--region", "r"}).find("--broker is required"),
            std::string::npos);
  EXPECT_NE(usage_error({"stop", "--broker", "tcp://h", "--instance", "i", "--region", "r"}).find("--gateway is required"),
            std::string::npos);
  EXPECT_NE(usage_error({"stop", "--broker", "tcp://h", "--gateway", "g", "--region", "r"}).find("--instance is required"),
            std::string::npos);
  EXPECT_NE(usage_error({"stop", "--broker", "tcp://h", "--gateway", "g", "--instance", "i"}).find("--region is required"),
            std::string::npos);
}

TEST(Cli, SeveralInstancesInTheOrderGiven) {
  auto args = stop_args();
  args.insert(args.end(), {"--instance", "i-2", "--instance=i-3"});
  const Invocation inv = parse(args);
  const auto* o = std::get_if<StopOptions>(&inv);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->instances, (std::vector<std::string>{"i-1", "i-2", "i-3"}));
  EXPECT_TRUE(o->uses_instance_ids());
  EXPECT_FALSE(o->force);
}

TEST(Cli, ForceWithOneInstanceUsesInstanceIds) {
  auto args = stop_args();
  args.push_back("--force");
  const Invocation inv = parse(args);
  const auto* o = std::get_if<StopOptions>(&inv);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->force);
  EXPECT_EQ(o->instances.size(), 1u);
  EXPECT_TRUE(o->uses_instance_ids());  // the contract allows ForceStop only with InstanceIds
  args.push_back("--force=yes");
  EXPECT_NE(usage_error(args).find("--force takes no value"), std::string::npos);
}

TEST(Cli, AHundredInstancesAtMost) {
  std::vector<std::string> args = {"stop", "--broker", "tcp://h", "--gateway", "g", "--region", "r"};
  for (int i = 0; i < 100; ++i) args.insert(args.end(), {"--instance", "i-" + std::to_string(i)});
  const Invocation hundred = parse(args);
  ASSERT_TRUE(std::holds_alternative<StopOptions>(hundred)) << usage_error(args);
  EXPECT_EQ(std::get<StopOptions>(hundred).instances.size(), 100u);
  args.insert(args.end(), {"--instance", "i-100"});
  const std::string e = usage_error(args);
  EXPECT_NE(e.find("101 instances: one command stops at most 100"), std::string::npos) << e;
}

TEST(Cli, InstancesMustBeDistinctAndNotEmpty) {
  auto with = [](std::vector<std::string> extra) {
    auto args = stop_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error(args);
  };
  EXPECT_NE(with({"--instance", "i-2", "--instance", "i-1"}).find("--instance 'i-1' is given twice"),
            std::string::npos);
  EXPECT_NE(with({"--instance", ""}).find("--instance must not be empty"), std::string::npos);
  EXPECT_NE(with({"--instance="}).find("--instance must not be empty"), std::string::npos);
  EXPECT_NE(with({"--instance"}).find("--instance needs a value"), std::string::npos);
  // The signed form (docs/security.md) has one InstanceId and no ForceStop.
  EXPECT_NE(with({"--instance", "i-2", "--command-key-file", "k"}).find("--command-key-file signs commands for one"),
            std::string::npos);
  EXPECT_NE(with({"--force", "--command-key-file", "k"}).find("--command-key-file"), std::string::npos);
}

TEST(Cli, RejectsBadValues) {
  auto with = [](std::vector<std::string> extra) {
    auto args = stop_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error(args);
  };
  EXPECT_NE(with({"--gateway", "gw/+"}).find("is not valid"), std::string::npos);
  EXPECT_NE(with({"--timeout", "soon"}).find("--timeout 'soon'"), std::string::npos);
  EXPECT_NE(with({"--timeout", "0s"}).find("--timeout"), std::string::npos);
  EXPECT_NE(with({"--expires", "500ms"}).find("--expires '500ms'"), std::string::npos);
  EXPECT_NE(with({"--expires", "2h"}).find("--expires"), std::string::npos);
  EXPECT_NE(with({"--id", std::string(129, 'x')}).find("--id"), std::string::npos);
  EXPECT_NE(with({"--id", "tab\there"}).find("--id"), std::string::npos);
  EXPECT_NE(with({"--command-topic", "swas/#"}).find("without + or #"), std::string::npos);
  EXPECT_NE(with({"--bogus"}).find("unknown argument '--bogus'"), std::string::npos);
  EXPECT_NE(with({"stray"}).find("unknown argument 'stray'"), std::string::npos);
  EXPECT_NE(with({"--json=yes"}).find("--json takes no value"), std::string::npos);
  EXPECT_NE(with({"--region"}).find("--region needs a value"), std::string::npos);
}

TEST(Cli, BrokerSchemesAndTls) {
  auto broker = [](std::string uri, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"status", "--broker", uri};
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(args);
  };
  for (const char* ok : {"tcp://h:1", "mqtt://h", "ssl://h:8883", "mqtts://h", "ws://h:9001", "wss://h"})
    EXPECT_TRUE(std::holds_alternative<StatusOptions>(broker(ok))) << ok;
  EXPECT_TRUE(std::holds_alternative<UsageError>(broker("http://h")));
  EXPECT_TRUE(std::holds_alternative<UsageError>(broker("tcp://")));
  EXPECT_TRUE(std::holds_alternative<UsageError>(broker("tcp://h", {"--cafile", "ca.pem"})));
  EXPECT_TRUE(std::holds_alternative<UsageError>(broker("mqtts://h", {"--cert", "c.pem"})));
  EXPECT_TRUE(std::holds_alternative<UsageError>(broker("mqtts://h", {"--password-file", "p"})));
  const Invocation tls = broker("mqtts://h", {"--cafile", "ca.pem", "--cert", "c.pem", "--key", "k.pem",
                                              "--username", "op", "--password-file", "p"});
  const auto* o = std::get_if<StatusOptions>(&tls);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->broker.tls());
  EXPECT_EQ(o->broker.ca_file, "ca.pem");
  EXPECT_EQ(o->broker.cert_file, "c.pem");
  EXPECT_EQ(o->broker.key_file, "k.pem");
  EXPECT_EQ(o->broker.username, "op");
  EXPECT_EQ(o->broker.password_file, "p");
}

TEST(Cli, StatusDefaultsAndOneGateway) {
  Invocation all = parse({"status", "--broker", "tcp://h"});
  ASSERT_TRUE(std::holds_alternative<StatusOptions>(all));
  EXPECT_EQ(std::get<StatusOptions>(all).status_topic, "swas/+/status");
  EXPECT_EQ(std::get<StatusOptions>(all).wait, 2000ms);
  Invocation one = parse({"status", "--broker", "tcp://h", "--gateway", "gw-7", "--wait", "500ms", "--json"});
  ASSERT_TRUE(std::holds_alternative<StatusOptions>(one));
  EXPECT_EQ(std::get<StatusOptions>(one).status_topic, "swas/gw-7/status");
  EXPECT_EQ(std::get<StatusOptions>(one).wait, 500ms);
  EXPECT_TRUE(std::get<StatusOptions>(one).json);
}

TEST(Cli, HelpVersionAndUnknownCommands) {
  EXPECT_NE(std::get<HelpRequest>(parse({"--help"})).text.find("usage: swasctl stop"), std::string::npos);
  EXPECT_NE(std::get<HelpRequest>(parse({"stop", "--help"})).text.find("--client-token"), std::string::npos);
  const std::string stop_help = std::get<HelpRequest>(parse({"help", "stop"})).text;
  EXPECT_NE(stop_help.find("--wait-timeout D"), std::string::npos);
  EXPECT_NE(stop_help.find("5 not Stopped in time"), std::string::npos);
  EXPECT_NE(stop_help.find("--instance ID ..."), std::string::npos);
  EXPECT_NE(stop_help.find("--force"), std::string::npos);
  EXPECT_NE(stop_help.find("does not extend"), std::string::npos);  // progress and --timeout
  EXPECT_NE(std::get<HelpRequest>(parse({"--help"})).text.find("6 an instance will not stop"), std::string::npos);
  EXPECT_NE(std::get<HelpRequest>(parse({"status", "-h"})).text.find("--wait"), std::string::npos);
  EXPECT_NE(std::get<HelpRequest>(parse({"help", "status"})).text.find("--status-topic"), std::string::npos);
  EXPECT_EQ(std::get<HelpRequest>(parse({"--version"})).text, "swasctl 9.9.9\n");
  EXPECT_NE(usage_error({}).find("a command is required"), std::string::npos);
  EXPECT_NE(usage_error({"reboot"}).find("unknown command 'reboot'"), std::string::npos);
}

TEST(Duration, Forms) {
  EXPECT_EQ(parse_duration("30s"), 30000ms);
  EXPECT_EQ(parse_duration("30"), 30000ms);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("2m"), 120000ms);
  EXPECT_EQ(parse_duration("0.25s"), 250ms);
  EXPECT_EQ(parse_duration("1h"), std::nullopt);
  EXPECT_EQ(parse_duration("61m"), std::nullopt);
  EXPECT_EQ(parse_duration("0"), std::nullopt);
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
  EXPECT_EQ(parse_duration("1e3"), std::nullopt);
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(format_duration(30000ms), "30s");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(1050ms), "1.05s");
}

}  // namespace
}  // namespace swasctl
