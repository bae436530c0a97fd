/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sign_setup.c - `p11enroll sign-setup TOOL`: the files a signing tool
 * needs for a key on the token (certificate, chain, tool config) in one
 * folder, and the exact commands to sign with it on standard output.
 *
 * Order: read the certificate and chain from the token (export.c) and
 * close it -> find the module's file and the token's slot -> write the
 * files -> print the recipe (recipe.c).  A file that is there already with
 * other content is replaced only with --yes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "cmd.h"
#include "export.h"
#include "fileio.h"
#include "jsonout.h"
#include "log.h"
#include "recipe.h"
#include "tok.h"
#include "tokopt.h"
#include "util.h"

#define SETUP_DIR_DEFAULT "p11enroll-sign"

struct setup_opts {
    struct tokopt tok;
    struct export_select sel;
    enum recipe_tool tool;
    const char *dir;
    bool yes, json;
};

/* What the token told, kept after it is closed. */
struct setup_token {
    char *uri, *label, *module;
};

static void setup_usage(FILE *f)
{
    fprintf(f,
            "Usage: p11enroll sign-setup TOOL [TOKEN OPTIONS]\n"
            "         [--key-id HEX | --label L] [--dir DIR] [--yes]\n"
            "         [--state-dir DIR] [--json]\n"
            "\n"
            "TOOL: osslsigncode, jarsigner, sbsign, openssl or p11-kit.\n"
            "Writes what TOOL needs to sign with the key (--key-id, --label, "
            "or the\n"
            "only one with a certificate) into --dir DIR "
            "(default " SETUP_DIR_DEFAULT "):\n"
            "the certificate and chain read from the token, a SunPKCS11 "
            "config,\n"
            "a p11-kit module file; and prints the commands, a shell script "
            "that\n"
            "signs $IN into $OUT.  The PIN is never written: with --pin-file "
            "F or\n"
            "--pin-env VAR the commands read it from there, else the tool "
            "asks.\n"
            "A file in DIR with other content is replaced only with --yes.\n"
            "--state-dir: where enroll's records are, for the chain when "
            "the token\nholds none (default: as enroll's)."
            "\n--json: the files and the commands (as \"script\") in JSON "
            "instead\n(docs/json-schema.md).\n\n");
    tokopt_usage(f, false);
}

static enum pe_rc setup_args(int argc, char **argv, struct setup_opts *o,
                             bool *phelp)
{
    static const struct option longopts[] = {
        TOKOPT_LONGOPTS,
        {"key-id", required_argument, NULL, 'i'},
        {"label", required_argument, NULL, 'l'},
        {"dir", required_argument, NULL, 'D'},
        {"state-dir", required_argument, NULL, 'd'},
        {"yes", no_argument, NULL, 'y'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum pe_rc rc = PE_OK;
    int c;

    tokopt_init(&o->tok);
    o->dir = SETUP_DIR_DEFAULT;
    optind = 1;
    opterr = 0;
    while (rc == PE_OK &&
           (c = getopt_long(argc, argv, ":hy", longopts, NULL)) != -1) {
        if (c == 'i')
            o->sel.key_id = optarg;
        else if (c == 'l')
            o->sel.label = optarg;
        else if (c == 'D')
            o->dir = optarg;
        else if (c == 'd')
            o->sel.state_dir = optarg;
        else if (c == 'y')
            o->yes = true;
        else if (c == 'j')
            o->json = true;
        else if (c == 'h')
            *phelp = true;
        else
            rc = tokopt_getopt_other(&o->tok, c, "sign-setup", argv);
    }
    if (rc != PE_OK || *phelp)
        return rc;
    if (optind != argc - 1)
        return pe_failf(PE_E_USAGE,
                        "sign-setup takes one TOOL: osslsigncode, jarsigner, "
                        "sbsign, openssl or p11-kit.");
    rc = recipe_tool_parse(argv[optind], &o->tool);
    if (rc == PE_OK)
        rc = tokopt_finish(&o->tok);
    if (rc == PE_OK && o->tok.pin.kind != SECRET_NONE &&
        o->tok.pin.kind != SECRET_FILE && o->tok.pin.kind != SECRET_ENV)
        log_warn("Signing tools read the PIN from a file or a variable "
                 "only: the recipe lets them ask for it.");
    return rc;
}

/* The certificate, chain and token facts; the token is closed after. */
static enum pe_rc setup_read(const struct setup_opts *o, struct export_item *it,
                             struct setup_token *t)
{
    struct tok_ctx *ctx = NULL;
    enum pe_rc rc;

    rc = tokopt_open(&o->tok, &ctx);
    if (rc == PE_OK && o->tok.pin.kind != SECRET_NONE)
        rc = tokopt_login(&o->tok, ctx, TOK_USER);
    if (rc == PE_OK)
        rc = export_find(ctx, &o->sel, it);
    if (rc == PE_OK) {
        t->uri = strdup(tok_token_uri(ctx));
        t->label = strdup(tok_token_label(ctx));
        t->module = strdup(tok_module_name(ctx));
        if (t->uri == NULL || t->label == NULL || t->module == NULL)
            rc = PE_E_NOMEM;
    }
    tok_close(ctx);
    return rc;
}

static bool same_file(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];

    return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
           strcmp(ra, rb) == 0;
}

/* The "module:" value of a p11-kit module file names path: a relative
 * value is a file in p11-kit's module folder, compared by name. */
static bool names_module(const char *file, const char *path)
{
    char line[PATH_MAX + 64], *v, *e;
    const char *base = strrchr(path, '/');
    bool hit = false;
    FILE *f = fopen(file, "r");

    if (f == NULL)
        return false;
    base = base != NULL ? base + 1 : path;
    while (!hit && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "module:", 7) != 0)
            continue;
        for (v = line + 7; *v == ' ' || *v == '\t'; v++)
            ;
        e = v + strcspn(v, "\r\n");
        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        hit =
            strchr(v, '/') != NULL ? same_file(v, path) : strcmp(v, base) == 0;
    }
    fclose(f);
    return hit;
}

