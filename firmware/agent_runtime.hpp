// The running agent: adapters, workers, maintenance, and an orderly stop. Built by main.cpp.
#pragma once
#include <memory>
#include <string>

#include "agent_setup.hpp"
#include "ports.hpp"

namespace swas {

struct RuntimeOptions {
  std::string version;
  LogLevel log_level = LogLevel::Info;
};

// Runs until SIGTERM/SIGINT (which the caller has blocked in every thread). Returns the exit code.
int run_agent(AgentSetup setup, const RuntimeOptions& options, Logger& log);

// Opens what --check-config must prove usable beyond agent_setup: the cloud CA and the journal.
Expected<bool, std::string> check_runtime_resources(const AgentSetup& setup);

}  // namespace swas
