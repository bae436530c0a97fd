# SPDX-License-Identifier: Apache-2.0
# Compiler and linker hardening of everything built here (p11enroll,
# scm-sim, the tests): stack protector, stack-clash protection, control-flow
# protection, _FORTIFY_SOURCE, PIE, full RELRO.  tests/integration/
# sec_hardening.sh reads the ELF files to check it.  Off for the libFuzzer
# build, whose instrumentation these flags would only slow down.
option(P11E_HARDEN "Compiler and linker hardening" ON)
if(NOT P11E_HARDEN OR P11E_FUZZ)
  return()
endif()

include(CheckCCompilerFlag)
include(CheckPIESupported)

add_compile_options(-fstack-protector-strong)
foreach(flag -fstack-clash-protection -fcf-protection)
  string(MAKE_C_IDENTIFIER "P11E_HAS${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()

# _FORTIFY_SOURCE needs the optimiser (glibc warns without it), and the
# sanitizers check the same calls themselves.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug" AND NOT P11E_SANITIZE)
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
endif()

set(CMAKE_POSITION_INDEPENDENT_CODE ON)
check_pie_supported()
add_link_options(LINKER:-z,relro LINKER:-z,now)