/* The p11-kit name of the module file (in the folders p11-kit reads) that
 * registers path; *pname NULL when none does.  Read from the files rather
 * than by loading every registered module, which would start them all. */
static enum pe_rc registered_name(const char *path, char **pname)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    char dirs[3][PATH_MAX], file[PATH_MAX * 2];
    struct dirent *de;
    size_t i, n;
    DIR *d;

    snprintf(dirs[0], sizeof(dirs[0]), "%s/pkcs11/modules",
             xdg != NULL && xdg[0] == '/' ? xdg : "");
    if (!(xdg != NULL && xdg[0] == '/'))
        snprintf(dirs[0], sizeof(dirs[0]), "%s/.config/pkcs11/modules",
                 home != NULL ? home : "/nonexistent");
    snprintf(dirs[1], sizeof(dirs[1]), "/etc/pkcs11/modules");
    snprintf(dirs[2], sizeof(dirs[2]), "/usr/share/p11-kit/modules");
    /* as p11-kit does, no user folder for root */
    for (i = geteuid() == 0 ? 1 : 0; i < 3 && *pname == NULL; i++) {
        d = opendir(dirs[i]);
        while (d != NULL && *pname == NULL && (de = readdir(d)) != NULL) {
            n = strlen(de->d_name);
            if (n <= 7 || strcmp(de->d_name + n - 7, ".module") != 0)
                continue;
            snprintf(file, sizeof(file), "%s/%s", dirs[i], de->d_name);
            if (names_module(file, path) &&
                (*pname = strndup(de->d_name, n - 7)) == NULL) {
                closedir(d);
                return PE_E_NOMEM;
            }
        }
        if (d != NULL)
            closedir(d);
    }
    return PE_OK;
}

/* The module's file, the token's slot, and the p11-kit name under which
 * the module is registered (NULL when it is not). */
static enum pe_rc setup_module(const struct setup_token *t,
                               struct recipe_in *in, char **ppath, char **pname)
{
    struct tok_token_list *l = NULL;
    const char *path = NULL;
    enum pe_rc rc;
    size_t i;

