/* SPDX-License-Identifier: Apache-2.0 */
/*
 * issue.c - CSR checks, the request life cycle (Applied -> Issued or
 * Rejected) and the download formats of docs/PROTOCOL.md
 * section 3.
 */
#include "issue.h"
#include "attest.h"
#include "ca.h"
#include "config.h"
#include "faults.h"
#include "store.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 64
#define CERT_MAX     8 /* certificates in one download */

static const char *const hsm_types[] = {
    "LUNA",     "YUBIKEY", "YUBIHSM2", "MARVELL_GOOGLE",
    "FORTANIX", "NSHIELD", NULL};

/* Printable UTF-8 text without control characters, 1..max bytes. */
static bool plain_text(const char *s, size_t max)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int check_string(const json_t *body, const char *key, size_t max,
                        bool email, struct sim_reply *rp)
{
    json_t *v = json_object_get(body, key);
    const char *s;

    if (v == NULL || json_is_null(v))
        return 0;
    s = json_string_value(v);
    if (s == NULL) {
        reply_error(rp, 400, -2, "%s must be a string", key);
        return -1;
    }
    if (s[0] == '\0')
        return 0;
    if (email ? !util_valid_email(s) : !plain_text(s, max)) {
        reply_error(rp, 400, -2, "%s is not valid%s", key,
                    email ? " (an e-mail address expected)"
                          : " (printable text of at most 64 bytes)");
        return -1;
    }
    return 0;
}

int issue_check_fields(const json_t *body, struct sim_reply *rp)
{
    const char *hsm = json_string_value(json_object_get(body, "hsmType"));
    json_t *cf = json_object_get(body, "customFields");
    size_t i;

    if (check_string(body, "firstName", NAME_MAX_LEN, false, rp) != 0 ||
        check_string(body, "lastName", NAME_MAX_LEN, false, rp) != 0 ||
        check_string(body, "title", NAME_MAX_LEN, false, rp) != 0 ||
        check_string(body, "email", 0, true, rp) != 0 ||
        check_string(body, "sanEmailAddress", 0, true, rp) != 0)
        return -1;
    if (json_object_get(body, "hsmType") != NULL) {
        for (i = 0; hsm != NULL && hsm_types[i] != NULL; i++)
            if (strcmp(hsm, hsm_types[i]) == 0)
                break;
        if (hsm == NULL || hsm_types[i] == NULL) {
            reply_error(rp, 400, -2,
                        "hsmType must be one of LUNA, YUBIKEY, "
                        "YUBIHSM2, MARVELL_GOOGLE, FORTANIX, NSHIELD");
            return -1;
        }
    }
    if (json_object_get(body, "attestation") != NULL &&
        !json_is_string(json_object_get(body, "attestation"))) {
        reply_error(rp, 400, -2, "attestation must be a base64 string");
        return -1;
    }
    if (cf != NULL && !json_is_object(cf)) {
        reply_error(rp, 400, -62, "customFields must be an object");
        return -1;
    }
    return 0;
}

int issue_check_names(const json_t *rec, struct sim_reply *rp)
{
    size_t n = strlen(config_member(rec, "firstName", "")) +
               strlen(config_member(rec, "lastName", "")) + 1;

    if (n > NAME_MAX_LEN) {
        reply_error(rp, 400, -2,
                    "firstName and lastName together are "
                    "longer than the 64 characters of a common name");
        return -1;
    }
    return 0;
}

