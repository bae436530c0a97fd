/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll.c - the enrollment flow: key -> CSR -> submit -> wait -> download
 * -> install, each step recorded in the journal before the next begins.
 *
 * Crash rules: the key's CKA_ID is chosen and recorded before the key is
 * made, so a rerun finds the key instead of making a second; the request
 * id is recorded as soon as the CA answers, so a rerun polls the same
 * order; the bundle is saved beside the record before the token is
 * written, so a certificate is never lost.
 */
#include "enroll.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "attest_cmd.h"
#include "bundle.h"
#include "csr.h"
#include "fileio.h"
#include "log.h"
#include "poll.h"
#include "secret.h"

#define KEY_ID_LEN    8
#define DEFAULT_LABEL "p11enroll"
#define DEFAULT_WAIT  600

struct run {
    struct tokopt to; /* the token options, with recorded PIN sources */
    struct journal_rec *rec;
    const struct enroll_opts *o;
    struct secret *client_secret;
    struct ca *ca;
    struct ca_config cfg;
    struct tok_ctx *ctx;
    struct tok_key *key;
    STACK_OF(X509) * trust;    /* --trust, read while the CA login runs */
    struct enroll_check check; /* the download, checked while it is saved */
    unsigned char new_id[KEY_ID_LEN]; /* run_key_id's, for run_key */
    bool id_drawn; /* new_id recorded with keygen "started", no key yet */
};

/*
 * Test hook: P11ENROLL_TEST_CRASH=<status> kills the process (SIGKILL, as
 * kill -9 would) right after the journal reached that step, so the
 * integration tests can prove that resume finishes every such order.
 */
static void crash_point(const struct journal_rec *rec)
{
    const char *at = getenv("P11ENROLL_TEST_CRASH");

    if (at != NULL && strcmp(at, journal_status_name(rec->status)) == 0)
        raise(SIGKILL);
}

enum pe_rc enroll_state_dir(const struct enroll_opts *o, char **pdir)
{
    if (o->state_dir != NULL) {
        *pdir = strdup(o->state_dir);
        return *pdir != NULL ? PE_OK : PE_E_NOMEM;
    }
    return journal_default_dir(pdir);
}

/* "/CN=a/O=b" from the single subject options ('/' escaped). */
static enum pe_rc subject_dn(const struct enroll_opts *o, char **pdn)
{
    const char *names[] = {"CN", "O", "OU", "C", "L", "ST"};
    const char *vals[] = {o->cn, o->o, o->ou, o->c, o->l, o->st};
    char buf[2048], *p = buf;
    const char *s;
    size_t i, left = sizeof(buf);
    int n;

    *pdn = NULL;
    if (o->subject != NULL) {
        *pdn = strdup(o->subject);
        return *pdn != NULL ? PE_OK : PE_E_NOMEM;
    }
    buf[0] = '\0';
    for (i = 0; i < 6; i++) {
        if (vals[i] == NULL)
            continue;
        n = snprintf(p, left, "/%s=", names[i]);
        if (n < 0 || (size_t)n >= left)
            return pe_failf(PE_E_USAGE, "The subject is too long.");
        p += n;
        left -= (size_t)n;
        for (s = vals[i]; *s != '\0'; s++) {
            if (left < 3)
                return pe_failf(PE_E_USAGE, "The subject is too long.");
            if (*s == '/' || *s == '\\') {
                *p++ = '\\';
                left--;
            }
            *p++ = *s;
            left--;
        }
        *p = '\0';
    }
    if (buf[0] == '\0')
        return PE_OK; /* decided later from the names */
    *pdn = strdup(buf);
    return *pdn != NULL ? PE_OK : PE_E_NOMEM;
}

/* path into *pfield, made absolute against the working directory when
 * relative, so a later resume or renew from elsewhere finds the file;
 * prefix ("file:" or "") goes in front.  NULL clears the field. */
static enum pe_rc set_path(char **pfield, const char *prefix, const char *path)
{
    char cwd[4096], buf[8300];