    rc = tok_list_tokens(t->module, &l);
    for (i = 0; rc == PE_OK && i < l->n; i++)
        if (strcmp(l->v[i].uri, t->uri) == 0) {
            in->slot_id = l->v[i].slot_id;
            path = l->v[i].module_path ? l->v[i].module_path : l->v[i].module;
            break;
        }
    if (rc == PE_OK && path == NULL)
        rc = pe_failf(PE_E_TOKEN_NOT_FOUND,
                      "Token \"%s\" is no longer listed by its module.",
                      t->label);
    if (rc == PE_OK && (*ppath = strdup(path)) == NULL)
        rc = PE_E_NOMEM;
    tok_token_list_free(l);
    l = NULL;
    if (rc != PE_OK)
        return rc;
    if (strchr(t->module, '/') == NULL) /* loaded by its p11-kit name */
        return (*pname = strdup(t->module)) ? PE_OK : PE_E_NOMEM;
    return registered_name(*ppath, pname);
}

/* Write data to dir/name unless that file holds it already; *ppath is the
 * path (malloc'ed). */
static enum pe_rc put(const struct setup_opts *o, const char *dir,
                      const char *name, const unsigned char *data, size_t len,
                      char **ppath)
{
    unsigned char *old = NULL;
    size_t oldlen = 0;
    struct stat st;
    enum pe_rc rc;
    char *path;

    path = malloc(strlen(dir) + strlen(name) + 2);
    if (path == NULL)
        return PE_E_NOMEM;
    sprintf(path, "%s/%s", dir, name);
    *ppath = path;
    if (stat(path, &st) == 0) {
        rc = fileio_read(path, 1024 * 1024, &old, &oldlen);
        if (rc == PE_OK && oldlen == len && memcmp(old, data, len) == 0) {
            free(old);
            return PE_OK;
        }
        free(old);
        if (!o->yes)
            return pe_failf(PE_E_IO,
                            "%s exists with other content; --yes replaces "
                            "it.",
                            path);
    }
    rc = fileio_write_atomic(path, data, len, 0644);
    if (rc == PE_OK)
        say("Wrote %s.", path);
    return rc;
}

static enum pe_rc put_certs(const struct setup_opts *o, const char *dir,
                            const char *name, X509 *cert,
                            STACK_OF(X509) * chain, char **ppath)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    enum pe_rc rc;

    rc = export_encode(cert, chain, EXPORT_PEM, &buf, &len);
    if (rc == PE_OK)
        rc = put(o, dir, name, buf, len, ppath);
    free(buf);
    return rc;
}

static enum pe_rc put_der(const struct setup_opts *o, const char *dir,
                          const char *name, X509 *cert, char **ppath)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    enum pe_rc rc;

    rc = export_encode(cert, NULL, EXPORT_DER, &buf, &len);
    if (rc == PE_OK)
        rc = put(o, dir, name, buf, len, ppath);
    free(buf);
    return rc;
}

/* "<stem>.<suffix>" into buf: the label with only safe characters. */
static const char *fname(const struct export_item *it, const char *suffix,
                         char *buf, size_t size)
{
    size_t i, n;

    if (it->label[0] == '\0')
        snprintf(buf, size, "key-%s.%s", it->id_hex, suffix);
    else
        snprintf(buf, size, "%s.%s", it->label, suffix);
    n = strlen(buf) - strlen(suffix) - 1;
    for (i = 0; i < n; i++)
        if (!(buf[i] >= 'a' && buf[i] <= 'z') &&
            !(buf[i] >= 'A' && buf[i] <= 'Z') &&
            !(buf[i] >= '0' && buf[i] <= '9') && buf[i] != '-' &&
            buf[i] != '_' && buf[i] != '.')
            buf[i] = '_';
    return buf;
}

/* The files the tool's recipe reads. */
static enum pe_rc setup_files(const struct setup_opts *o, const char *dir,
                              const struct export_item *it,
                              struct recipe_in *in)
{
    struct recipe_files *f = &in->files;
    STACK_OF(X509) *mid = NULL;
    X509 *root = NULL;
    char name[300], *text = NULL;
    enum pe_rc rc = PE_E_NOMEM;
    enum recipe_tool t = o->tool;

