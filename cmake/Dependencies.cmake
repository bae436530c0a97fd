# SPDX-License-Identifier: Apache-2.0
# Every external library, found once.  Debian bookworm packages:
# libssl-dev libp11-kit-dev libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)

# The SoftHSM module the tests use; absent only on machines without softhsm2.
find_file(SOFTHSM_MODULE libsofthsm2.so
          PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/softhsm /usr/lib/softhsm
                /usr/local/lib/softhsm NO_DEFAULT_PATH)
find_program(SOFTHSM_UTIL softhsm2-util)
