// Every bound the SWAS emulator enforces, in one place, each with what happens at the limit.
#pragma once
#include <cstddef>
#include <cstdint>

namespace swas::emulator {

// x-acs-date may differ from the emulator's clock by at most this much (as the real gateway);
// beyond it: 400 InvalidTimeStamp.Expired.
inline constexpr std::int64_t kMaxClockSkewMs = 15 * 60 * 1000;
// A nonce is remembered for twice the skew window: a replay is accepted by the timestamp check
// for at most that long after the first use, so it is always caught while it could pass.
inline constexpr std::int64_t kNonceMemoryMs = 2 * kMaxClockSkewMs;
// Nonces remembered at most; past it the oldest is forgotten first.
inline constexpr std::size_t kMaxRememberedNonces = 100000;
// ClientTokens remembered at most (with their first answer); past it the oldest is forgotten.
inline constexpr std::size_t kMaxRememberedClientTokens = 10000;
// ClientToken: at most 64 ASCII characters (seed); longer: 400 InvalidParameter.
inline constexpr std::size_t kMaxClientTokenChars = 64;
// ListInstanceStatus: InstanceIds holds at most this many ids (documented); more: 400
// InvalidParameter. PageSize is 1..kMaxPageSize (documented maximum 100), default
// kDefaultPageSize; outside: 400 InvalidParameter.
inline constexpr std::size_t kMaxListInstanceIds = 100;
inline constexpr std::int64_t kMaxPageSize = 100;
inline constexpr std::int64_t kDefaultPageSize = 10;
// PageNumber is 1..kMaxPageNumber; outside: 400 InvalidParameter.
inline constexpr std::int64_t kMaxPageNumber = 1000000000;
// StopInstances: InstanceIds holds 1..kMaxStopInstanceIds ids (documented); more, none, or not a
// JSON array of non-empty strings: 400 InvalidParameter.
inline constexpr std::size_t kMaxStopInstanceIds = 100;
// Quotas ("N/<window>"): N is 1..kMaxQuotaLimit (each counted call keeps one timestamp per action
// and AccessKey, so this bounds the memory), the window 1 ms..kMaxQuotaWindowMs (one day).
// Outside: a config or admin error naming the action.
inline constexpr std::int64_t kMaxQuotaLimit = 100000;
inline constexpr std::int64_t kMaxQuotaWindowMs = 24LL * 3600 * 1000;
// Distinct x-acs-action names counted in the admin state's "actions"; requests naming a further
// one are counted under "(other)", so a client cannot grow the map without bound.
inline constexpr std::size_t kMaxActionNames = 32;
// Entries kept in the admin request log; older ones are dropped.
inline constexpr std::size_t kMaxLogEntries = 1000;

// Connections served at once; a connection accepted past it is closed at once.
inline constexpr std::size_t kMaxConnections = 64;
// A connection idle (no bytes from the client) this long is closed; also bounds the handshake.
inline constexpr std::uint32_t kIdleTimeoutMs = 30000;
// A response write blocked this long (client not reading) fails and the connection is closed.
inline constexpr std::uint32_t kSendTimeoutMs = 30000;

}  // namespace swas::emulator
