// How the HTTP framing targets split a fuzz input into the reads of a connection, so that the
// fuzzer chooses where the TCP segments end. Seeds stay hand-writable text:
//   byte 0, bits 0-2: n, the number of chunk-size bytes that follow (0: one read of everything)
//   byte 0, bit 3:    use a small bound (kSmallBound) instead of the production one
//   bytes 1..n:       chunk sizes, each value + 1, used in turn
//   the rest:         the bytes the peer sends; then the peer closes
// '0' (0x30) = one read, production bound; '8' (0x38) = one read, small bound.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace swas::fuzz {

inline constexpr std::size_t kSmallBound = 512;

struct ChunkedInput {
  bool small_bound = false;
  std::vector<std::size_t> sizes;  // empty: one read
  std::string_view stream;

  // The reads, in order (the last one may be shorter).
  std::vector<std::string_view> reads() const {
    std::vector<std::string_view> out;
    if (sizes.empty()) {
      if (!stream.empty()) out.push_back(stream);
      return out;
    }
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < stream.size(); ++i) {
      const std::size_t n = sizes[i % sizes.size()];
      out.push_back(stream.substr(pos, n));
      pos += n;
    }
    return out;
  }
};

inline ChunkedInput split_chunked(const std::uint8_t* data, std::size_t size) {
  ChunkedInput in;
  if (size == 0) return in;
  const std::size_t n = data[0] & 0x07u;
  in.small_bound = (data[0] & 0x08u) != 0;
  std::size_t pos = 1;
  for (std::size_t i = 0; i < n && pos < size; ++i, ++pos) in.sizes.push_back(std::size_t{data[pos]} + 1);
  in.stream = std::string_view(reinterpret_cast<const char*>(data) + pos, size - pos);
  return in;
}

}  // namespace swas::fuzz
