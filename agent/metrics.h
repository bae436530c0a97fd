/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - `status --metrics FILE`: the journal in node_exporter's
 * textfile format (Prometheus exposition text), for the monitoring people
 * already run:
 *
 *   p11enroll_certificate_not_after_seconds{...}  end of each installed
 *       certificate (Unix time)
 *   p11enroll_certificate_state{..., state="S"} 1  S: current, renewed,
 *       renewing, renewal-failed, retired
 *   p11enroll_enrollment_unfinished{...} 1        each unfinished record
 *   p11enroll_metrics_written_seconds              when the file was made
 *
 * Labels: enrollment, token, key_id, subject, serial (step for unfinished).
 */
#ifndef P11E_METRICS_H
#define P11E_METRICS_H

#include "journal.h"
#include "rc.h"

/* Write the metrics of jl to path atomically (mode 0644: a collector reads
 * it; the journal holds no secret). */
enum pe_rc metrics_write(const char *path, const struct journal_list *jl);

#endif
