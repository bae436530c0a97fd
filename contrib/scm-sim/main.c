/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - scm-sim: command line, start-up, the HTTPS daemon, request
 * dispatch, request-phase faults and the one log line per request.
 *
 *   scm-sim --state-dir DIR [--config FILE.json] [--port N]
 *           [--bind 127.0.0.1] [--init-only] [--watch-pid PID]
 */
#include "attest.h"
#include "auth.h"
#include "ca.h"
#include "config.h"
#include "faults.h"
#include "handlers.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

struct options {
    const char *state_dir;
    const char *config;
    const char *bind;
    long port;
    long watch_pid;
    bool init_only;
};

/* Per-connection request state: the body read so far. */
struct conn {
    char *body;
    size_t len;
    bool too_large;
};

void sim_log(const char *fmt, ...)
{
    char line[1024], stamp[32];
    time_t now = util_now();
    struct tm tm;
    va_list ap;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "scm-sim %s %s\n", stamp, line);
}

/* libmicrohttpd's own messages (TLS handshake failures...), as log lines. */
__attribute__((format(printf, 2, 0))) static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    sim_log("mhd: %s", line);
}

/* Copy s for the log: printable ASCII only, at most 160 bytes. */
static void log_safe(char *out, size_t outlen, const char *s)
{
    size_t i;

    for (i = 0; s != NULL && s[i] != '\0' && i + 1 < outlen && i < 160; i++)
        out[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[i] = '\0';
}

static bool is_loopback(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in =
            (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 =
            (const struct sockaddr_in6 *)(const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* Make close() send a TCP reset instead of a clean end. */
static void hard_reset(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {1, 0};

    if (ci != NULL)
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void route(struct sim *s, const struct sim_req *rq, struct sim_reply *rp)
{
    const char *p = rq->path;

    if (strcmp(p, "/admin") == 0 || strncmp(p, "/admin/", 7) == 0) {
        if (!rq->loopback)
            reply_error(rp, 403, -3, "admin calls are for loopback only");
        else
            admin_handle(s, rq, rp);
    } else if (strcmp(p, "/oauth2/token") == 0) {
        rest_token(s, rq, rp);
    } else if (strcmp(p, "/api/v1/certificates") == 0 ||
               strncmp(p, "/api/v1/certificates/", 21) == 0) {
        rest_handle(s, rq, rp);
    } else if (form_match(s, p)) {
        form_handle(s, rq, rp);
    } else {
        reply_error(rp, 404, -2, "no such endpoint");
    }
}

/* Apply a request-phase fault; true when the answer is already set. */
static bool request_fault(const struct sim *s, const struct fault_hit *hit,
                          struct sim_reply *rp)
{
    static const char broken[] = "{\"certId\": \"10\", \"status\": \"Appl";
    static const char hostile_id[] = "{\"certId\": \"..\"}";
    /* a carriage return (to write over the line) and C1 CSI sequences
     * (colour, clear screen), which some terminals obey like ESC [ */
    static const char hostile_text[] =
        "{\"status\": \"Rejected\", \"statusReason\": \"owned\\rall "
        "fine\\u009b31m\\u009b2J\"}";
    struct timespec ts;
    char *uri;

    switch (hit->type) {
    case FAULT_SLOW:
        ts.tv_sec = hit->delay_ms / 1000;
        ts.tv_nsec = (hit->delay_ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        rp->note = "fault=slow";
        return false;
    case FAULT_401:
        reply_error(rp, 401, -3,
                    "Not authorized: the access token has "
                    "expired");
        uri = rest_authorization_uri(s);
        rp->www_auth = util_printf("Bearer authorization_uri=\"%s\", "
                                   "error=\"invalid_token\"",
                                   uri != NULL ? uri : "");
        free(uri);
        rp->note = "fault=401";
        return true;
    case FAULT_429:
        reply_error(rp, 429, -1400, "Too many requests, try again later");
        rp->retry_after = hit->retry_after;
        rp->note = "fault=429";
        return true;
    case FAULT_503:
        reply_error(rp, 503, -195,
                    "CA is not available now. Please try "
                    "again later");
        rp->retry_after = hit->retry_after;
        rp->note = "fault=503";
        return true;
    case FAULT_MALFORMED_JSON:
        reply_bytes(rp, 200, "application/json", broken, strlen(broken));
        rp->note = "fault=malformed_json";
        return true;
    case FAULT_HOSTILE_ID:
        reply_bytes(rp, 200, "application/json", hostile_id,
                    strlen(hostile_id));
        rp->note = "fault=hostile_id";
        return true;
    case FAULT_HOSTILE_TEXT:
        reply_bytes(rp, 200, "application/json", hostile_text,
                    strlen(hostile_text));
        rp->note = "fault=hostile_text";
        return true;
    default:
        return false;
    }
}

/* Cut a download in the middle of its first certificate. */
static void truncate_download(struct sim_reply *rp)
{
    const char *begin = strstr(rp->body, "-----BEGIN");
    const char *end = begin != NULL ? strstr(begin, "-----END") : NULL;

    if (begin != NULL && end != NULL)
        rp->len = (size_t)(begin - rp->body) + (size_t)(end - begin) / 2;
    else
        rp->len /= 2;
    rp->note = "fault=truncated_pem";
}

/* A download fault in place of the certificate just made ready. */
static void download_fault(struct sim_reply *rp, const struct fault_hit *hit)
{
    if (hit->type == FAULT_TRUNCATED_PEM) {
        truncate_download(rp);
        return;
    }
    /* an SCM whose status call runs ahead of its download */
    free(rp->body);
    rp->body = NULL;
    rp->len = 0;
    rp->pem = false;
    reply_error(rp, 404, -103,
                "Certificate has not been collected yet: "
                "the request is still being processed");
    rp->note = "fault=not_collected";
}

static enum MHD_Result send_reply(struct MHD_Connection *c,
                                  struct sim_reply *rp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    char num[32];

    r = MHD_create_response_from_buffer(rp->len, rp->body,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return MHD_NO;
    rp->body = NULL; /* MHD frees it */
    if (rp->ctype != NULL)
        MHD_add_response_header(r, "Content-Type", rp->ctype);
    if (rp->www_auth != NULL)
        MHD_add_response_header(r, "WWW-Authenticate", rp->www_auth);
    if (rp->retry_after >= 0) {
        snprintf(num, sizeof(num), "%ld", rp->retry_after);
        MHD_add_response_header(r, "Retry-After", num);
    }
    if (rp->no_store) {
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "Pragma", "no-cache");
    }
    ret = MHD_queue_response(c, rp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(struct sim *s, struct MHD_Connection *c,
                              const char *url, const char *method,
                              struct conn *cc)
{
    struct sim_reply rp = {.status = 500, .retry_after = -1};
    struct sim_req rq = {0};
    struct fault_hit hit = {0};
    char path[200], fmt[48], meth[16];
    enum MHD_Result ret;
    bool answered = false, faultable;

    rq.method = method;
    rq.path = url;
    rq.format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    rq.auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    rq.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    rq.body = cc->body != NULL ? cc->body : "";
    rq.len = cc->len;
    rq.loopback = is_loopback(c);
    faultable = strcmp(url, "/admin") != 0 && strncmp(url, "/admin/", 7) != 0;

    if (cc->too_large) {
        reply_error(&rp, 413, -2, "the request body is over %d bytes",
                    SIM_BODY_MAX);
        answered = true;
    }
    pthread_mutex_lock(&s->lock);
    if (!answered && faultable)
        faults_take(s->faults, PHASE_REQUEST, method, url, &hit);
    pthread_mutex_unlock(&s->lock);
    log_safe(path, sizeof(path), url);
    log_safe(fmt, sizeof(fmt), rq.format);
    log_safe(meth, sizeof(meth), method);
    if (hit.type == FAULT_RESET) {
        sim_log("%s %s%s%s -> reset (fault)", meth, path,
                fmt[0] ? "?format=" : "", fmt);
        hard_reset(c);
        return MHD_NO;
    }
    if (!answered && hit.type != FAULT_NONE)
        answered = request_fault(s, &hit, &rp);
    if (!answered) {
        pthread_mutex_lock(&s->lock);
        route(s, &rq, &rp);
        if (rp.pem && rp.status == 200 &&
            faults_take(s->faults, PHASE_DOWNLOAD, method, url, &hit))
            download_fault(&rp, &hit);
        pthread_mutex_unlock(&s->lock);
    }
    sim_log("%s %s%s%s -> %u%s%s", meth, path, fmt[0] ? "?format=" : "", fmt,
            rp.status, rp.note ? " " : "", rp.note ? rp.note : "");
    ret = send_reply(c, &rp);
    free(rp.body);
    free(rp.www_auth);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct conn *cc = *con_cls;
    const char *cl;
    char *grown;

    (void)version;
    if (cc == NULL) {
        cc = calloc(1, sizeof(*cc));
        if (cc == NULL)
            return MHD_NO;
        *con_cls = cc;
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > SIM_BODY_MAX) {
            cc->too_large = true;
            /* a body up to 16 times the limit is read and dropped, so the
             * client gets its 413 instead of a broken pipe while still
             * sending; a larger one is answered (and closed) at once */
            if (strtoull(cl, NULL, 10) > 16ull * SIM_BODY_MAX)
                return handle(cls, c, url, method, cc);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!cc->too_large && cc->len + *upload_size <= SIM_BODY_MAX) {
            grown = realloc(cc->body, cc->len + *upload_size + 1);
            if (grown == NULL)
                return MHD_NO;
            cc->body = grown;
            memcpy(cc->body + cc->len, upload, *upload_size);
            cc->len += *upload_size;
            cc->body[cc->len] = '\0';
        } else {
            cc->too_large = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(cls, c, url, method, cc);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct conn *cc = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (cc != NULL) {
        if (cc->body != NULL) {
            OPENSSL_cleanse(cc->body, cc->len);
            free(cc->body);
        }
        free(cc);
        *con_cls = NULL;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: scm-sim --state-dir DIR [--config FILE.json] [--port N]\n"
            "               [--bind 127.0.0.1] [--init-only] "
            "[--watch-pid PID]\n"
            "A reference Sectigo Certificate Manager enrollment server on "
            "loopback;\nsee contrib/scm-sim/README.md.\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"state-dir", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"init-only", no_argument, NULL, 'i'},
        {"watch-pid", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *end;
    int ch;

    o->bind = "127.0.0.1";
    while ((ch = getopt_long(argc, argv, "s:c:p:b:iw:h", longopts, NULL)) !=
           -1) {
        switch (ch) {
        case 's':
            o->state_dir = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'b':
            o->bind = optarg;
            break;
        case 'i':
            o->init_only = true;
            break;
        case 'p':
        case 'w':
            errno = 0;
            *(ch == 'p' ? &o->port : &o->watch_pid) = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg ||
                (ch == 'p' && (o->port < 0 || o->port > 65535))) {
                fprintf(stderr, "scm-sim: bad number \"%s\"\n", optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (o->state_dir == NULL || optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Open the state folder, its lock, config, CAs and requests. */
static int open_state(struct sim *s, const struct options *o, int *plockfd)
{
    char err[512], *lock = NULL;
    STACK_OF(X509) *roots = NULL;
    json_t *faults;

    if (util_mkdirs(o->state_dir) != 0) {
        fprintf(stderr, "scm-sim: cannot create %s: %s\n", o->state_dir,
                strerror(errno));
        return -1;
    }
    s->state_dir = realpath(o->state_dir, NULL);
    if (s->state_dir == NULL) {
        fprintf(stderr, "scm-sim: %s: %s\n", o->state_dir, strerror(errno));
        return -1;
    }
    lock = util_printf("%s/lock", s->state_dir);
    *plockfd =
        lock != NULL ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    free(lock);
    if (*plockfd < 0 || flock(*plockfd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "scm-sim: %s is in use by another scm-sim\n",
                o->state_dir);
        return -1;
    }
    if (config_load(o->config, &s->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "scm-sim: config: %s\n", err);
        return -1;
    }
    s->faults = faults_new();
    s->auth = auth_new();
    faults = json_object_get(s->cfg->root, "faults");
    if (s->faults == NULL || s->auth == NULL ||
        faults_add_json(s->faults, faults, err, sizeof(err)) != 0) {
        fprintf(stderr, "scm-sim: config: %s\n", err);
        return -1;
    }
    /* checked now; read again at each check, so a root file may come later */
    if (attest_load_roots(json_object_get(s->cfg->root, "manufacturerRoots"),
                          true, &roots, err, sizeof(err)) != 0) {
        fprintf(stderr, "scm-sim: config: %s\n", err);
        return -1;
    }
    sk_X509_pop_free(roots, X509_free);
    if (ca_open(s->state_dir, &s->ca, err, sizeof(err)) != 0 ||
        store_init(s, err, sizeof(err)) != 0) {
        fprintf(stderr, "scm-sim: %s\n", err);
        return -1;
    }
    return 0;
}

/*
 * The listening socket is made here, not by libmicrohttpd, so that the port
 * and base_url are known before the daemon starts any thread that reads
 * them.
 */
static struct MHD_Daemon *start_daemon(struct sim *s, const struct options *o)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    struct MHD_Daemon *d;
    int fd, one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)o->port);
    if (inet_pton(AF_INET, o->bind, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr,
                "scm-sim: --bind takes an IPv4 loopback address "
                "(127.x.x.x), not \"%s\"\n",
                o->bind);
        return NULL;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
        fprintf(stderr, "scm-sim: cannot listen on %s:%ld: %s\n", o->bind,
                o->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    s->port = ntohs(sa.sin_port);
    snprintf(s->base_url, sizeof(s->base_url), "https://%s:%u", o->bind,
             s->port);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_POLL,
        0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger,
        NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_HTTPS_MEM_KEY,
        ca_server_key_pem(s->ca), MHD_OPTION_HTTPS_MEM_CERT,
        ca_server_cert_pem(s->ca), MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "scm-sim: cannot serve on %s:%u\n", o->bind, s->port);
        close(fd);
        return NULL;
    }
    return d;
}

/* Wait for SIGINT/SIGTERM, or for the watched process to go away. */
static void wait_for_end(const sigset_t *set, long watch_pid)
{
    struct timespec ts = {1, 0};
    int sig;

    for (;;) {
        sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            sim_log("signal %d: stopping", sig);
            return;
        }
        if (watch_pid > 0 && kill((pid_t)watch_pid, 0) != 0 && errno == ESRCH) {
            sim_log("process %ld is gone: stopping", watch_pid);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct sim s;
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    int lockfd = -1, rc = 1;

    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.lock, NULL);
    if (parse_args(argc, argv, &o) != 0) {
        rc = 2;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (open_state(&s, &o, &lockfd) != 0)
        goto out;
    if (o.init_only) {
        printf("SCM_SIM_STATE=%s\n", s.state_dir);
        rc = 0;
        goto out;
    }
    d = start_daemon(&s, &o);
    if (d == NULL)
        goto out;
    printf("SCM_SIM_PORT=%u\n"
           "SCM_SIM_URL=%s\n"
           "SCM_SIM_CA_FILE=%s/tls-ca.pem\n"
           "SCM_SIM_ROOTS=%s/ca/roots.pem\n"
           "SCM_SIM_OUTBOX=%s/outbox\n"
           "SCM_SIM_READY=1\n",
           s.port, s.base_url, s.state_dir, s.state_dir, s.state_dir);
    fflush(stdout);
    hint_print(stdout, &s);
    sim_log("listening on %s (state %s)", s.base_url, s.state_dir);
    wait_for_end(&set, o.watch_pid);
    rc = 0;
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    auth_free(s.auth);
    faults_free(s.faults);
    ca_free(s.ca);
    config_free(s.cfg);
    free(s.state_dir);
    if (lockfd >= 0)
        close(lockfd);
    pthread_mutex_destroy(&s.lock);
    return rc;
}