    if (path == NULL || path[0] == '/' || path[0] == '\0') {
        if (path == NULL)
            return journal_set(pfield, NULL);
        snprintf(buf, sizeof(buf), "%s%s", prefix, path);
        return journal_set(pfield, buf);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return pe_failf(PE_E_IO,
                        "Cannot tell the working directory to "
                        "record \"%s\".",
                        path);
    if (snprintf(buf, sizeof(buf), "%s%s/%s", prefix, cwd, path) >=
        (int)sizeof(buf))
        return pe_failf(PE_E_IO, "The path \"%s\" is too long.", path);
    return journal_set(pfield, buf);
}

/* "file:P" or "env:V" of a PIN source into *pfield; others are not kept
 * (an fd is gone, a prompt asks again). */
static enum pe_rc remember_source(const struct secret_source *src,
                                  char **pfield)
{
    char spec[4200];

    if (src->kind == SECRET_FILE)
        return set_path(pfield, "file:", src->arg);
    if (src->kind != SECRET_ENV)
        return PE_OK;
    snprintf(spec, sizeof(spec), "env:%s", src->arg);
    return journal_set(pfield, spec);
}

enum pe_rc enroll_fill_record(const struct enroll_opts *o,
                              struct journal_rec *rec)
{
    enum pe_rc rc = PE_OK;

#define SET(field, val)                                                        \
    if (rc == PE_OK)                                                           \
    rc = journal_set(&rec->field, val)
    SET(token_uri, o->tok.token);
    SET(key_id_hex, o->key_id);
    SET(key_origin, o->key_id != NULL ? "reused" : "generated");
    SET(key_type, o->key_id != NULL
                      ? NULL
                      : (o->key_type != NULL ? o->key_type : "ec-p256"));
    SET(key_label, o->label != NULL ? o->label : DEFAULT_LABEL);
    SET(protocol, o->form != NULL ? "form" : "rest");
    SET(url, o->form != NULL ? o->form : o->endpoint);
    SET(client_id, o->form != NULL ? NULL : o->client_id);
    SET(email, o->email);
    SET(format, o->format);
    SET(first_name, o->first_name);
    SET(last_name, o->last_name);
    SET(title, o->title);
    SET(san_email, o->san_email);
#undef SET
    if (rc != PE_OK)
        return rc;
    /* files are recorded by absolute path; a module without a slash is a
     * p11-kit name */
    if (o->tok.module != NULL && strchr(o->tok.module, '/') == NULL)
        rc = journal_set(&rec->module, o->tok.module);
    else
        rc = set_path(&rec->module, "", o->tok.module);
    if (rc == PE_OK)
        rc = set_path(&rec->ca_file, "", o->ca_file);
    if (rc == PE_OK)
        rc = set_path(&rec->trust, "", o->trust);
    if (rc == PE_OK)
        rc = set_path(&rec->out_cert, "", o->out_cert);
    if (rc == PE_OK)
        rc = set_path(&rec->out_chain, "", o->out_chain);
    if (rc != PE_OK)
        return rc;
    rec->term = o->term;
    rc = subject_dn(o, &rec->subject);
    if (rc == PE_OK && o->slot != NULL)
        rc = enroll_slot_key_id(o->slot, &rec->key_id_hex);
    /* only sources that can be read again later are remembered */
    if (rc == PE_OK && o->secret_spec != NULL &&
        strncmp(o->secret_spec, "file:", 5) == 0)
        rc = set_path(&rec->secret_source, "file:", o->secret_spec + 5);
    else if (rc == PE_OK && o->secret_spec != NULL &&
             strncmp(o->secret_spec, "fd:", 3) != 0)
        rc = journal_set(&rec->secret_source, o->secret_spec);
    if (rc == PE_OK)
        rc = remember_source(&o->tok.pin, &rec->pin_source);
    if (rc == PE_OK)
        rc = remember_source(&o->tok.so_pin, &rec->so_pin_source);
    return rc;
}

bool enroll_find_unfinished(const char *dir, const struct enroll_opts *o,
                            char *id, size_t idsz)
{
    struct journal_list *list = NULL;
    const char *url = o->form != NULL ? o->form : o->endpoint;
    const struct journal_rec *r;
    bool found = false;
    size_t i;

    if (journal_list(dir, &list) != PE_OK)
        return false;
    for (i = list->n; i-- > 0 && !found;) {
        r = list->v[i];
        if (journal_status_final(r->status) || r->url == NULL || url == NULL ||
            strcmp(r->url, url) != 0)
            continue;
        /* no --token: any token (the record then names the one used) */
        if (o->tok.token != NULL &&
            (r->token_uri == NULL || strcmp(o->tok.token, r->token_uri) != 0))
            continue;
        if ((o->email != NULL && r->email != NULL &&
             strcmp(o->email, r->email) != 0) ||
            (o->form == NULL && o->client_id != NULL && r->client_id != NULL &&
             strcmp(o->client_id, r->client_id) != 0))
            continue;
        if (o->key_id != NULL &&
            (r->key_id_hex == NULL || strcmp(o->key_id, r->key_id_hex) != 0))
            continue;
        snprintf(id, idsz, "%s", r->id);
        found = true;
    }
    journal_list_free(list);
    return found;
}

/* ---- the CA side -------------------------------------------------------- */

static enum pe_rc ui_get_code(void *arg, const char *email,
                              struct secret **pcode)
{
    const struct enroll_opts *o = arg;
    struct secret_source src = {SECRET_NONE, NULL, NULL};
    char prompt[300];
    enum pe_rc rc;

