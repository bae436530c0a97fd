/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_conf.h - the config files of the enroll-family commands.
 */
#ifndef P11E_ENROLL_CONF_H
#define P11E_ENROLL_CONF_H

#include <getopt.h>

#include "enroll.h"

/*
 * o->merged = argv with the options of the config files put first (every
 * --config FILE, else the *.conf files of /etc/p11enroll), *pmargc their
 * count; the strings made are o->owned (enroll_opts_free).  A key that is
 * not one of longopts, a PIN, or a consent (yes, dry-run,
 * trust-bundle-root) is PE_E_CONFIG with the file and line.
 */
enum pe_rc enroll_conf_merge(struct enroll_opts *o,
                             const struct option *longopts, int argc,
                             char **argv, int *pmargc);

#endif
