// Reading configuration and secret files, with size bounds and permission checks.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "expected.hpp"

namespace swas {

// The whole file, or an error naming the path and the reason. Refuses files over `max_bytes`.
Expected<std::string, std::string> read_text_file(const std::string& path, std::size_t max_bytes);

// An error when a secret file could be read or replaced by another local user, naming the file
// (the path given and, through symbolic links, the real one), what is wrong and the fix. Refused:
// - a file that is not a regular file, not owned by this process's user, or readable or writable
//   by group or others;
// - a directory on the way (every one from / down to the file, and those holding a link) that is
//   owned by anyone but root or this process's user, or writable by group or others without the
//   sticky bit (with it, as in /tmp, only the file's owner can rename or remove the file);
// - a symbolic link on the way owned by anyone but root or this process's user; more than 40.
std::optional<std::string> check_private_file(const std::string& path);

bool file_exists(const std::string& path);

// An error unless `path` is a directory this process can write to.
std::optional<std::string> check_writable_dir(const std::string& path);

}  // namespace swas