    if (o->otp_file != NULL) {
        src.kind = SECRET_FILE;
        src.arg = o->otp_file;
    } else if (secret_can_prompt()) {
        snprintf(prompt, sizeof(prompt), "One-time code from the e-mail to %s",
                 email);
        src.kind = SECRET_PROMPT;
        src.prompt = prompt;
    } else {
        return pe_failf(PE_E_USAGE,
                        "The one-time code sent to %s is needed: "
                        "give --otp-file, or run on a terminal.",
                        email);
    }
    rc = secret_read(&src, false, pcode);
    if (rc == PE_E_PIN_SOURCE)
        rc = pe_failf(PE_E_USAGE, "The one-time code could not be read: %s",
                      pe_detail());
    return rc;
}

static bool ask_yes(const char *question)
{
    char line[16];

    if (!secret_can_prompt())
        return false;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

static enum pe_rc ui_accept_terms(void *arg, const struct ca_terms *t)
{
    const struct enroll_opts *o = arg;
    size_t i;

    /* a term the form does not offer is refused before a key is made */
    for (i = 0; o->term > 0 && i < t->nterms && t->terms[i] != o->term; i++)
        ;
    if (o->term > 0 && t->nterms > 0 && i == t->nterms)
        return pe_failf(PE_E_USAGE,
                        "The form does not offer a term of %ld days (it "
                        "offers %ld%s).",
                        o->term, t->terms[0],
                        t->nterms > 1 ? " and others" : "");

    say("Organization: %s", t->organization ? t->organization : "-");
    say("Department:   %s", t->department ? t->department : "-");
    if (t->profile != NULL)
        say("Profile:      %s", t->profile);
    say("Term:         %ld days", o->term > 0 ? o->term : t->default_term);
    if (t->eula_text != NULL && t->eula_text[0] != '\0' && !o->accept_eula)
        say("\n%s\n", t->eula_text);
    if (o->accept_eula) {
        say("EULA%s%s accepted (--accept-eula).", t->eula_id ? " " : "",
            t->eula_id ? t->eula_id : "");
        return PE_OK;
    }
    if (ask_yes("Do you accept the EULA above?"))
        return PE_OK;
    return pe_failf(PE_E_USAGE, "The EULA was not accepted, so nothing was "
                                "made or submitted; read it and pass "
                                "--accept-eula to accept it.");
}

static enum pe_rc run_ca(struct run *r)
{
    const struct journal_rec *rec = r->rec;
    const struct enroll_opts *o = r->o;
    struct secret_source src;
    const char *spec = o->secret_spec ? o->secret_spec : rec->secret_source;
    enum pe_rc rc;

    memset(&r->cfg, 0, sizeof(r->cfg));
    rc = ca_protocol_parse(rec->protocol, &r->cfg.protocol);
    if (rc != PE_OK)
        return rc;
    if (r->cfg.protocol == CA_PROTO_REST) {
        if (spec == NULL)
            return pe_failf(PE_E_USAGE,
                            "The REST endpoint needs the client secret: give "
                            "--client-secret-file, -fd or -env.");
        rc = secret_source_parse(spec, &src);
        if (rc == PE_OK)
            rc = secret_read(&src, false, &r->client_secret);
        if (rc != PE_OK)
            return pe_failf(PE_E_CONFIG, "The client secret: %s",
                            pe_sentence(rc));
    }
    r->cfg.url = rec->url;
    r->cfg.client_id = rec->client_id;
    r->cfg.client_secret = r->client_secret;
    r->cfg.token_url = o->token_url;
    r->cfg.email = rec->email;
    r->cfg.format = rec->format;
    r->cfg.http.ca_file = o->ca_file != NULL ? o->ca_file : rec->ca_file;
    r->cfg.http.timeout_s = o->http_timeout;
    r->cfg.ui.arg = (void *)(uintptr_t)o;
    r->cfg.ui.get_code = ui_get_code;
    r->cfg.ui.accept_terms = ui_accept_terms;
    return ca_new(&r->cfg, &r->ca);
}

/* ---- the token side ----------------------------------------------------- */

/* The PIN comes from the person (a prompt or the PIN pad), not a file,
 * a descriptor or the environment. */
static bool pin_is_typed(const struct secret_source *src)
{
    return src->kind != SECRET_FILE && src->kind != SECRET_FD &&
           src->kind != SECRET_ENV;
}

static enum pe_rc run_token(struct run *r)
{
    struct tokopt *to = &r->to;
    struct secret_source src;
    enum pe_rc rc;

    *to = r->o->tok;
    if (to->token == NULL)
        to->token = r->rec->token_uri;
    if (to->module == NULL)
        to->module = r->rec->module;
    if (to->pin.kind == SECRET_NONE && r->rec->pin_source != NULL &&
        secret_source_parse(r->rec->pin_source, &src) == PE_OK)
        to->pin = src;
    if (to->so_pin.kind == SECRET_NONE && r->rec->so_pin_source != NULL &&
        secret_source_parse(r->rec->so_pin_source, &src) == PE_OK)
        to->so_pin = src;
    rc = tokopt_open(to, &r->ctx);
    if (rc != PE_OK)
        return rc;
    /* a PIN the person types is asked for only once the CA let us in */
    if (pin_is_typed(to->so_pin.kind != SECRET_NONE ? &to->so_pin : &to->pin)) {
        rc = ca_prepare_wait(r->ca);
        if (rc != PE_OK)
            return rc;
    }
    if (to->so_pin.kind == SECRET_NONE)
        return tokopt_login(to, r->ctx, TOK_USER);
    /* ykcs11: the management key as SO, the PIN for signing */
    if (to->pin.kind != SECRET_NONE)
        tok_set_context_pin(r->ctx, &to->pin);
    return tokopt_login(to, r->ctx, TOK_SO);
}

static enum pe_rc hex_of(const unsigned char *id, size_t len, char **phex)
{
    size_t i;

    *phex = malloc(2 * len + 1);
    if (*phex == NULL)
        return PE_E_NOMEM;
    for (i = 0; i < len; i++)
        snprintf(*phex + 2 * i, 3, "%02x", id[i]);
    return PE_OK;
}

/* The recorded key, if on the token: *pfound; PE_E_KEY when it must be
 * there and is not, or when it was there before this enrollment. */
static enum pe_rc find_recorded(struct run *r, const unsigned char *id,
                                size_t idlen, bool *pfound)
{
    struct journal_rec *rec = r->rec;
    bool reused = strcmp(rec->key_origin ? rec->key_origin : "", "reused") == 0;
    enum pe_rc rc;

    *pfound = false;
    rc = tok_key_find_by_id(r->ctx, id, idlen, &r->key);
    if (rc != PE_OK) {
        if (rec->status == JOURNAL_NEW && !reused)
            return PE_OK; /* not made yet: make it */
        return pe_failf(rc,
                        "The key %s of enrollment %s is not on token "
                        "\"%s\": %s",
                        rec->key_id_hex, rec->id, tok_token_label(r->ctx),
                        pe_detail());
    }
    if (rec->status == JOURNAL_NEW && !reused && rec->keygen == NULL) {
        /* there before we ever tried to make it: a PIV slot in use */
        tok_key_free(r->key);
        r->key = NULL;
        if (!r->o->force)
            return pe_failf(PE_E_KEY,
                            "Key ID %s (slot) on token \"%s\" already holds "
                            "a key; --force replaces it, and the old key is "
                            "lost.",
                            rec->key_id_hex, tok_token_label(r->ctx));
        say("Replacing the key in slot ID %s (--force).", rec->key_id_hex);
        return PE_OK;
    }
    if (rec->status == JOURNAL_NEW)
        say("Using key %s on token \"%s\".", rec->key_id_hex,
            tok_token_label(r->ctx));
    *pfound = true;
    return PE_OK;
}

/* Make the key of rec (with its recorded CKA_ID, if any). */
static enum pe_rc generate(struct run *r, const unsigned char *id, size_t idlen)
{
    struct journal_rec *rec = r->rec;
    struct tok_keygen spec = {0};
    enum pe_rc rc;

    rc = tok_keytype_parse(rec->key_type ? rec->key_type : "ec-p256",
                           &spec.type);
    if (rc != PE_OK)
        return rc;
    spec.label = rec->key_label;
    spec.id = idlen > 0 ? id : NULL;
    spec.idlen = idlen;
    /* from here on a key with this ID may be ours (a crash mid-keygen);
     * run_key_id may have recorded that already */
    if (!r->id_drawn) {
        rc = journal_set(&rec->keygen, "started");
        if (rc == PE_OK)
            rc = journal_save(rec);
        if (rc != PE_OK)
            return rc;
    }
    say("Generating a %s key on token \"%s\"...", tok_keytype_name(spec.type),
        tok_token_label(r->ctx));
    return tok_key_generate_ex(r->ctx, &spec, &r->key);
}

/* No key was made after run_key_id (the CA refused, or the save failed),
 * so none is named. */
static void run_key_id_undo(struct run *r)
{
    if (!r->id_drawn)
        return;
    journal_set(&r->rec->key_id_hex, NULL);
    journal_set(&r->rec->keygen, NULL);
    r->id_drawn = false;
}

/*
 * A new key's CKA_ID, drawn and recorded durably with keygen "started"
 * (run_key's crash rule) while the CA login may still run, so that save's
 * fsyncs take no time of their own.  Only for a key still to be made on a
 * token that takes any ID (ykcs11: --slot names it).
 */
static enum pe_rc run_key_id(struct run *r)
{
    struct journal_rec *rec = r->rec;
    enum pe_rc rc;

    if (rec->status != JOURNAL_NEW || rec->key_id_hex != NULL ||
        tok_family(r->ctx) == TOK_FAMILY_YKCS11)
        return PE_OK;
    if (RAND_bytes(r->new_id, KEY_ID_LEN) != 1)
        return pe_fail_ossl(PE_E_INTERNAL, "Random CKA_ID");
    r->id_drawn = true;
    rc = hex_of(r->new_id, KEY_ID_LEN, &rec->key_id_hex);
    if (rc == PE_OK)
        rc = journal_set(&rec->keygen, "started");
    if (rc == PE_OK)
        rc = journal_save(rec);
    if (rc != PE_OK)
        run_key_id_undo(r);
    return rc;
}

/* The key of rec: found by its recorded CKA_ID, else made with it. */
static enum pe_rc run_key(struct run *r)
{
    struct journal_rec *rec = r->rec;
    unsigned char id[64];
    const unsigned char *kid;
    size_t idlen = 0, klen;
    bool found = false, recorded;
    enum pe_rc rc;

    /* choose the CKA_ID first and record it: a crash during keygen then
     * finds the key instead of making another (ykcs11: --slot names it).
     * run_key_id saves it, durably, with keygen "started" before the token
     * makes anything (enroll_run calls it while the CA login runs). */
    rc = run_key_id(r);
    if (rc != PE_OK)
        return rc;
    recorded = rec->key_id_hex != NULL;
    if (r->id_drawn) {
        /* drawn just now: no key can have it yet (and keygen refuses an
         * ID in use), so no search for it */
        memcpy(id, r->new_id, KEY_ID_LEN);
        idlen = KEY_ID_LEN;
    } else if (rec->key_id_hex != NULL) {
        if (tokopt_parse_hex(rec->key_id_hex, id, sizeof(id), &idlen) != PE_OK)
            return pe_failf(PE_E_STATE, "The recorded key ID is not hex.");
        rc = find_recorded(r, id, idlen, &found);
        if (rc != PE_OK)
            return rc;
    }
    if (!found)
        rc = generate(r, id, idlen);
    if (rc != PE_OK || rec->status != JOURNAL_NEW)
        return rc;
    if (rec->key_id_hex == NULL) {
        tok_key_id(r->key, &kid, &klen);
        rc = hex_of(kid, klen, &rec->key_id_hex);
    }
    if (rc == PE_OK && rec->token_uri == NULL)
        rc = journal_set(&rec->token_uri, tok_token_uri(r->ctx));
    if (rc == PE_OK)
        rc = journal_set(&rec->key_uri, tok_key_uri(r->key));
    if (rc != PE_OK)
        return rc;
    /* a key whose ID the record held before needs no save of its own: a
     * crash before the next one (submitting) finds it again by that ID */
    if (recorded)
        return journal_mark(rec, JOURNAL_KEY_GENERATED);
    return journal_step(rec, JOURNAL_KEY_GENERATED, NULL);
}

static enum pe_rc token_sign(void *ctx, int md_nid, const unsigned char *digest,
                             size_t dlen, unsigned char **psig, size_t *psiglen)
{
    return tok_sign_digest(ctx, md_nid, digest, dlen, psig, psiglen);
}

static enum pe_rc run_csr(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct csr_subject subj = {0};
    EVP_PKEY *pub = NULL;
    X509_REQ *req = NULL;
    char cn[200];
    enum pe_rc rc;

    if (rec->subject != NULL) {
        subj.dn = rec->subject;
    } else {
        snprintf(cn, sizeof(cn), "%s%s%s",
                 rec->first_name ? rec->first_name : "",
                 rec->first_name && rec->last_name ? " " : "",
                 rec->last_name ? rec->last_name : "");
        subj.cn = cn[0] != '\0' ? cn : (rec->email ? rec->email : "p11enroll");
    }
    subj.email = rec->san_email != NULL ? rec->san_email : rec->email;
    rc = tok_key_public(r->key, &pub);
    if (rc == PE_OK)
        rc = csr_build(&subj, pub, token_sign, r->key, &req);
    if (rc == PE_OK)
        rc = csr_to_der_b64(req, &rec->csr_b64);
    /* saved with the step that follows at once (submitting), or by the
     * error path; a crash before then finds the key and builds it again */
    if (rc == PE_OK)
        rc = journal_mark(rec, JOURNAL_CSR_BUILT);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    return rc;
}

/* --attestation-cmd: the vendor tool's output, told which key it is for. */
static enum pe_rc run_attestation_cmd(struct run *r, unsigned char **patt,
                                      size_t *plen)
{
    const unsigned char *id;
    size_t idlen, i;
    char hex[2 * 64 + 1];

    tok_key_id(r->key, &id, &idlen);
    for (i = 0; i < idlen && i < 64; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    hex[2 * i] = '\0';
    say("Running the attestation command.");
    return attest_cmd_run(r->o->attestation_cmd, tok_key_uri(r->key), hex,
                          tok_token_uri(r->ctx), r->o->attestation_timeout,
                          patt, plen);
}

static enum pe_rc run_submit(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct ca_request req = {0};
    unsigned char *der = NULL, *att = NULL;
    char *att_b64 = NULL, *id = NULL;
    size_t attlen = 0;
    int derlen;
    bool yubikey = false;
    enum pe_rc rc;

    if (rec->status == JOURNAL_SUBMITTING)
        log_warn("Enrollment %s stopped while submitting; submitting again "
                 "(the CA may hold an abandoned request from then).",
                 rec->id);
    der = malloc(strlen(rec->csr_b64));
    if (der == NULL)
        return PE_E_NOMEM;
    derlen = EVP_DecodeBlock(der, (const unsigned char *)rec->csr_b64,
                             (int)strlen(rec->csr_b64));
    if (derlen <= 0) {
        rc = pe_failf(PE_E_STATE, "The recorded CSR is damaged.");
        goto out;
    }
    /* EVP_DecodeBlock counts the padding bytes as data */
    if (strlen(rec->csr_b64) >= 2 &&
        rec->csr_b64[strlen(rec->csr_b64) - 1] == '=')
        derlen -= rec->csr_b64[strlen(rec->csr_b64) - 2] == '=' ? 2 : 1;
    if (r->o->attestation_file != NULL) {
        rc = fileio_read(r->o->attestation_file, 256 * 1024, &att, &attlen);
        if (rc == PE_OK)
            rc = ca_b64(att, attlen, &att_b64);
        if (rc != PE_OK)
            goto out;
    } else if (r->o->attestation_cmd != NULL) {
        rc = run_attestation_cmd(r, &att, &attlen);
        if (rc == PE_OK)
            rc = ca_b64(att, attlen, &att_b64);
        if (rc != PE_OK)
            goto out;
    } else if (tok_family(r->ctx) == TOK_FAMILY_YKCS11) {
        rc = enroll_yk_attestation(r->ctx, r->key, &att_b64);
        if (rc != PE_OK)
            goto out;
        yubikey = true;
    }
    req.csr_der = der;
    req.csr_len = (size_t)derlen;
    req.email = rec->email;
    req.first_name = rec->first_name;
    req.last_name = rec->last_name;
    req.title = rec->title;
    req.san_email = rec->san_email;
    req.term = rec->term;
    req.hsm_type = r->o->hsm_type != NULL ? r->o->hsm_type
                   : yubikey              ? "YUBIKEY"
                                          : NULL;
    req.attestation_b64 = att_b64;
    rc = journal_step(rec, JOURNAL_SUBMITTING, NULL);
    if (rc != PE_OK)
        goto out;
    crash_point(rec);
    say("Submitting the request to %s...", rec->url);
    rc = r->ca->ops->submit(r->ca, &req, &id);
    if (rc != PE_OK) {
        /* a clear refusal: nothing is pending at the CA.  Anything else
         * (no answer, a garbled one) stays "submitting". */
        if (rc == PE_E_REJECTED || rc == PE_E_CA_AUTH || rc == PE_E_USAGE)
            journal_step(rec, JOURNAL_CSR_BUILT, pe_sentence(rc));
        goto out;
    }
    rc = journal_set(&rec->request_id, id);
    if (rc == PE_OK)
        rc = journal_step(rec, JOURNAL_SUBMITTED, NULL);
    if (rc == PE_OK)
        say("Submitted: request %s (enrollment %s).", id, rec->id);
out:
    free(id);
    free(att_b64);
    free(att);
    free(der);
    return rc;
}

static void note_status(void *arg, const struct ca_status *st)
{
    struct journal_rec *rec = arg;

    if (rec->ca_status == NULL || strcmp(rec->ca_status, st->word) != 0) {
        journal_set(&rec->ca_status, st->word);
        /* issued: saved with the download, which follows at once */
        if (st->state != CA_STATE_ISSUED)
            journal_save(rec);
    }
}

/* Wait for issuance, then download and save the bundle beside the record. */
static enum pe_rc run_wait_download(struct run *r)
{
    struct journal_rec *rec = r->rec;
    struct poll_opts po;
    struct ca_status st;
    unsigned char *buf = NULL;
    char *path = NULL;
    size_t len = 0;
    int round;
    enum pe_rc rc = PE_OK;

    po.wait_s = r->o->no_wait       ? 0
                : r->o->wait_s >= 0 ? r->o->wait_s
                                    : DEFAULT_WAIT;
    po.first_s = r->o->poll_first;
    po.max_s = r->o->poll_max;
    for (round = 0; round < 3; round++) {
        if (rec->status == JOURNAL_SUBMITTED) {
            rc = poll_until_done(r->ca, rec->request_id, &po, note_status, rec,
                                 &st);
            if (rc == PE_E_REJECTED) {
                journal_set(&rec->ca_status, st.word);
                journal_step(rec, JOURNAL_REJECTED, pe_detail());
                return rc;
            }
            if (rc != PE_OK)
                return rc;
            /* saved with the bundle (or an error): a crash before then
             * polls again */
            rc = journal_mark(rec, JOURNAL_ISSUED);
            if (rc != PE_OK)
                return rc;
        }
        rc = r->ca->ops->download(r->ca, rec->request_id, &buf, &len, &st);
        if (rc != PE_PENDING)
            break;
        /* issued but not collectable yet: wait a little more */
        rc = journal_step(rec, JOURNAL_SUBMITTED, NULL);
        if (rc != PE_OK)
            return rc;
    }
    if (rc == PE_PENDING)
        return pe_failf(PE_PENDING,
                        "Request %s is issued but cannot be "
                        "downloaded yet.",
                        rec->request_id);
    if (rc != PE_OK)
        return rc;
    rc = journal_path(rec, ".bundle", &path);
    /* the check needs the processor, the saves the disk: both at once;
     * nothing reaches the token before enroll_install sees the result */
    if (rc == PE_OK && r->key != NULL)
        enroll_check_start(&r->check, r->key, r->trust, buf, len, path);
    if (rc == PE_OK)
        rc = fileio_write_atomic(path, buf, len, 0600);
    if (rc == PE_OK)
        rc = journal_step(rec, JOURNAL_DOWNLOADED, NULL);
    enroll_check_wait(&r->check); /* before buf and path go */
    free(path);
    free(buf);
    return rc;
}

static void run_free(struct run *r)
{
    enroll_check_clear(&r->check);
    bundle_certs_free(r->trust);
    ca_free(r->ca);
    secret_free(r->client_secret);
    tok_key_free(r->key);
    tok_close(r->ctx);
}

/* A rejected record: report the key, remove it only when asked. */
static enum pe_rc run_rejected(struct run *r)
{
    struct journal_rec *rec = r->rec;
    enum pe_rc rc;

    if (!r->o->remove_key) {
        return pe_failf(PE_E_REJECTED,
                        "Enrollment %s was rejected%s%s.  Key %s stays on "
                        "the token; remove it with: p11enroll resume %s "
                        "--remove-key",
                        rec->id, rec->last_error ? ": " : "",
                        rec->last_error ? rec->last_error : "",
                        rec->key_id_hex ? rec->key_id_hex : "?", rec->id);
    }
    if (strcmp(rec->key_origin ? rec->key_origin : "", "reused") == 0)
        return pe_failf(PE_E_USAGE,
                        "Key %s was not made for enrollment %s; "
                        "it is not removed.",
                        rec->key_id_hex, rec->id);
    rc = run_token(r);
    if (rc == PE_OK)
        rc = run_key(r);
    if (rc == PE_OK) {
        rc = tok_key_destroy(r->key);
        r->key = NULL;
    }
    if (rc == PE_OK) {
        say("Removed key %s of rejected enrollment %s.", rec->key_id_hex,
            rec->id);
        rc = journal_set(&rec->key_uri, NULL);
        if (rc == PE_OK)
            rc = journal_step(rec, JOURNAL_REJECTED, "key removed");
    }
    return rc;
}

enum pe_rc enroll_run(struct journal_rec *rec, const struct enroll_opts *o)
{
    struct run r;
    enum pe_rc rc, prc;

    memset(&r, 0, sizeof(r));
    r.rec = rec;
    r.o = o;
    if (rec->status == JOURNAL_REJECTED) {
        rc = run_rejected(&r);
        goto out;
    }
    if (rec->status == JOURNAL_INSTALLED) {
        say("Enrollment %s is finished already.", rec->id);
        rc = PE_OK;
        goto out;
    }
    rc = run_ca(&r);
    /* log in and accept terms before a key is made; a login that asks the
     * person nothing runs while the token is opened */
    if (rc == PE_OK && rec->status < JOURNAL_SUBMITTED)
        rc = ca_prepare_start(r.ca);
    if (rc == PE_OK && !rec->saved) { /* a new one: its first save */
        rc = journal_save(rec);
        if (rc == PE_OK)
            say("Enrollment %s recorded in %s.", rec->id, rec->dir);
    }
    if (rc == PE_OK)
        rc = run_token(&r);
    if (rc == PE_OK)
        rc = enroll_load_trust(rec, &r.trust);
    if (rc == PE_OK)
        rc = run_key_id(&r);
    prc = ca_prepare_wait(r.ca); /* its failure first, as if it ran first */
    if (prc != PE_OK) {
        rc = prc;
        run_key_id_undo(&r);
    }
    if (rc == PE_OK)
        rc = run_key(&r);
    if (rc == PE_OK)
        crash_point(rec);
    if (rc == PE_OK && rec->status < JOURNAL_CSR_BUILT)
        rc = run_csr(&r);
    if (rc == PE_OK && rec->status < JOURNAL_SUBMITTED)
        rc = run_submit(&r);
    if (rc == PE_OK)
        crash_point(rec);
    if (rc == PE_OK && rec->status < JOURNAL_DOWNLOADED)
        rc = run_wait_download(&r);
    if (rc == PE_OK)
        crash_point(rec);
    if (rc == PE_OK && rec->status == JOURNAL_DOWNLOADED)
        rc = enroll_install(r.ctx, r.key, rec, r.trust, &r.check, o);
    if (rc != PE_OK && rc != PE_PENDING && rc != PE_E_REJECTED &&
        !journal_status_final(rec->status))
        journal_step(rec, rec->status, pe_sentence(rc));
out:
    if (rc == PE_PENDING && strstr(pe_detail(), "cannot be downloaded") == NULL)
        pe_failf(PE_PENDING,
                 "Request %s is still pending at the CA; continue with: "
                 "p11enroll resume %s",
                 rec->request_id ? rec->request_id : "?", rec->id);
    enroll_report(rec, o->json, rc);
    run_free(&r);
    return rc;
}
