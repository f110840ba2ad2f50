// Entropy port on Mbed TLS CTR-DRBG seeded from the system entropy source.
#pragma once
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include <memory>
#include <string>

#include "expected.hpp"
#include "ports.hpp"

namespace swas {

// Thread-safe (Mbed TLS is built with MBEDTLS_THREADING_C: the DRBG has its own mutex).
class CtrDrbgEntropy final : public Entropy {
 public:
  // `personalisation` separates the streams of different users of the DRBG.
  static Expected<std::unique_ptr<CtrDrbgEntropy>, std::string> create(const std::string& personalisation);
  ~CtrDrbgEntropy() override;
  CtrDrbgEntropy(const CtrDrbgEntropy&) = delete;
  CtrDrbgEntropy& operator=(const CtrDrbgEntropy&) = delete;

  void fill(unsigned char* out, std::size_t len) override;
  // For mbedtls_ssl_conf_rng.
  mbedtls_ctr_drbg_context* drbg() { return &drbg_; }

 private:
  CtrDrbgEntropy();
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

}  // namespace swas
