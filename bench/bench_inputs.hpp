// Fixed, realistic inputs for the in-process benchmarks: one StopInstance command as a dashboard
// sends it, the cloud's 200 answer as the emulator (and the real gateway) sends it.
#pragma once
#include <string>

#include "cloud_response.hpp"
#include "command.hpp"
#include "credentials.hpp"
#include "http_types.hpp"

namespace swas::bench {

struct Inputs {
  std::string gateway_id;
  std::string command_with_token;     // carries a ClientToken
  std::string command_without_token;  // the agent derives one (one SHA-256 more)
  Endpoint endpoint;
  Credentials credentials;
  std::string x_acs_date;
  std::string nonce;
  HttpResponse cloud_ok;
};

const Inputs& inputs();

// One command's in-process work, as a worker does it on the success path:
// parse+validate -> build+sign -> parse the cloud's answer -> encode the result.
// Returns the result's size, so that nothing can be optimised away.
std::size_t run_chain(const Inputs& in, const std::string& payload);

}  // namespace swas::bench