/* Reject keys a code-signing CA must not certify. */
static int check_key(EVP_PKEY *pub, struct sim_reply *rp)
{
    char group[64] = "";
    int bits = EVP_PKEY_get_bits(pub);

    if (EVP_PKEY_is_a(pub, "RSA")) {
        if (bits < 3072) {
            reply_error(rp, 400, -141,
                        "RSA key of %d bits is too small: "
                        "code signing needs at least 3072 bits",
                        bits);
            return -1;
        }
        if (bits > 8192) {
            reply_error(rp, 400, -13,
                        "RSA key of %d bits is not "
                        "supported (at most 8192)",
                        bits);
            return -1;
        }
        return 0;
    }
    if (EVP_PKEY_is_a(pub, "EC")) {
        if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), NULL) != 1)
            group[0] = '\0';
        if (strcmp(group, "prime256v1") == 0 ||
            strcmp(group, "secp384r1") == 0 || strcmp(group, "secp521r1") == 0)
            return 0;
        reply_error(rp, 400, -11,
                    "EC curve \"%s\" is not allowed: use "
                    "P-256, P-384 or P-521",
                    group[0] ? group : "unnamed");
        return -1;
    }
    reply_error(rp, 400, -11,
                "key type %s is not allowed: use RSA (3072 "
                "bits or more) or EC (P-256, P-384, P-521)",
                EVP_PKEY_get0_type_name(pub) ? EVP_PKEY_get0_type_name(pub)
                                             : "unknown");
    return -1;
}

/* Parse b64 into a CSR; NULL with rp set on error. */
static X509_REQ *csr_parse(const char *b64, struct sim_reply *rp)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509_REQ *req = NULL;
    size_t len = 0;

    if (strstr(b64, "-----BEGIN") != NULL) {
        reply_error(rp, 400, -9,
                    "The CSR must be the base64 of its DER on "
                    "one line, without BEGIN/END lines");
        return NULL;
    }
    der = util_b64_decode(b64, strlen(b64), &len);
    if (der == NULL) {
        reply_error(rp, 400, -9,
                    "The CSR is not valid Base-64 data (one "
                    "line, no whitespace)");
        return NULL;
    }
    p = der;
    req = d2i_X509_REQ(NULL, &p, (long)len);
    if (req == NULL || (size_t)(p - der) != len) {
        X509_REQ_free(req);
        req = NULL;
        reply_error(rp, 400, -10,
                    "Error decoding CSR: not a PKCS#10 "
                    "request in DER");
    }
    ERR_clear_error();
    free(der);
    return req;
}

int issue_check_csr(const char *b64, struct sim_reply *rp)
{
    X509_REQ *req = csr_parse(b64, rp);
    EVP_PKEY *pub;
    int md = NID_undef, pk = NID_undef, rc = -1;

    if (req == NULL)
        return -1;
    pub = X509_REQ_get0_pubkey(req);
    if (pub == NULL) {
        reply_error(rp, 400, -78,
                    "the CSR's public key is invalid or "
                    "unsupported");
        goto out;
    }
    if (check_key(pub, rp) != 0)
        goto out;
    if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md, &pk) &&
        (md == NID_sha1 || md == NID_md5)) {
        reply_error(rp, 400, -11,
                    "the CSR is signed with %s: use SHA-256 "
                    "or stronger",
                    OBJ_nid2sn(md));
        goto out;
    }
    if (X509_REQ_verify(req, pub) != 1) {
        reply_error(rp, 400, -138,
                    "Invalid CSR: its signature does not "
                    "verify with its own public key");
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_REQ_free(req);
    return rc;
}

int issue_check_request_csr(struct sim *s, const json_t *body,
                            const json_t *holder, json_t **pprofile,
                            struct sim_reply *rp)
{
    const char *csr = json_string_value(json_object_get(body, "csr"));

    *pprofile = NULL;
    if (csr == NULL || csr[0] == '\0') {
        reply_error(rp, 400, -7, "csr is required but missing");
        return -1;
    }
    *pprofile = config_find(s->cfg, "profiles", "name",
                            config_member(holder, "profile", ""), 0);
    if (issue_check_csr(csr, rp) != 0 ||
        attest_check(*pprofile,
                     json_object_get(s->cfg->root, "manufacturerRoots"), body,
                     csr, rp) != 0)
        return -1;
    return 0;
}

