// POSIX file access for the firmware: bounded reads, mode checks.
#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

namespace swas {

Expected<std::string, std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected(path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return unexpected(path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return unexpected(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's own limit in path resolution

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

// Whoever may write `dir` may rename or replace what it holds.
std::optional<std::string> check_secret_dir(const std::string& dir, const std::string& what) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return what + ": " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return what + ": " + dir + ": " + std::strerror(ENOTDIR);
  if (!trusted_owner(st.st_uid))
    return what + ": holds a secret but its directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
           ", who could replace the file (only root or the agent's user, uid " + std::to_string(::geteuid()) +
           ", may own it); run: chown root " + dir;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
    return what + ": holds a secret but its directory " + dir + " is writable by group or others (mode " +
           mode_text(st.st_mode) + "), who could replace the file; run: chmod go-w " + dir;
  return std::nullopt;
}

void push_components(std::vector<std::string>& todo, const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  todo.insert(todo.end(), parts.rbegin(), parts.rend());  // the first component on top
}

// Resolves `path` one component at a time like the kernel does, checking every directory looked
// into and every symbolic link followed. The real path, or the error.
Expected<std::string, std::string> resolve_secret_path(const std::string& path) {
  std::string full = path;
  if (path.empty() || path[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return unexpected(path + ": " + std::strerror(errno));
    full = std::string(cwd) + "/" + path;
  }
  std::vector<std::string> todo;  // components still to walk, the next one last
  push_components(todo, full);
  std::string real;  // resolved so far, without a trailing '/'; "" is the root
  int links = 0;
  while (!todo.empty()) {
    const std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      real.erase(real.rfind('/') == std::string::npos ? 0 : real.rfind('/'));
      continue;
    }
    if (auto bad = check_secret_dir(real.empty() ? "/" : real, path)) return unexpected(*bad);
    const std::string next = real + "/" + part;
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) return unexpected(path + ": " + std::strerror(errno));
    if (!S_ISLNK(st.st_mode)) {
      real = next;
      continue;
    }
    if (!trusted_owner(st.st_uid))
      return unexpected(path + ": " + next + " is a symbolic link owned by uid " + std::to_string(st.st_uid) +
                        " (only root or the agent's user, uid " + std::to_string(::geteuid()) +
                        ", may own a link on the way to a secret); run: chown -h root " + next);
    if (++links > kMaxSymlinks) return unexpected(path + ": " + std::strerror(ELOOP));
    char target[PATH_MAX];
    const ssize_t n = ::readlink(next.c_str(), target, sizeof target);
    if (n < 0) return unexpected(path + ": " + next + ": " + std::strerror(errno));
    if (static_cast<std::size_t>(n) >= sizeof target) return unexpected(path + ": " + std::strerror(ENAMETOOLONG));
    const std::string to(target, static_cast<std::size_t>(n));
    if (!to.empty() && to[0] == '/') real.clear();
    push_components(todo, to);
  }
  return real.empty() ? std::string("/") : real;
}

}  // namespace

std::optional<std::string> check_private_file(const std::string& path) {
  auto real = resolve_secret_path(path);
  if (!real) return real.error();
  const std::string& file = *real;
  // Errors name the real file, after the path given when they differ.
  const std::string what = file == path ? path : path + " -> " + file;
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) return what + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return what + ": holds a secret but is not a regular file";
  if (st.st_uid != ::geteuid())
    return what + ": holds a secret but is owned by uid " + std::to_string(st.st_uid) + ", not by the agent's user (uid " +
           std::to_string(::geteuid()) + "); run: chown $(id -un) " + file;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return what + ": holds a secret but is writable by group or others (mode " + mode_text(st.st_mode) +
           "), who could replace it; run: chmod 600 " + file;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
    return what + ": holds a secret but is readable by group or others (mode " + mode_text(st.st_mode) +
           "); run: chmod 600 " + file;
  return std::nullopt;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::optional<std::string> check_writable_dir(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return path + ": not a directory";
  if (::access(path.c_str(), W_OK | X_OK) != 0) return path + ": not writable: " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace swas
