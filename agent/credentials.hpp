// Cloud credentials: the AccessKey pair and optional STS token; the secret is wiped on destruction.
#pragma once
#include <string>
#include <string_view>

#include "expected.hpp"

namespace swas {

class Credentials {
 public:
  Credentials() = default;
  Credentials(std::string id, std::string secret, std::string token)
      : access_key_id_(std::move(id)), access_key_secret_(std::move(secret)),
        security_token_(std::move(token)) {}
  Credentials(const Credentials&) = default;
  Credentials& operator=(const Credentials&) = default;
  Credentials(Credentials&&) noexcept = default;
  Credentials& operator=(Credentials&&) noexcept = default;
  ~Credentials();

  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& access_key_secret() const { return access_key_secret_; }
  const std::string& security_token() const { return security_token_; }

 private:
  std::string access_key_id_;
  std::string access_key_secret_;
  std::string security_token_;
};

// Parses {"access_key_id", "access_key_secret", "security_token"?}. The error never quotes values.
Expected<Credentials, std::string> parse_credentials_json(std::string_view json);

// Overwrites a string's whole buffer (mbedtls_platform_zeroize), also what a move left past its
// size, then empties it; the buffer stays the string's.
void wipe(std::string& s);

}  // namespace swas