int issue_fill_record(struct sim *s, const json_t *body,
                      const char *const *copy, const char *email,
                      const json_t *holder, json_t *rec, struct sim_reply *rp)
{
    json_t *person;
    size_t i;

    for (i = 0; copy[i] != NULL; i++)
        if (json_is_string(json_object_get(body, copy[i])))
            json_object_set(rec, copy[i], json_object_get(body, copy[i]));
    person = config_find(s->cfg, "persons", "email", email, 1);
    if (config_member(rec, "firstName", "")[0] == '\0')
        json_object_set_new(
            rec, "firstName",
            json_string(config_member(person, "firstName", email)));
    if (config_member(rec, "lastName", "")[0] == '\0')
        json_object_set_new(rec, "lastName",
                            json_string(config_member(person, "lastName", "")));
    if (issue_check_names(rec, rp) != 0)
        return -1;
    json_object_set_new(rec, "organization",
                        json_string(config_str(s->cfg, "organization")));
    json_object_set_new(rec, "department",
                        json_string(config_member(holder, "department", "")));
    json_object_set_new(rec, "profile",
                        json_string(config_member(holder, "profile", "")));
    return 0;
}

/* The word a client reads for status: pendingStatus while Applied, in the
 * configured case. */
static const char *status_word(const struct sim *s, const char *status,
                               char *buf, size_t buflen)
{
    size_t i;

    if (strcmp(status, "Applied") == 0)
        status = s->cfg->pending_status;
    snprintf(buf, buflen, "%s", status);
    for (i = 0; buf[i] != '\0'; i++) {
        if (s->cfg->status_case == CONFIG_CASE_UPPER)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        else if (s->cfg->status_case == CONFIG_CASE_LOWER)
            buf[i] = (char)tolower((unsigned char)buf[i]);
    }
    return buf;
}

