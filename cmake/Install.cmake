# SPDX-License-Identifier: Apache-2.0
# Where `cmake --install` (and so the Debian package, see Package.cmake) puts
# what is not a program.  Paths are relative to the install prefix, so
# `cmake --install b --prefix P` gives a tree under P and the package a tree
# under /usr.  Components: "agent" (p11enroll) and "scmsim" (the reference
# server, a package of its own: a build server needs no test CA).
include(GNUInstallDirs)

# systemd reads units from /usr/lib/systemd/system as well as /lib; the
# package keeps every file under /usr.
set(P11E_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Folder of the systemd units, relative to the install prefix")
set(P11E_COMPLETIONDIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "Folder of bash completions, relative to the install prefix")

set(P11E_CONTRIB ${PROJECT_SOURCE_DIR}/contrib)

# The man page, compressed as Debian policy asks (man reads it either way).
find_program(P11E_GZIP gzip)
if(P11E_GZIP)
  set(P11E_MANPAGE ${PROJECT_BINARY_DIR}/p11enroll.1.gz)
  add_custom_command(OUTPUT ${P11E_MANPAGE}
                     COMMAND ${P11E_GZIP} -9 -n -c ${P11E_CONTRIB}/man/p11enroll.1
                             > ${P11E_MANPAGE}
                     DEPENDS ${P11E_CONTRIB}/man/p11enroll.1 VERBATIM)
  add_custom_target(p11e_manpage ALL DEPENDS ${P11E_MANPAGE})
else()
  set(P11E_MANPAGE ${P11E_CONTRIB}/man/p11enroll.1)
endif()
install(FILES ${P11E_MANPAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT agent)

install(FILES ${P11E_CONTRIB}/completion/p11enroll.bash
        DESTINATION ${P11E_COMPLETIONDIR} RENAME p11enroll COMPONENT agent)

install(FILES README.md LICENSE docs/json-schema.md
              docs/p11enroll.schema.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT agent)
install(FILES ${P11E_CONTRIB}/systemd/renew.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT agent)

# The units name /usr/bin/p11enroll, right for the package and for a copy
# by hand (README "Renewal with systemd").  The prefix is known only when
# installing (`--prefix` may change it), so the service is written then,
# with ExecStart= pointing at the program this install lays out.
install(CODE "
  set(bin \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/p11enroll\")
  file(READ \"${P11E_CONTRIB}/systemd/p11enroll-renew.service\" unit)
  string(REPLACE \"ExecStart=/usr/bin/p11enroll \" \"ExecStart=\${bin} \"
         unit \"\${unit}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/units/p11enroll-renew.service\"
       \"\${unit}\")
  file(INSTALL \"${PROJECT_BINARY_DIR}/units/p11enroll-renew.service\"
       \"${P11E_CONTRIB}/systemd/p11enroll-renew.timer\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${P11E_SYSTEMD_UNITDIR}\"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
" COMPONENT agent)

install(FILES ${P11E_CONTRIB}/scm-sim/README.md ${P11E_CONTRIB}/scm-sim/example.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/p11enroll-scm-sim
        COMPONENT scmsim)
