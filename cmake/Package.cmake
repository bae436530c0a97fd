# SPDX-License-Identifier: Apache-2.0
# The Debian packages, made by CPack from the install rules (Install.cmake):
#   cmake --build build && (cd build && cpack -G DEB)
# gives p11enroll_<version>_<arch>.deb (the program, man page, completion,
# systemd units, example config) and p11enroll-scm-sim_<version>_<arch>.deb
# (the reference server).  Depends: comes from dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME p11enroll)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "p11enroll maintainers <p11enroll@example.org>")
# Each package's description is its own (first line the summary); a
# CPACK_PACKAGE_DESCRIPTION_SUMMARY would be put in front of both.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# The prefix the install rules see is /usr and the staging folder is only
# DESTDIR, so the unit's ExecStart= says /usr/bin/p11enroll.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent scmsim)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/p11enroll/p11enroll")

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME p11enroll)
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "p11-kit-modules")
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS "softhsm2, ykcs11, osslsigncode")
set(CPACK_DEBIAN_AGENT_DESCRIPTION
    "enroll code-signing certificates for keys on PKCS#11 tokens
p11enroll generates a key on a smartcard or HSM through PKCS#11, sends a
request signed by that key to Sectigo Certificate Manager, waits for the
certificate and writes it and its chain back to the token.  A systemd
timer renews it.")

set(CPACK_DEBIAN_SCMSIM_PACKAGE_NAME p11enroll-scm-sim)
set(CPACK_DEBIAN_SCMSIM_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_SCMSIM_DESCRIPTION
    "reference Sectigo Certificate Manager server for p11enroll
scm-sim serves the REST endpoint and the self-enrollment form over HTTPS
on loopback and issues code-signing certificates from its own test CA,
for tests, demos and security teams trying p11enroll.")

include(CPack)
