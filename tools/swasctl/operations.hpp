// The two things swasctl does, over a live MQTT connection: stop an instance, list gateways.
#pragma once
#include <ostream>

#include "cli.hpp"

namespace swasctl {

// Each returns swasctl's exit status; results go to `out`, problems to `err`.
int run_stop(const StopOptions& options, std::ostream& out, std::ostream& err);
int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace swasctl
