# SPDX-License-Identifier: Apache-2.0
# The picky warning set (curl's and OpenSSH's picks), applied to our targets.
set(P11E_WARNINGS
    -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wpointer-arith
    -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings
    -Wcast-qual -Wundef -Wvla -Wnull-dereference -Wdouble-promotion
    -Wmissing-declarations -Wold-style-definition -Wimplicit-fallthrough)
if(P11E_WERROR)
  list(APPEND P11E_WARNINGS -Werror)
endif()

# p11e_warnings(target): our own code gets the full set.
function(p11e_warnings target)
  target_compile_options(${target} PRIVATE ${P11E_WARNINGS})
endfunction()