    mid = sk_X509_dup(it->chain);
    if (mid == NULL)
        return PE_E_NOMEM;
    if (it->chain_complete && sk_X509_num(mid) > 0)
        root = sk_X509_pop(mid);
    rc = PE_OK;
    if (t == RECIPE_SBSIGN || t == RECIPE_OPENSSL)
        rc = put_certs(o, dir, fname(it, "cert.pem", name, sizeof(name)),
                       it->leaf, NULL, &f->cert);
    if (rc == PE_OK && t == RECIPE_SBSIGN)
        rc = put_der(o, dir, fname(it, "cert.der", name, sizeof(name)),
                     it->leaf, &f->cert_der);
    if (rc == PE_OK && (t == RECIPE_OSSLSIGNCODE || t == RECIPE_OPENSSL) &&
        sk_X509_num(mid) > 0)
        rc = put_certs(o, dir,
                       fname(it, "intermediates.pem", name, sizeof(name)), NULL,
                       mid, &f->intermediates);
    if (rc == PE_OK && root != NULL &&
        (t == RECIPE_OSSLSIGNCODE || t == RECIPE_OPENSSL))
        rc = put_certs(o, dir, fname(it, "root.pem", name, sizeof(name)), root,
                       NULL, &f->root);
    if (rc == PE_OK && t == RECIPE_JARSIGNER)
        rc = put_certs(o, dir, fname(it, "certchain.pem", name, sizeof(name)),
                       it->leaf, it->chain, &f->certchain);
    if (rc == PE_OK && t == RECIPE_JARSIGNER)
        rc = recipe_sunpkcs11_cfg(in, &text);
    if (rc == PE_OK && t == RECIPE_JARSIGNER)
        rc = put(o, dir, fname(it, "sunpkcs11.cfg", name, sizeof(name)),
                 (unsigned char *)text, strlen(text), &f->sunpkcs11);
    if (rc == PE_OK && t == RECIPE_P11KIT) {
        char stem[128];

        snprintf(name, sizeof(name), "%s.module",
                 recipe_module_stem(in->module_path, stem, sizeof(stem)));
        rc = recipe_p11kit_module(in, &text);
        if (rc == PE_OK)
            rc = put(o, dir, name, (unsigned char *)text, strlen(text),
                     &f->module_file);
    }
    free(text);
    sk_X509_free(mid); /* borrowed references */
    return rc;
}

/* Make DIR and return its absolute path (*pabs, free()). */
static enum pe_rc setup_dir(const char *dir, char **pabs)
{
    enum pe_rc rc = fileio_mkdirs(dir, 0755);

    if (rc != PE_OK)
        return rc;
    *pabs = realpath(dir, NULL);
    if (*pabs == NULL)
        return pe_failf(PE_E_IO, "Cannot use the folder %s: %s.", dir,
                        strerror(errno));
    return PE_OK;
}

static void files_clear(struct recipe_files *f)
{
    free(f->cert);
    free(f->cert_der);
    free(f->intermediates);
    free(f->certchain);
    free(f->root);
    free(f->sunpkcs11);
    free(f->module_file);
}

/* The PIN source, as the recipe names it: an absolute path or a name. */
static char *pin_arg(const struct tokopt *to, struct recipe_in *in)
{
    char *abs = NULL;

    /* an fd, a prompt or the PIN pad: the tool asks for the PIN itself */
    in->pin = to->pin.kind == SECRET_FILE || to->pin.kind == SECRET_ENV
                  ? to->pin.kind
                  : SECRET_NONE;
    if (to->pin.kind == SECRET_ENV)
        return strdup(to->pin.arg);
    if (to->pin.kind != SECRET_FILE)
        return NULL;
    abs = realpath(to->pin.arg, NULL);
    return abs != NULL ? abs : strdup(to->pin.arg);
}

/* What the recipe says about the key and the token. */
static void setup_in(const struct setup_opts *o, const struct setup_token *t,
                     const struct export_item *it, struct recipe_in *in)
{
    in->tool = o->tool;
    in->token_label = t->label;
    in->key_uri = it->key_uri;
    in->cert_uri = it->cert_uri;
    in->label = it->label;
    in->label_unique = it->label_unique;
    in->rsa = EVP_PKEY_get_base_id(X509_get0_pubkey(it->leaf)) == EVP_PKEY_RSA;
    in->always_auth = it->always_auth;
    in->as_root = geteuid() == 0;
}

