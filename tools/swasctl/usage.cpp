// swasctl's help texts (see docs/fleet.md for the longer story).
#include "cli.hpp"

namespace swasctl {
namespace {

const char* const kBrokerHelp =
    "Broker (the same settings as the agent's mqtt config):\n"
    "  --broker URI           tcp:// or mqtt:// (plain), ssl:// or mqtts:// (TLS), ws:// or wss://\n"
    "  --cafile FILE          CA certificate(s) that verify the broker (TLS only)\n"
    "  --cert FILE --key FILE client certificate and its key (TLS only)\n"
    "  --username NAME        MQTT user name\n"
    "  --password-file FILE   MQTT password (file mode 600; one trailing newline is ignored)\n";

}  // namespace

std::string main_usage() {
  return "usage: swasctl stop --broker URI --gateway ID --instance ID [--instance ID ...] --region ID [options]\n"
         "       swasctl status --broker URI [--gateway ID] [options]\n"
         "       swasctl help stop|status | --help | --version\n"
         "\n"
         "Operates swas-agent gateways over MQTT 5.\n"
         "  stop     stop instances (1 to 100, one region) through a gateway and wait for the result\n"
         "  status   list gateways from their retained status messages\n"
         "\n"
         "Exit status: 0 ok, 1 the cloud or the agent answered with an error (or, for status\n"
         "--gateway, the gateway is offline), 2 usage error (or an unsafe --password-file),\n"
         "3 no answer in time, 4 the broker could not be reached or refused us; stop --wait\n"
         "also: 5 an instance did not reach Stopped in time, 6 an instance will not stop or\n"
         "could not be followed (6 wins over 5).\n";
}

std::string stop_usage() {
  return std::string(
             "usage: swasctl stop --broker URI --gateway ID --instance ID [--instance ID ...] --region ID\n"
             "                    [--force] [--client-token T] [--id ID] [--timeout 30s] [--expires D]\n"
             "                    [--json] [--wait [--wait-timeout 11m]]\n"
             "                    [--command-topic TOPIC] [--command-key-file F] [TLS and login options]\n"
             "\n"
             "Publishes a StopInstance command (QoS 1, MQTT 5) to swas/<gateway>/commands with a\n"
             "response topic of its own, waits for the gateway's result and prints it.\n"
             "  --gateway ID           the gateway's gateway_id\n"
             "  --instance ID ...      InstanceId of a Simple Application Server instance. Give it up\n"
             "                         to 100 times to stop several instances of the region with one\n"
             "                         command: the gateway makes one StopInstances call (all of them,\n"
             "                         or on an error none) and sends one result\n"
             "  --region ID            RegionId, for example cn-hangzhou\n"
             "  --force                force stop (ForceStop: like cutting the power; unsaved data may\n"
             "                         be lost). Sent as InstanceIds, even for one instance\n"
             "  --client-token T       idempotency token (default: the agent derives one from\n"
             "                         the gateway and the command id)\n"
             "  --id ID                command id (default: a new one). Resending a command with\n"
             "                         the same id never stops an instance twice\n"
             "  --timeout D            how long to wait for the result (default 30s; 500ms, 2m). A\n"
             "                         gateway that queues the stop for the cloud's rate limit says\n"
             "                         so (a QUEUED line on stderr); that does not extend the\n"
             "                         --timeout: under a rate limit give it, and --expires, more time\n"
             "  --expires D            MQTT message expiry: the command is dropped if it has not\n"
             "                         started by then, e.g. while the gateway is offline or the\n"
             "                         stop waits for the rate limit (default: the --timeout, rounded\n"
             "                         up to seconds)\n"
             "  --json                 print the result message as the agent sent it (with --wait,\n"
             "                         each lifecycle message too, one per line)\n"
             "  --wait                 after the result, wait until the gateway reports every\n"
             "                         instance Stopped (or gives up), printing each status change,\n"
             "                         e.g. 'Stopping (0.4 s)', then 'Stopped after 31.9 s' (with\n"
             "                         several instances, each line starts with its InstanceId)\n"
             "  --wait-timeout D       how long --wait waits, counted from the result (default 11m:\n"
             "                         the agent's default follow.deadline_s of 10m, plus 1m)\n"
             "  --command-topic TOPIC  when the agent's mqtt.command_topic is not the default\n"
             "  --command-key-file F   sign the command with this key (the gateway's\n"
             "                         policy.command_key_file): adds issuedAt and signature; one\n"
             "                         --instance only, without --force\n"
             "\n") +
         kBrokerHelp +
         "\n"
         "Exit status: 0 the cloud accepted the stop (RequestId printed; with --wait: and every\n"
         "instance is Stopped), 1 the cloud or the agent refused it, 2 usage error, 3 no result\n"
         "in time (with --wait also: no lifecycle message in time, as from an older agent or one\n"
         "with follow.enabled false), 4 broker unreachable. With --wait: 5 not Stopped in time\n"
         "(TimedOut, or --wait-timeout ran out after progress), 6 it will not stop or could not\n"
         "be followed (UnexpectedStatus, NotFound, PollFailed, NotFollowed). With several\n"
         "instances the worst one counts: 6 if any will not stop, else 5 if any is not Stopped.\n";
}

std::string status_usage() {
  return std::string(
             "usage: swasctl status --broker URI [--gateway ID] [--wait 2s] [--json]\n"
             "                      [--status-topic FILTER] [TLS and login options]\n"
             "\n"
             "Lists gateways from the retained status messages on swas/+/status: online or\n"
             "offline, version, command counters and the last error.\n"
             "  --gateway ID           only this gateway; returns as soon as its status arrives\n"
             "  --wait D               how long to collect status messages (default 2s)\n"
             "  --json                 print a JSON array of the status messages\n"
             "  --status-topic FILTER  when the agents' mqtt.status_topic is not the default\n"
             "\n") +
         kBrokerHelp +
         "\n"
         "Exit status: 0 listed (with --gateway: it is online), 1 with --gateway: it is offline,\n"
         "2 usage error, 3 no status received in time, 4 broker unreachable.\n";
}

}  // namespace swasctl
