// The gateway's retained status message (online/offline with counters), for dashboards.
#pragma once
#include <cstdint>
#include <string>

namespace swas {

struct StatusSnapshot {
  std::string gateway_id;
  std::string version;
  std::string started_at;  // RFC 3339 UTC
  bool online = true;
  std::uint64_t received = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t rejected = 0;
  std::uint64_t in_flight = 0;
  std::string last_error;  // empty: null
};

// {"type":"status","state":"online",...}; an offline status carries no counters.
std::string encode_status(const StatusSnapshot& s);

}  // namespace swas
