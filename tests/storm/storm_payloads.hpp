// A deterministic generator of hostile command payloads for the bad-input storm, each with the
// answer the contract (docs/contract.md §3) requires. None of them may ever reach the cloud.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace swas::storm {

struct StormPayload {
  enum class Expect {
    Id,       // one result carrying `id` (a validation error, or Busy)
    NullId,   // one result with "id": null (the id could not be read)
    Ignored,  // no result (a message whose type is not "command")
  };
  std::string payload;
  Expect expect = Expect::NullId;
  std::string id;    // for Expect::Id
  std::string kind;  // what it exercises, for failure messages
};

// `count` payloads from `seed`; the same arguments always give the same payloads. Readable ids
// are unique ("s-<index>..."), so every result can be traced back to its payload.
std::vector<StormPayload> make_storm(std::uint64_t seed, std::size_t count);

// The payload with non-printable bytes escaped and long runs cut, for failure messages.
std::string printable(const std::string& payload, std::size_t max_chars = 160);

}  // namespace swas::storm