/* Hex SHA-256 of the CSR's SubjectPublicKeyInfo into out[65]. */
static void key_fingerprint(const char *b64, char out[65])
{
    struct sim_reply dummy = {0};
    X509_REQ *req = csr_parse(b64, &dummy);
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0, i;
    int len;

    out[0] = '\0';
    len = req != NULL ? i2d_PUBKEY(X509_REQ_get0_pubkey(req), &der) : -1;
    if (len > 0 &&
        EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1)
        for (i = 0; i < mdlen && i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    OPENSSL_free(der);
    X509_REQ_free(req);
    free(dummy.body);
    ERR_clear_error();
}

void issue_submit(struct sim *s, const struct sim_req *rq, json_t *rec,
                  struct sim_reply *rp)
{
    char fp[65], word[32];

    struct fault_hit hit;
    time_t now = util_now();
    const char *id;

    if (faults_take(s->faults, PHASE_ENROLL, rq->method, rq->path, &hit))
        json_object_set_new(rec, "fault", json_string(fault_name(hit.type)));
    key_fingerprint(config_member(rec, "csr", ""), fp);
    json_object_set_new(rec, "keySha256", json_string(fp));
    json_object_set_new(rec, "status", json_string("Applied"));
    json_object_set_new(rec, "created", json_integer((json_int_t)now));
    json_object_set_new(
        rec, "issueAt",
        json_integer((json_int_t)(now + s->cfg->issuance_delay)));
    if (store_create(s, rec) != 0) {
        reply_error(rp, 500, -129, "cannot store the request");
        return;
    }
    id = json_string_value(json_object_get(rec, "id"));
    sim_log("request %s applied (owner %s, fault %s)", id,
            config_member(rec, "owner", "?"),
            config_member(rec, "fault", "none"));
    reply_json(rp, 200,
               json_pack("{s:s, s:s}", "certId", id, "status",
                         status_word(s, "Applied", word, sizeof(word))));
}

/* Make the certificate of rec (status Applied, due); 0 or -1. */
static int make_cert(struct sim *s, json_t *rec)
{
    const char *fault = config_member(rec, "fault", "");
    X509_REQ *req = NULL;
    EVP_PKEY *pub = NULL;
    X509 *leaf = NULL;
    struct sim_reply dummy = {0};
    struct ca_subject subj;
    char err[256], *cn = NULL;
    BIO *mem = NULL;
    char *pem = NULL;
    long len;
    int rc = -1;

    req = csr_parse(config_member(rec, "csr", ""), &dummy);
    if (req == NULL)
        goto out;
    if (strcmp(fault, "other_key") == 0) {
        pub = EVP_PKEY_is_a(X509_REQ_get0_pubkey(req), "RSA")
                  ? EVP_RSA_gen(2048)
                  : EVP_EC_gen("P-256");
    } else {
        pub = X509_REQ_get_pubkey(req);
    }
    cn = util_printf("%s%s%s", config_member(rec, "firstName", ""),
                     config_member(rec, "lastName", "")[0] ? " " : "",
                     config_member(rec, "lastName", ""));
    if (pub == NULL || cn == NULL)
        goto out;
    subj.cn = cn;
    subj.o = config_member(rec, "organization", "");
    subj.ou = config_member(rec, "department", NULL);
    subj.email = config_member(rec, "sanEmailAddress", NULL);
    if (ca_issue(s->ca, pub, &subj,
                 (long)json_integer_value(json_object_get(rec, "term")), &leaf,
                 err, sizeof(err)) != 0) {
        sim_log("request %s: %s", config_member(rec, "id", "?"), err);
        goto out;
    }
    mem = BIO_new(BIO_s_mem());
    if (mem == NULL || PEM_write_bio_X509(mem, leaf) != 1)
        goto out;
    len = BIO_get_mem_data(mem, &pem);
    json_object_set_new(rec, "cert", json_stringn(pem, (size_t)len));
    rc = 0;
out:
    free(dummy.body);
    free(cn);
    BIO_free(mem);
    X509_free(leaf);
    EVP_PKEY_free(pub);
    X509_REQ_free(req);
    ERR_clear_error();
    return rc;
}

/* Move rec to its next state when it is due. */
static void advance(struct sim *s, json_t *rec)
{
    const char *status = config_member(rec, "status", "");
    json_int_t due = json_integer_value(json_object_get(rec, "issueAt"));

    if (strcmp(status, "Applied") != 0 || (json_int_t)util_now() < due)
        return;
    if (strcmp(config_member(rec, "fault", ""), "rejected") == 0) {
        json_object_set_new(rec, "status", json_string("Rejected"));
        json_object_set_new(rec, "statusReason",
                            json_string("the CA rejected the request"));
    } else if (make_cert(s, rec) == 0) {
        json_object_set_new(rec, "status", json_string("Issued"));
        json_object_set_new(rec, "issued",
                            json_integer((json_int_t)util_now()));
    } else {
        return;
    }
    sim_log("request %s %s", config_member(rec, "id", "?"),
            config_member(rec, "status", "?"));
    store_save(s, rec);
}

/* Load id for owner and advance it; NULL with a 404 in rp otherwise. */
static json_t *load_own(struct sim *s, const char *owner, const char *id,
                        struct sim_reply *rp)
{
    json_t *rec = store_load(s, id);

    if (rec == NULL || strcmp(config_member(rec, "owner", ""), owner) != 0) {
        json_decref(rec);
        reply_error(rp, 404, -105, "Unknown certificate ID %.40s", id);
        return NULL;
    }
    advance(s, rec);
    return rec;
}

void issue_status(struct sim *s, const char *owner, const char *id,
                  struct sim_reply *rp)
{
    json_t *rec = load_own(s, owner, id, rp), *out;
    char word[32];

    if (rec == NULL)
        return;
    out = json_pack("{s:s, s:s}", "certId", id, "status",
                    status_word(s, config_member(rec, "status", "Applied"),
                                word, sizeof(word)));
    if (out != NULL && json_object_get(rec, "statusReason") != NULL) {
        json_object_set(out, "statusReason",
                        json_object_get(rec, "statusReason"));
        json_object_set(out, "description",
                        json_object_get(rec, "statusReason"));
    }
    reply_json(rp, 200, out);
    json_decref(rec);
}

/* The chain of a format: indexes into {leaf, intermediate, root}. */
static const struct {
    const char *name;
    const char *order; /* 'l' leaf, 'i' intermediate, 'r' root */
    int kind;          /* 0 PEM, 1 PKCS#7 DER, 2 PKCS#7 PEM */
} formats[] = {
    {"x509", "lir", 0},   {"pem", "lir", 0},    {"x509CO", "l", 0},
    {"pemco", "l", 0},    {"pemia", "li", 0},   {"x509R", "ril", 0},
    {"x509IO", "ri", 0},  {"x509IOR", "ir", 0}, {"bin", "lir", 1},
    {"base64", "lir", 2},
};

static int write_format(BIO *out, int kind, X509 **certs, size_t n)
{
    PKCS7 *p7 = NULL;
    size_t i;
    int rc = -1;

    if (kind == 0) {
        for (i = 0; i < n; i++)
            if (PEM_write_bio_X509(out, certs[i]) != 1)
                return -1;
        return 0;
    }
    p7 = PKCS7_new();
    if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
        PKCS7_content_new(p7, NID_pkcs7_data) != 1)
        goto out;
    for (i = 0; i < n; i++)
        if (PKCS7_add_certificate(p7, certs[i]) != 1)
            goto out;
    if (kind == 1 ? i2d_PKCS7_bio(out, p7) != 1
                  : PEM_write_bio_PKCS7(out, p7) != 1)
        goto out;
    rc = 0;
out:
    PKCS7_free(p7);
    return rc;
}

