// Reading configuration and secret files, with size bounds and permission checks.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "expected.hpp"

namespace swas {

// The whole file, or an error naming the path and the reason. Refuses files over `max_bytes`.
Expected<std::string, std::string> read_text_file(const std::string& path, std::size_t max_bytes);

// An error when the file is not owned by this process's user or is readable by group or others,
// naming the path, the owner or mode, and the fix.
std::optional<std::string> check_private_file(const std::string& path);

bool file_exists(const std::string& path);

// An error unless `path` is a directory this process can write to.
std::optional<std::string> check_writable_dir(const std::string& path);

}  // namespace swas
