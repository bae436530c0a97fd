/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token layer through `p11-kit server` + p11-kit-client.so, the way a
 * build server reaches a token on another machine (docs/tokens.md): keys,
 * signatures and certificates through the socket, and the server dying
 * mid-session (a clear error, then recovery once it is back).
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../softhsm/tok_testutil.h"

extern char **environ;

static struct fx_softhsm fx;
static char sock[PATH_MAX], pinpath[PATH_MAX];
static const char *client;
static pid_t server = -1;

static const char *find_client(void)
{
    static const char *const paths[] = {
        "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so",
        "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
        "/usr/lib64/pkcs11/p11-kit-client.so",
        "/usr/lib/pkcs11/p11-kit-client.so",
    };
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], R_OK) == 0)
            return paths[i];
    return NULL;
}

/* true once the server listens (the socket file appears at bind). */
static bool accepting(void)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(sock) >= sizeof(sa.sun_path)) {
        close(fd);
        return false;
    }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* posix_spawn, not fork: this process has PKCS#11 modules initialised. */
static void server_start(void)
{
    static char a0[] = "p11-kit", a1[] = "server", a2[] = "-f", a3[] = "-n",
                a5[] = "--provider";
    char *argv[] = {a0, a1, a2, a3, sock, a5, fx.module, fx.uri, NULL};
    posix_spawn_file_actions_t fa;
    struct stat st;
    int i;

    unlink(sock);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&server, "p11-kit", &fa, NULL, argv, environ) != 0)
        harness_fail(__FILE__, __LINE__, "spawn p11-kit server");
    posix_spawn_file_actions_destroy(&fa);
    for (i = 0; i < 500 && !accepting(); i++)
        usleep(10000);
    if (stat(sock, &st) != 0 || !accepting())
        harness_fail(__FILE__, __LINE__, "p11-kit server did not start");
    usleep(50000);
}

/* Kill the server we started and the per-connection children it forked
 * (killing only the server leaves open connections working). */
static void server_kill(void)
{
    char path[64], buf[256], *p, *end;
    FILE *f;
    long child;

    if (server <= 0)
        return;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)server,
             (int)server);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) != NULL) {
            for (p = buf;; p = end) {
                child = strtol(p, &end, 10);
                if (end == p)
                    break;
                kill((pid_t)child, SIGKILL);
            }
        }
        fclose(f);
    }
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    server = -1;
}

static void setup(void)
{
    client = find_client();
    if (client == NULL || fx_sh("command -v p11-kit >/dev/null") != 0)
        SKIP("p11-kit server or p11-kit-client.so is not installed");
    fx_softhsm_begin(&fx);
    snprintf(sock, sizeof(sock), "%.3000s/p11.sock", fx.dir);
    {
        char addr[PATH_MAX + 16];

        snprintf(addr, sizeof(addr), "unix:path=%s", sock);
        setenv("P11_KIT_SERVER_ADDRESS", addr, 1);
    }
    server_start();
}

static void teardown(void)
{
    server_kill();
    unsetenv("P11_KIT_SERVER_ADDRESS");
    fx_softhsm_end(&fx);
}

__attribute__((constructor)) static void init(void)
{
    signal(SIGPIPE, SIG_IGN); /* as main() does */
    harness_set_fixture(setup, teardown);
}

static struct tok_ctx *remote_login(void)
{
    struct tok_ctx *ctx = NULL;
    struct secret_source pin;

    pin = tu_pin_file(&fx, "pin", FX_USER_PIN, pinpath, sizeof(pinpath));
    if (tok_open(fx.uri, client, &ctx) != PE_OK ||
        tok_login(ctx, &pin, TOK_USER, false) != PE_OK)
        harness_fail(__FILE__, __LINE__, "open/login: %s", pe_detail());
    return ctx;
}

TEST("/tok/remote/keys_signatures_certificates")
{
    struct tok_ctx *ctx = remote_login();
    struct tok_key *ec = NULL, *rsa = NULL;
    EVP_PKEY *pub = NULL, *ca = tu_ec_key();
    X509 *leaf, *root = tu_cert(ca, "Remote Root", NULL, ca, 1, 1);
    STACK_OF(X509) *chain = sk_X509_new_null();
    size_t w = 0;

    CHECK_INT(tok_family(ctx), TOK_FAMILY_P11KIT_REMOTE);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P384, "remote-ec", &ec), PE_OK);
    CHECK_INT(tok_key_public(ec, &pub), PE_OK);
    CHECK(tu_sign_verify(ec, pub, EVP_sha384()));
    leaf = tu_cert(pub, "Remote Dev", root, ca, 2, 0);
    CHECK_INT(tok_cert_write_leaf(ctx, ec, leaf, NULL), PE_OK);
    sk_X509_push(chain, root);
    CHECK_INT(tok_cert_write_chain(ctx, chain, &w, NULL), PE_OK);
    CHECK_INT(w, 1);
    CHECK_INT(tu_count(ctx, TOK_OBJ_CERT, NULL, 0), 2);
    EVP_PKEY_free(pub);
    pub = NULL;
    CHECK_INT(tok_key_generate(ctx, TOK_RSA_3072, "remote-rsa", &rsa), PE_OK);
    CHECK_INT(tok_key_public(rsa, &pub), PE_OK);
    CHECK(tu_sign_verify(rsa, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    EVP_PKEY_free(ca);
    X509_free(leaf);
    X509_free(root);
    sk_X509_free(chain);
    tok_key_free(ec);
    tok_key_free(rsa);
    tok_close(ctx);
}

TEST("/tok/remote/server_dies_mid_session")
{
    struct tok_ctx *ctx = remote_login();
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;
    unsigned char dg[32] = {7}, *sig = NULL;
    size_t siglen = 0;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    server_kill();
    /* one clear sentence, no crash, no SIGPIPE */
    CHECK_INT(tok_sign_digest(key, NID_sha256, dg, 32, &sig, &siglen),
              PE_E_TOKEN);
    CHECK(sig == NULL);
    CHECK_CONTAINS(pe_detail(), "dropped");
    CHECK_CONTAINS(pe_detail(), "could not be reached again");
    /* the server is back: the same context recovers */
    server_start();
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    tok_key_free(key);
    tok_close(ctx);
}

TEST("/tok/remote/no_server_is_not_an_empty_success")
{
    struct tok_ctx *ctx = NULL;

    server_kill();
    CHECK_INT(tok_open(fx.uri, client, &ctx), PE_E_TOKEN_NOT_FOUND);
    CHECK_CONTAINS(pe_detail(), "may be unreachable");
}
