// swasctl: the operator's command-line requester for swas-agent gateways (docs/fleet.md).
#include <signal.h>

#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

#include "cli.hpp"
#include "operations.hpp"

#ifndef SWAS_VERSION
#define SWAS_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const swasctl::Invocation inv = swasctl::parse_command_line(args, SWAS_VERSION);
  return std::visit(
      [](const auto& v) -> int {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, swasctl::HelpRequest>) {
          std::cout << v.text;
          return swasctl::kExitOk;
        } else if constexpr (std::is_same_v<T, swasctl::UsageError>) {
          std::cerr << v.message << "\n\n" << v.usage;
          return swasctl::kExitUsage;
        } else if constexpr (std::is_same_v<T, swasctl::StopOptions>) {
          return swasctl::run_stop(v, std::cout, std::cerr);
        } else {
          return swasctl::run_status(v, std::cout, std::cerr);
        }
      },
      inv);
}
