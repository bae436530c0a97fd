# SPDX-License-Identifier: Apache-2.0
# Build options.  The root CMakeLists.txt only includes this file.
option(P11E_WERROR "Treat warnings as errors" OFF)
option(P11E_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
# BUILD_TESTING is CMake's usual name; P11E_TESTS stays for existing build
# folders.  Both must be ON for the tests (and bench/) to be built.
option(BUILD_TESTING "Build the tests and the benchmark helpers" ON)
option(P11E_TESTS "Build the tests" ON)
# bench/run.sh turns it on in its own build folder.
option(P11E_BENCH "Build the benchmark helpers in bench/" OFF)
# Real libFuzzer targets (CC=clang): the whole library is instrumented for
# coverage, so the fuzzers see inside the parsers, not only the harness.
option(P11E_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(P11E_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address)
  add_link_options(-fsanitize=address)
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# POSIX.1-2008 interfaces (strdup, getline, clock_gettime, ...) under -std=c11.
add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
add_compile_definitions(P11E_VERSION="${PROJECT_VERSION}")

if(P11E_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