/* Answer the certificate of an Issued rec in format index f. */
static void download(struct sim *s, json_t *rec, size_t f, struct sim_reply *rp)
{
    const char *pem = config_member(rec, "cert", "");
    X509 *leaf = NULL, *in = NULL, *root = NULL, *certs[CERT_MAX];
    BIO *src = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
    bool wrong =
        strcmp(config_member(rec, "fault", ""), "wrong_intermediate") == 0;
    const char *o;
    char *data = NULL;
    size_t n = 0;
    long len;

    if (src != NULL)
        leaf = PEM_read_bio_X509(src, NULL, NULL, NULL);
    if (out == NULL || leaf == NULL ||
        ca_chain(s->ca, leaf, wrong, &in, &root) != 0) {
        reply_error(rp, 500, -169,
                    "the certificate is not available, "
                    "contact the administrator");
        goto out;
    }
    for (o = formats[f].order; *o != '\0' && n < CERT_MAX; o++)
        certs[n++] = *o == 'l' ? leaf : *o == 'i' ? in : root;
    if (write_format(out, formats[f].kind, certs, n) != 0) {
        reply_error(rp, 500, -169, "cannot encode the certificate");
        goto out;
    }
    len = BIO_get_mem_data(out, &data);
    reply_bytes(rp, 200,
                formats[f].kind == 1   ? "application/pkcs7-mime"
                : formats[f].kind == 2 ? "application/x-pkcs7-certificates"
                                       : "application/x-pem-file",
                data, (size_t)len);
    rp->pem = true;
out:
    ERR_clear_error();
    X509_free(leaf);
    BIO_free(src);
    BIO_free(out);
}

void issue_download(struct sim *s, const char *owner, const char *id,
                    const char *format, struct sim_reply *rp)
{
    const char *status;
    json_t *rec = NULL;
    size_t f;

    for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
        if (strcasecmp(formats[f].name, format ? format : "x509") == 0)
            break;
    if (f == sizeof(formats) / sizeof(formats[0])) {
        reply_error(rp, 400, -1450,
                    "Unsupported certificate format "
                    "\"%.40s\" (x509, pem, x509CO, pemco, pemia, x509R, "
                    "x509IO, x509IOR, bin, base64)",
                    format);
        return;
    }
    rec = load_own(s, owner, id, rp);
    if (rec == NULL)
        return;
    status = config_member(rec, "status", "");
    if (strcmp(status, "Issued") == 0)
        download(s, rec, f, rp);
    else if (strcmp(status, "Applied") == 0)
        reply_error(rp, 404, -103,
                    "Certificate has not been collected yet: "
                    "the request is still being processed");
    else
        reply_error(rp, 400, -183,
                    "Certificate is not collectable: the "
                    "request is %s",
                    status);
    json_decref(rec);
}
