// Mode 2: the per-command work inside the process (no TLS, no sockets, no journal), with Google
// Benchmark. `./scripts/bench` runs it; alone: build-bench/bench/swas-micro-bench.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <variant>

#include "bench_inputs.hpp"
#include "result_message.hpp"
#include "signer.hpp"
#include "stop_request.hpp"

namespace {

using swas::bench::inputs;

swas::StopCommand parsed_command() {
  auto parsed = swas::parse_command(inputs().command_with_token, inputs().gateway_id);
  if (!std::holds_alternative<swas::StopCommand>(parsed)) {
    std::cerr << "bench input is not a valid command\n";
    std::abort();
  }
  return std::get<swas::StopCommand>(parsed);
}

void ParseCommand(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(swas::parse_command(inputs().command_with_token, inputs().gateway_id));
}
BENCHMARK(ParseCommand);

void ParseCommandDerivedToken(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(swas::parse_command(inputs().command_without_token, inputs().gateway_id));
}
BENCHMARK(ParseCommandDerivedToken);

void BuildAndSignRequest(benchmark::State& state) {
  const swas::StopCommand cmd = parsed_command();
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(swas::build_stop_request(cmd, in.endpoint, in.credentials, in.x_acs_date, in.nonce));
}
BENCHMARK(BuildAndSignRequest);

// The two SHA-256 based steps of signing alone, to show where BuildAndSignRequest goes.
void Sha256OfCanonicalRequest(benchmark::State& state) {
  const swas::StopCommand cmd = parsed_command();
  const auto& in = inputs();
  const swas::HttpRequest req = swas::build_stop_request(cmd, in.endpoint, in.credentials, in.x_acs_date, in.nonce);
  const std::string text(req.target.size() + 400, 'x');  // about a canonical request's size
  for (auto _ : state) benchmark::DoNotOptimize(swas::sha256_hex(text));
}
BENCHMARK(Sha256OfCanonicalRequest);

void HmacSha256(benchmark::State& state) {
  const std::string sts(84, 'x');  // "ACS3-HMAC-SHA256\n" + 64 hex digits
  for (auto _ : state) benchmark::DoNotOptimize(swas::hmac_sha256_hex(inputs().credentials.access_key_secret(), sts));
}
BENCHMARK(HmacSha256);

void ParseCloudResponse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(swas::parse_cloud_response(inputs().cloud_ok));
}
BENCHMARK(ParseCloudResponse);

void EncodeSuccess(benchmark::State& state) {
  const swas::StopCommand cmd = parsed_command();
  for (auto _ : state) benchmark::DoNotOptimize(swas::encode_success(cmd, "20758A-585D-4A41-A9B2-28DA8F4F534F"));
}
BENCHMARK(EncodeSuccess);

void WholeChain(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state) benchmark::DoNotOptimize(swas::bench::run_chain(in, in.command_with_token));
}
BENCHMARK(WholeChain);

void WholeChainDerivedToken(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state) benchmark::DoNotOptimize(swas::bench::run_chain(in, in.command_without_token));
}
BENCHMARK(WholeChainDerivedToken);

}  // namespace

BENCHMARK_MAIN();
