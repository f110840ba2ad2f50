// CTR-DRBG (AES-256) reseeded by Mbed TLS from the kernel's entropy source.
#include "ctr_drbg_entropy.hpp"

#include <cstdlib>

namespace swas {

CtrDrbgEntropy::CtrDrbgEntropy() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
}

CtrDrbgEntropy::~CtrDrbgEntropy() {
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

Expected<std::unique_ptr<CtrDrbgEntropy>, std::string> CtrDrbgEntropy::create(
    const std::string& personalisation) {
  std::unique_ptr<CtrDrbgEntropy> e(new CtrDrbgEntropy());
  const int rc = mbedtls_ctr_drbg_seed(&e->drbg_, mbedtls_entropy_func, &e->entropy_,
                                       reinterpret_cast<const unsigned char*>(personalisation.data()),
                                       personalisation.size());
  if (rc != 0) return unexpected("seeding the random generator failed (-0x" + std::to_string(-rc) + ")");
  return e;
}

void CtrDrbgEntropy::fill(unsigned char* out, std::size_t len) {
  while (len > 0) {
    const std::size_t chunk = len > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : len;
    if (mbedtls_ctr_drbg_random(&drbg_, out, chunk) != 0) {
      // A failing DRBG would mean predictable nonces: refuse to continue.
      std::abort();
    }
    out += chunk;
    len -= chunk;
  }
}

}  // namespace swas
