// Fuzzes the framing of the cloud's HTTP response (platform/http_response_reader) the way the
// HTTPS client drives it: reads of fuzzer-chosen sizes, then the peer closes. Besides memory
// safety: the reader always concludes at EOF, stays concluded, respects its bound, and decides the
// same whatever the read boundaries are.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chunked_input.hpp"
#include "cloud_response.hpp"
#include "fuzz_check.hpp"
#include "http_response_reader.hpp"
#include "limits.hpp"

namespace {

using State = swas::HttpResponseReader::State;

struct Outcome {
  State state = State::NeedMore;
  swas::HttpResponse response;
  bool keep_alive = false;
};

Outcome read_all(const std::vector<std::string_view>& reads, std::size_t bound) {
  swas::HttpResponseReader reader(bound);
  for (std::string_view read : reads) {
    if (reader.feed(read.data(), read.size()) != State::NeedMore) break;
  }
  if (reader.state() == State::NeedMore) reader.feed(nullptr, 0);  // the peer closed
  SWAS_FUZZ_CHECK(reader.state() != State::NeedMore, "still waiting after EOF");
  const State concluded = reader.state();
  SWAS_FUZZ_CHECK(reader.feed("HTTP/1.1 200 OK\r\n\r\n", 19) == concluded, "a concluded reader changed its mind");
  SWAS_FUZZ_CHECK(reader.feed(nullptr, 0) == concluded, "a concluded reader changed its mind at EOF");

  Outcome out;
  out.state = concluded;
  if (concluded == State::Error) {
    SWAS_FUZZ_CHECK(!reader.error().empty(), "an error without a message");
    return out;
  }
  out.keep_alive = reader.keep_alive();
  out.response = reader.take_response();
  const auto& r = out.response;
  // http_parser takes 1-3 digits ("HTTP/1.1 2 x" is status 2): the cloud answer check copes.
  SWAS_FUZZ_CHECK(r.status >= 0 && r.status <= 999, "status " + std::to_string(r.status));
  SWAS_FUZZ_CHECK(r.headers.size() <= 100, "more than 100 headers");
  SWAS_FUZZ_CHECK(r.body.size() <= bound && reader.bytes_seen() <= bound, "a response over the bound");
  swas::parse_cloud_response(r);  // what the client does next with it
  return out;
}

bool same_headers(const std::vector<swas::Header>& a, const std::vector<swas::Header>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const swas::fuzz::ChunkedInput in = swas::fuzz::split_chunked(data, size);
  const std::size_t bound = in.small_bound ? swas::fuzz::kSmallBound : swas::limits::kMaxHttpResponseBytes;
  const Outcome chunked = read_all(in.reads(), bound);
  if (in.sizes.empty() || in.stream.size() > bound) return 0;

  const Outcome whole = read_all({in.stream}, bound);
  SWAS_FUZZ_CHECK(chunked.state == whole.state, "read boundaries changed the outcome");
  if (whole.state != State::Complete) return 0;
  SWAS_FUZZ_CHECK(chunked.response.status == whole.response.status, "read boundaries changed the status");
  SWAS_FUZZ_CHECK(same_headers(chunked.response.headers, whole.response.headers), "read boundaries changed the headers");
  SWAS_FUZZ_CHECK(chunked.response.body == whole.response.body, "read boundaries changed the body");
  SWAS_FUZZ_CHECK(chunked.keep_alive == whole.keep_alive, "read boundaries changed keep-alive");
  return 0;
}
