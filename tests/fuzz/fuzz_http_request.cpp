// Fuzzes the emulator's HTTP request framing (tools/swas-emulator/http_request_reader) as its TLS
// connection drives it: reads of fuzzer-chosen sizes, pipelined requests taken one by one. Besides
// memory safety: failures are final, requests respect the bound, and the read boundaries do not
// change which requests are seen.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chunked_input.hpp"
#include "fuzz_check.hpp"
#include "http_request_reader.hpp"
#include "limits.hpp"

namespace {

using Reader = swas::emulator::HttpRequestReader;
using Status = Reader::Status;

struct Outcome {
  Status last = Status::kNeedMore;
  std::vector<swas::HttpRequest> requests;
  std::vector<bool> keep_alive;
};

Outcome read_all(const std::vector<std::string_view>& reads, std::size_t bound) {
  Reader reader(bound);
  Outcome out;
  for (std::string_view read : reads) {
    Status st = reader.feed(read);
    while (st == Status::kComplete && out.requests.size() < 10000) {
      bool keep_alive = false;
      out.requests.push_back(reader.take(keep_alive));
      out.keep_alive.push_back(keep_alive);
      const auto& r = out.requests.back();
      SWAS_FUZZ_CHECK(!r.method.empty(), "a request without a method");
      SWAS_FUZZ_CHECK(r.target.size() <= bound && r.body.size() <= bound, "a request over the bound");
      st = reader.feed({});
    }
    out.last = st;
    if (st == Status::kTooLarge || st == Status::kMalformed) {
      SWAS_FUZZ_CHECK(reader.feed("GET / HTTP/1.1\r\n\r\n") == st, "a failed reader recovered");
      break;
    }
  }
  return out;
}

bool same_request(const swas::HttpRequest& a, const swas::HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.body != b.body || a.headers.size() != b.headers.size())
    return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const swas::fuzz::ChunkedInput in = swas::fuzz::split_chunked(data, size);
  const std::size_t bound = in.small_bound ? swas::fuzz::kSmallBound : swas::limits::kMaxHttpRequestBytes;
  const Outcome chunked = read_all(in.reads(), bound);
  if (in.sizes.empty()) return 0;

  const Outcome whole = read_all({in.stream}, bound);
  SWAS_FUZZ_CHECK(chunked.requests.size() == whole.requests.size(), "read boundaries changed the request count");
  for (std::size_t i = 0; i < whole.requests.size(); ++i) {
    SWAS_FUZZ_CHECK(same_request(chunked.requests[i], whole.requests[i]), "read boundaries changed a request");
    SWAS_FUZZ_CHECK(chunked.keep_alive[i] == whole.keep_alive[i], "read boundaries changed keep-alive");
  }
  SWAS_FUZZ_CHECK(chunked.last == whole.last, "read boundaries changed the final status");
  return 0;
}
