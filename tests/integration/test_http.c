/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/http.c against real HTTPS on loopback: `openssl s_server -HTTP`
 * serves canned answers (files holding a whole HTTP response).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"

static char dir[256];
static char url_good[128];  /* cert for 127.0.0.1, signed by our CA */
static char url_wrong[128]; /* cert for other.example, signed by our CA */
static char ca_file[300];
static pid_t servers[2];
static FILE *outs[2]; /* kept open: s_server must not get SIGPIPE */

static void put(const char *name, const char *head, size_t body_len)
{
    char path[400];
    FILE *f;
    size_t i;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL)
        return;
    fputs(head, f);
    for (i = 0; i < body_len; i++)
        fputc('x', f);
    fclose(f);
}

static int sh(const char *cmd)
{
    return system(cmd);
}

/* Start s_server with cert stem in dir; its URL into url. */
static pid_t start_server(const char *stem, char *url, size_t urlsz,
                          FILE **pout)
{
    int fds[2];
    pid_t pid;
    char line[256], cert[300], key[300];
    FILE *f;
    const char *p;

    snprintf(cert, sizeof(cert), "%s.crt", stem);
    snprintf(key, sizeof(key), "%s.key", stem);
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("openssl", "openssl", "s_server", "-HTTP", "-accept",
               "127.0.0.1:0", "-cert", cert, "-key", key, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    url[0] = '\0';
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        p = strstr(line, "ACCEPT 127.0.0.1:");
        if (p != NULL) {
            snprintf(url, urlsz, "https://127.0.0.1:%d",
                     atoi(p + strlen("ACCEPT 127.0.0.1:")));
            break;
        }
    }
    *pout = f;
    return pid;
}

static void setup_once(void)
{
    const char *tmp = getenv("TMPDIR");
    char cmd[2048];

    if (dir[0] != '\0')
        return;
    snprintf(dir, sizeof(dir), "%s/p11e-http-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return;
    snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", dir);
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
             "-subj /CN=p11e-test-ca -days 2 2>/dev/null && "
             "for n in good:IP:127.0.0.1 wrong:DNS:other.example; do "
             "s=${n%%%%:*}; san=${n#*:}; "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout $s.key -out $s.csr -subj /CN=$s 2>/dev/null && "
             "printf 'subjectAltName=%%s\\n' $san > $s.ext && "
             "openssl x509 -req -in $s.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -days 2 -extfile $s.ext -out $s.crt "
             "2>/dev/null || exit 1; done",
             dir);
    if (sh(cmd) != 0)
        return;
    put("ok.txt", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello",
        0);
    put("auth.txt",
        "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Bearer "
        "realm=\"scm\", authorization_uri=\"https://127.0.0.1/oauth2/"
        "token\"\r\nContent-Type: application/json\r\n\r\n{}",
        0);
    put("busy.txt", "HTTP/1.0 429 Too Many Requests\r\nRetry-After: 7\r\n\r\n",
        0);
    put("big.txt", "HTTP/1.0 200 OK\r\n\r\n", HTTP_BODY_MAX + 10);
    servers[0] = start_server("good", url_good, sizeof(url_good), &outs[0]);
    servers[1] = start_server("wrong", url_wrong, sizeof(url_wrong), &outs[1]);
}

static enum pe_rc get(const char *ca, const char *base, const char *path,
                      const char *bearer, struct http_response *r)
{
    struct http_config cfg = {ca, 5, 10, 0};
    struct http_request req = {0};
    struct http_client *c = NULL;
    char url[300];
    enum pe_rc rc;

    snprintf(url, sizeof(url), "%s%s", base, path);
    req.method = "GET";
    req.url = url;
    req.bearer = bearer;
    rc = http_client_new(&cfg, &c);
    if (rc == PE_OK)
        rc = http_do(c, &req, r);
    http_client_free(c);
    return rc;
}

static void need_servers(void)
{
    setup_once();
    if (url_good[0] == '\0' || url_wrong[0] == '\0')
        SKIP("openssl s_server could not be started");
}

