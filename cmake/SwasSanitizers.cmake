# Sanitizer and fuzzing build modes (docs/security.md). The options are declared in the root
# CMakeLists.txt; this file turns them into flags.
#
# These are whole-program properties, so they are applied to the directory (every project target
# defined after the include), not per target: a target left uninstrumented cannot link code that
# is instrumented. Debian's libraries (cJSON, Mbed TLS, Paho, http_parser) are used as shipped.

if(SWAS_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR
    "SWAS_FUZZ needs clang and libFuzzer (libclang-rt-14-dev): configure with "
    "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
endif()

# Fuzzing without ASan/UBSan finds only crashes; with them it finds the bugs that matter.
if(SWAS_SANITIZE OR SWAS_FUZZ)
  set(SWAS_SANITIZERS_ENABLED ON)
else()
  set(SWAS_SANITIZERS_ENABLED OFF)
endif()

if(SWAS_SANITIZERS_ENABLED)
  message(STATUS "swas: building with -fsanitize=address,undefined")
  add_compile_options(
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's flow analysis under ASan reports uninitialised reads inside libstdc++ (<regex>'s
    # std::function moves) that are not there; -Werror would stop the build on them.
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(SWAS_FUZZ)
  # Coverage feedback from the code under test, not only from the fuzz target itself. The
  # callbacks it needs are provided (weakly) by the ASan runtime in non-fuzzer executables.
  message(STATUS "swas: building with -fsanitize=fuzzer-no-link; fuzz tests run ${SWAS_FUZZ_SECONDS} s each")
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
