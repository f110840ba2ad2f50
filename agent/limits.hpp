// Every bound the agent enforces, in one place, with its documented default (docs/limits.md).
#pragma once
#include <cstddef>
#include <cstdint>

namespace swas::limits {

// Largest command payload accepted, in bytes (contract §3). Larger: InvalidCommand.
inline constexpr std::size_t kMaxCommandBytes = 8 * 1024;
// Command id: 1..128 printable ASCII characters (contract §3).
inline constexpr std::size_t kMaxCommandIdChars = 128;
// ClientToken: at most 64 ASCII characters (seed, contract §3).
inline constexpr std::size_t kMaxClientTokenChars = 64;
// InstanceId / RegionId: the API gives no limit; we refuse absurd sizes so a result stays small.
inline constexpr std::size_t kMaxInstanceIdChars = 256;
inline constexpr std::size_t kMaxRegionIdChars = 64;
// InstanceIds of one command (one StopInstances call; the API's maximum).
inline constexpr std::size_t kMaxInstanceIdsPerCommand = 100;
// A command's MQTT 5 Response Topic: at most this many bytes of UTF-8, no wildcard, no '$' at the
// start, no control character. Longer or otherwise unusable: InvalidCommand on the command topic.
inline constexpr std::size_t kMaxResponseTopicBytes = 256;
// A command's MQTT 5 Correlation Data (echoed with its result): at most this many bytes.
inline constexpr std::size_t kMaxCorrelationDataBytes = 256;
// MQTT 5 Maximum Packet Size the agent announces in CONNECT: the broker drops larger packets
// before they reach the agent (a command is at most kMaxCommandBytes of payload plus its topic and
// properties). Paho and the agent never hold a larger inbound packet in memory.
inline constexpr std::uint32_t kMaxInboundPacketBytes = 16 * 1024;
// Nesting of objects and arrays accepted in JSON from a peer, counted before cJSON parses it (the
// outermost object is level 1): a command nested deeper is refused as InvalidCommand, a cloud
// answer (StopInstance's, ListInstanceStatus's) nested deeper is unreadable (InvalidCloudResponse).
// The documented messages need at most 3 (a ListInstanceStatus answer); cJSON's own
// CJSON_NESTING_LIMIT (1000) is far above.
inline constexpr std::size_t kMaxJsonDepth = 8;

// Largest HTTP response (headers + body) read from the cloud. Larger: the connection is dropped
// and the attempt fails as a protocol error.
inline constexpr std::size_t kMaxHttpResponseBytes = 64 * 1024;
// Longest string field (Code, Message, RequestId, HostId, Recommend) taken from the cloud's answer
// into a result. Longer: the answer is unreadable (InvalidCloudResponse). Real answers are far
// shorter; the bound keeps every journal record small (docs/limits.md).
inline constexpr std::size_t kMaxCloudFieldBytes = 1024;
// Largest HTTP request the emulator accepts.
inline constexpr std::size_t kMaxHttpRequestBytes = 64 * 1024;

// Files read at start-up. Larger: a configuration error naming the file, exit 2.
// The config file (--config).
inline constexpr std::size_t kMaxConfigFileBytes = 64 * 1024;
// A secret file: credentials_file, mqtt.password_file, policy.command_key_file (and swasctl's
// --password-file).
inline constexpr std::size_t kMaxSecretFileBytes = 16 * 1024;

// Commands waiting for the worker. Past it a command is answered Busy at once.
inline constexpr std::size_t kDefaultQueueDepth = 64;
// Messages the MQTT thread hands to the intake thread before it waits for room (then it reads no
// more from the broker, which keeps the rest); the intake thread journals up to this many in one
// commit. Paho acknowledges a QoS 1 message before handing it over, so at a crash at most
// 2 x this + 1 acknowledged commands are not yet journaled (docs/reliability.md).
inline constexpr std::size_t kIntakeQueueDepth = 16;

// Retry rule for one command: attempts in all (first + retries), backoff between them, and a
// total deadline after which no new attempt starts (cloud.retry in the config).
inline constexpr int kDefaultMaxAttempts = 8;
inline constexpr std::uint32_t kDefaultBackoffBaseMs = 200;
inline constexpr std::uint32_t kDefaultBackoffMaxMs = 10000;
inline constexpr std::uint32_t kDefaultCommandDeadlineMs = 120000;

// Commands executing at once (each with its own HTTPS connection): commands.max_in_flight.
inline constexpr std::size_t kDefaultMaxInFlight = 4;

// Journal: records kept at most, and how long a finished, acknowledged command id is remembered.
inline constexpr std::size_t kDefaultJournalMaxRecords = 10000;
inline constexpr std::uint32_t kDefaultJournalRetentionS = 24 * 3600;
// How often unacknowledged results are published again.
inline constexpr std::uint32_t kRepublishIntervalMs = 30000;
// After a reconnect, results finished longer ago than this and still unacknowledged go out again.
inline constexpr std::uint32_t kRepublishAfterReconnectMs = 3000;

// The largest clock correction taken from the cloud's Date header, either way. A Date further off
// is not believed (logged; the clock needs NTP): a hostile endpoint cannot move the agent's time
// by more than this. Command authentication never uses the correction at all.
inline constexpr std::int64_t kMaxClockCorrectionMs = 24LL * 3600 * 1000;

// Following a successful stop (follow.* in the config): a region is polled with
// ListInstanceStatus at most once per interval; a follow ends TimedOut after the deadline; at most
// this many follows are kept (counting final messages awaiting the broker's ack); beyond: NotFollowed.
inline constexpr std::uint32_t kDefaultFollowIntervalMs = 10000;
inline constexpr std::uint32_t kDefaultFollowDeadlineS = 600;
inline constexpr std::size_t kDefaultFollowMaxInstances = 1000;
// InstanceIds in one ListInstanceStatus call (the API's documented maximum).
inline constexpr std::size_t kMaxInstanceIdsPerPoll = 100;
// A Status from ListInstanceStatus longer than this, or not printable ASCII, is not believed.
inline constexpr std::size_t kMaxInstanceStatusChars = 64;

// How long a command without an expiry may wait for the cloud's rate quota (cloud.quota_max_wait_s).
inline constexpr std::uint32_t kDefaultQuotaMaxWaitS = 3600;
// At most one progress message (RateLimited) per command in this time.
inline constexpr std::int64_t kProgressIntervalMs = 30000;

// Cloud time budget of one attempt (connect, TLS handshake, request, whole response), contract §2 default.
inline constexpr std::uint32_t kDefaultCloudTimeoutMs = 10000;

}  // namespace swas::limits