TEST("/http/get_ok")
{
    struct http_response r = {0};

    need_servers();
    CHECK_INT(get(ca_file, url_good, "/ok.txt", "tok", &r), PE_OK);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "hello");
    CHECK_STR(r.content_type, "text/plain");
    CHECK(r.retry_after == NULL);
    http_response_clear(&r);
}

TEST("/http/www_authenticate")
{
    struct http_response r = {0};
    char *uri = NULL;

    need_servers();
    CHECK_INT(get(ca_file, url_good, "/auth.txt", NULL, &r), PE_OK);
    CHECK_INT(r.status, 401);
    CHECK_INT(http_auth_param(r.www_authenticate, "authorization_uri", &uri),
              PE_OK);
    CHECK_STR(uri, "https://127.0.0.1/oauth2/token");
    free(uri);
    http_response_clear(&r);
}

TEST("/http/retry_after_header")
{
    struct http_response r = {0};

    need_servers();
    CHECK_INT(get(ca_file, url_good, "/busy.txt", NULL, &r), PE_OK);
    CHECK_INT(r.status, 429);
    CHECK_STR(r.retry_after, "7");
    http_response_clear(&r);
}

TEST("/http/oversized_answer")
{
    struct http_response r = {0};

    need_servers();
    CHECK_INT(get(ca_file, url_good, "/big.txt", NULL, &r), PE_E_CA_PROTOCOL);
    CHECK_CONTAINS(pe_detail(), "larger than the 1048576 bytes");
    CHECK(r.body == NULL);
    http_response_clear(&r);
}

TEST("/http/untrusted_server")
{
    struct http_response r = {0};

    need_servers();
    /* the system trust store does not know our test CA */
    CHECK_INT(get(NULL, url_good, "/ok.txt", NULL, &r), PE_E_CA_TLS);
    CHECK_CONTAINS(pe_detail(), "is not trusted");
    http_response_clear(&r);
}

TEST("/http/wrong_host_name")
{
    struct http_response r = {0};

    need_servers();
    CHECK_INT(get(ca_file, url_wrong, "/ok.txt", NULL, &r), PE_E_CA_TLS);
    http_response_clear(&r);
}

TEST("/http/unreachable")
{
    struct http_response r = {0};

    /* port 1 on loopback: nothing listens there */
    CHECK_INT(get(NULL, "https://127.0.0.1:1", "/", NULL, &r),
              PE_E_CA_UNREACHABLE);
    CHECK_CONTAINS(pe_detail(), "Cannot reach https://127.0.0.1:1/");
    http_response_clear(&r);
}

TEST("/http/refuses_secret_over_http")
{
    struct http_response r = {0};

    CHECK_INT(get(NULL, "http://127.0.0.1:1", "/", "tok", &r), PE_E_CONFIG);
    CHECK_CONTAINS(pe_detail(), "only https:// URLs may carry secrets");
    http_response_clear(&r);
}

TEST("/http/proxy_from_environment")
{
    struct http_response r = {0};

    need_servers();
    /* a proxy nobody listens on: the request goes there, and fails */
    setenv("https_proxy", "http://127.0.0.1:1", 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    CHECK_INT(get(ca_file, url_good, "/ok.txt", NULL, &r), PE_E_CA_UNREACHABLE);
    http_response_clear(&r);
    /* no_proxy exempts the host */
    setenv("no_proxy", "127.0.0.1", 1);
    CHECK_INT(get(ca_file, url_good, "/ok.txt", NULL, &r), PE_OK);
    CHECK_INT(r.status, 200);
    http_response_clear(&r);
    unsetenv("https_proxy");
    unsetenv("no_proxy");
}

TEST("/http/zz_cleanup")
{
    char cmd[400];
    int i;

    for (i = 0; i < 2; i++)
        if (servers[i] > 0) {
            kill(servers[i], SIGTERM);
            waitpid(servers[i], NULL, 0);
            if (outs[i] != NULL)
                fclose(outs[i]);
        }
    if (dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        sh(cmd);
    }
}
