// Hand-written, scriptable fakes of every port in agent/ports.hpp.
#pragma once
#include <deque>
#include <string>
#include <vector>

#include "ports.hpp"

namespace swas::fakes {

// Time stands still unless a sleep advances it; sleeps are recorded, never waited.
class FakeClock final : public Clock {
 public:
  std::int64_t now_ms = 1700000000000;  // 2023-11-14T22:13:20Z
  std::vector<std::uint32_t> sleeps;
  bool shutting_down = false;
  std::int64_t now_unix_ms() override { return now_ms; }
  bool sleep_ms(std::uint32_t ms) override {
    sleeps.push_back(ms);
    now_ms += ms;
    return !shutting_down;
  }
};

// A counter, so every nonce differs and tests are repeatable.
class FakeEntropy final : public Entropy {
 public:
  unsigned char next = 0;
  void fill(unsigned char* out, std::size_t len) override {
    for (std::size_t i = 0; i < len; ++i) out[i] = next++;
  }
};

// Told what to answer, in order; records every request it was given.
class FakeTransport final : public HttpsTransport {
 public:
  struct Sent {
    Endpoint endpoint;
    HttpRequest request;
  };
  std::deque<Expected<HttpResponse, TransportError>> script;
  std::vector<Sent> sent;
  // When set, each exchange takes this long on that clock (as a real round trip would).
  FakeClock* clock = nullptr;
  std::int64_t ms_per_call = 0;

  void reply(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    script.emplace_back(std::move(r));
  }
  void fail(TransportFailure kind, std::string detail) {
    script.emplace_back(unexpected(TransportError{kind, std::move(detail)}));
  }
  Expected<HttpResponse, TransportError> round_trip(const Endpoint& endpoint,
                                                    const HttpRequest& request) override {
    sent.push_back({endpoint, request});
    if (clock) clock->now_ms += ms_per_call;
    if (script.empty()) return unexpected(TransportError{TransportFailure::Connect, "no scripted answer"});
    auto r = std::move(script.front());
    script.pop_front();
    return r;
  }
};

class FakePublisher final : public MessagePublisher {
 public:
  std::vector<OutgoingMessage> published;
  void publish(const OutgoingMessage& m) override { published.push_back(m); }
};

class FakeLogger final : public Logger {
 public:
  std::vector<std::string> lines;
  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::string all() const {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

}  // namespace swas::fakes