/* The --json result (docs/json-schema.md): the recipe as "script" and
 * each file it reads. */
static json_t *setup_json(const struct setup_opts *o, const char *dir,
                          const struct setup_token *t,
                          const struct export_item *it,
                          const struct recipe_in *in)
{
    const struct {
        const char *path, *content;
    } f[] = {
        {in->files.cert, "certificate"},
        {in->files.cert_der, "certificate-der"},
        {in->files.intermediates, "intermediates"},
        {in->files.root, "root"},
        {in->files.certchain, "chain"},
        {in->files.sunpkcs11, "sunpkcs11-config"},
        {in->files.module_file, "p11-kit-module"},
    };
    json_t *files = json_array(), *cert = NULL, *j;
    char *script = NULL;
    size_t len = 0, i;
    time_t end = 0;
    FILE *mem = open_memstream(&script, &len);

    if (mem != NULL) {
        recipe_print(mem, in);
        if (fclose(mem) != 0) {
            free(script);
            script = NULL;
        }
    }
    for (i = 0; files != NULL && i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].path != NULL)
            json_array_append_new(files,
                                  json_pack("{s:s, s:s}", "path", f[i].path,
                                            "content", f[i].content));
    if (util_time_asn1(X509_get0_notAfter(it->leaf), &end) != PE_OK)
        end = 0;
    cert = json_pack("{s:s, s:o, s:s}", "subject", in->subject, "not_after",
                     jsonout_time(end), "uri", it->cert_uri);
    if (script == NULL || files == NULL || cert == NULL) {
        free(script);
        json_decref(files);
        json_decref(cert);
        return NULL;
    }
    j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:s%}", "tool",
                  recipe_tool_name(o->tool), "dir", dir, "token", t->uri, "key",
                  "id", it->id_hex, "label", it->label, "uri", it->key_uri,
                  "certificate", cert, "files", files, "script", script, len);
    free(script);
    return j;
}

enum pe_rc cmd_sign_setup(int argc, char **argv)
{
    struct setup_opts o = {0};
    struct export_item it = {0};
    struct setup_token t = {0};
    struct recipe_in in = {0};
    char *module = NULL, *name = NULL, *dir = NULL, *pin = NULL;
    char subject[512], expires[64];
    bool help = false;
    enum pe_rc rc;

    rc = setup_args(argc, argv, &o, &help);
    if (rc != PE_OK || help) {
        setup_usage(help ? stdout : stderr);
        return rc;
    }
    rc = setup_read(&o, &it, &t);
    if (rc == PE_OK)
        rc = setup_module(&t, &in, &module, &name);
    if (rc == PE_OK)
        rc = setup_dir(o.dir, &dir);
    if (rc != PE_OK)
        goto out;
    setup_in(&o, &t, &it, &in);
    in.module_path = module;
    in.module_name = name;
    in.subject = bundle_name_str(X509_get_subject_name(it.leaf), subject,
                                 sizeof(subject));
    in.expires =
        bundle_time_str(X509_get0_notAfter(it.leaf), expires, sizeof(expires));
    pin = pin_arg(&o.tok, &in);
    in.pin_arg = pin;
    if (in.pin != SECRET_NONE && pin == NULL) {
        rc = PE_E_NOMEM;
        goto out;
    }
    if (!it.chain_complete)
        log_warn("The chain ends before a root: the issuer's certificate "
                 "is neither on the token nor in a saved bundle.");
    rc = setup_files(&o, dir, &it, &in);
    if (rc != PE_OK)
        goto out;
    if (o.json) {
        json_t *j = setup_json(&o, dir, &t, &it, &in);

        rc = j != NULL ? jsonout_print("sign-setup", j, PE_OK) : PE_E_NOMEM;
        goto out;
    }
    recipe_print(stdout, &in);
    if (fflush(stdout) != 0)
        rc = pe_failf(PE_E_IO, "Writing the recipe failed.");
out:
    if (rc != PE_OK && o.json)
        jsonout_print("sign-setup", NULL, rc);
    files_clear(&in.files);
    free(pin);
    free(dir);
    free(module);
    free(name);
    free(t.uri);
    free(t.label);
    free(t.module);
    export_item_clear(&it);
    return rc;
}
