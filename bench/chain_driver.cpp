// Runs the in-process chain (bench_inputs.hpp: run_chain) N times, for
//   valgrind --tool=callgrind build-bench/bench/swas-chain-driver N
// Instructions per command = (Ir(N=2000) - Ir(N=1000)) / 1000: start-up cancels out.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_inputs.hpp"

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000;
  const bool derived = argc > 2 && std::string(argv[2]) == "--derived-token";
  const auto& in = swas::bench::inputs();
  const std::string& payload = derived ? in.command_without_token : in.command_with_token;
  std::size_t sink = 0;
  for (long i = 0; i < n; ++i) sink += swas::bench::run_chain(in, payload);
  std::printf("%ld chains, checksum %zu\n", n, sink);
  return sink == 0 && n > 0 ? 1 : 0;
}
