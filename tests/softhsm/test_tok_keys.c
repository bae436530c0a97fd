/* SPDX-License-Identifier: Apache-2.0 */
/* Key generation, safety attributes, finding and signing on SoftHSM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tok_int.h"
#include "tok_testutil.h"

TU_LOGIN_FIXTURE()

static bool attr_bool(struct tok_key *key, CK_ATTRIBUTE_TYPE t)
{
    bool v = false;
    CHECK_INT(tok_attr_bool(ctx, key->priv, t, &v), CKR_OK);
    return v;
}

/* Generate, check attributes, sign and verify with the token public key. */
static void gen_sign_verify(enum tok_keytype type, int pkey_id, int bits,
                            const EVP_MD *md)
{
    struct tok_key *key = NULL, *again = NULL;
    EVP_PKEY *pub = NULL;
    const unsigned char *id;
    size_t idlen;
    enum tok_keytype got;

    CHECK_INT(tok_key_generate(ctx, type, "test key", &key), PE_OK);
    CHECK(attr_bool(key, CKA_TOKEN));
    CHECK(attr_bool(key, CKA_PRIVATE));
    CHECK(attr_bool(key, CKA_SENSITIVE));
    CHECK(!attr_bool(key, CKA_EXTRACTABLE));
    CHECK(attr_bool(key, CKA_LOCAL));
    CHECK(attr_bool(key, CKA_SIGN));
    CHECK_STR(tok_key_label(key), "test key");
    CHECK_INT(tok_key_type(key, &got), PE_OK);
    CHECK_INT(got, type);
    tok_key_id(key, &id, &idlen);
    CHECK_INT(idlen, 16);
    CHECK_CONTAINS(tok_key_uri(key), "type=private");
    CHECK_CONTAINS(tok_key_uri(key), "object=test%20key");
    CHECK_CONTAINS(tok_key_uri(key), "token=p11e-test");
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK_INT(EVP_PKEY_get_base_id(pub), pkey_id);
    CHECK_INT(EVP_PKEY_get_bits(pub), bits);
    CHECK(tu_sign_verify(key, pub, md));
    CHECK(tu_sign_verify(key, pub,
                         md == EVP_sha256() ? EVP_sha384() : EVP_sha256()));
    /* found again by ID and by public key */
    CHECK_INT(tok_key_find_by_id(ctx, id, idlen, &again), PE_OK);
    CHECK_STR(tok_key_uri(again), tok_key_uri(key));
    tok_key_free(again);
    CHECK_INT(tok_key_find_by_public(ctx, pub, &again), PE_OK);
    CHECK_STR(tok_key_uri(again), tok_key_uri(key));
    tok_key_free(again);
    CHECK_INT(tok_key_find_by_uri(ctx, tok_key_uri(key), &again), PE_OK);
    tok_key_free(again);
    EVP_PKEY_free(pub);
    tok_key_free(key);
}

TEST("/tok/key/ec_p256")
{
    gen_sign_verify(TOK_EC_P256, EVP_PKEY_EC, 256, EVP_sha256());
}

TEST("/tok/key/ec_p384")
{
    gen_sign_verify(TOK_EC_P384, EVP_PKEY_EC, 384, EVP_sha384());
}

TEST("/tok/key/rsa_3072")
{
    gen_sign_verify(TOK_RSA_3072, EVP_PKEY_RSA, 3072, EVP_sha256());
}

TEST("/tok/key/rsa_4096")
{
    gen_sign_verify(TOK_RSA_4096, EVP_PKEY_RSA, 4096, EVP_sha384());
}

TEST("/tok/key/fresh_ids")
{
    struct tok_key *a = NULL, *b = NULL;
    const unsigned char *ia, *ib;
    size_t la, lb;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "a", &a), PE_OK);
    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "a", &b), PE_OK);
    tok_key_id(a, &ia, &la);
    tok_key_id(b, &ib, &lb);
    CHECK(la == lb && memcmp(ia, ib, la) != 0);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 2);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PUBLIC_KEY, NULL, 0), 2);
    tok_key_free(a);
    tok_key_free(b);
}

TEST("/tok/key/explicit_id_in_use_is_refused")
{
    static const unsigned char id[] = {0x42};
    struct tok_keygen spec = {TOK_EC_P256, "x", id, 1, false, false};
    struct tok_key *a = NULL, *b = NULL;

    CHECK_INT(tok_key_generate_ex(ctx, &spec, &a), PE_OK);
    CHECK_INT(tok_key_generate_ex(ctx, &spec, &b), PE_E_KEY);
    CHECK(b == NULL);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 1);
    tok_key_free(a);
}

TEST("/tok/key/destroy")
{
    struct tok_key *key = NULL, *k2 = NULL;
    unsigned char id[16];
    const unsigned char *pid;
    size_t len;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "gone", &key), PE_OK);
    tok_key_id(key, &pid, &len);
    memcpy(id, pid, len);
    CHECK_INT(tok_key_destroy(key), PE_OK);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PRIVATE_KEY, NULL, 0), 0);
    CHECK_INT(tu_count(ctx, TOK_OBJ_PUBLIC_KEY, NULL, 0), 0);
    CHECK_INT(tok_key_find_by_id(ctx, id, len, &k2), PE_E_KEY);
}

TEST("/tok/key/find_by_public_of_a_stranger")
{
    struct tok_key *key = NULL, *k2 = NULL;
    EVP_PKEY *other = tu_ec_key();

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "mine", &key), PE_OK);
    CHECK_INT(tok_key_find_by_public(ctx, other, &k2), PE_E_KEY);
    CHECK(k2 == NULL);
    CHECK_CONTAINS(pe_detail(), "No private key");
    EVP_PKEY_free(other);
    tok_key_free(key);
}

TEST("/tok/key/find_by_uri_checks_the_token")
{
    struct tok_key *k = NULL;

    CHECK_INT(tok_key_find_by_uri(ctx, "pkcs11:token=other;id=%01", &k),
              PE_E_USAGE);
    CHECK_INT(tok_key_find_by_uri(ctx, "pkcs11:token=p11e-test;id=%01", &k),
              PE_E_KEY);
    CHECK_INT(tok_key_find_by_uri(ctx, "pkcs11:token=p11e-test", &k),
              PE_E_USAGE);
}

TEST("/tok/sign/always_authenticate_uses_the_same_pin")
{
    struct tok_keygen spec = {TOK_EC_P256, "9c", NULL, 0, true, false};
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK(tok_key_always_auth(key));
    CHECK(attr_bool(key, CKA_ALWAYS_AUTHENTICATE));
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    /* the PIN file is gone: the context logins must use the kept PIN */
    CHECK_INT(remove(pinpath), 0);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    tok_key_free(key);
}

TEST("/tok/sign/always_authenticate_rsa")
{
    struct tok_keygen spec = {TOK_RSA_3072, "rsa9c", NULL, 0, true, false};
    struct tok_key *key = NULL;
    EVP_PKEY *pub = NULL;

    CHECK_INT(tok_key_generate_ex(ctx, &spec, &key), PE_OK);
    CHECK_INT(tok_key_public(key, &pub), PE_OK);
    CHECK(tu_sign_verify(key, pub, EVP_sha256()));
    EVP_PKEY_free(pub);
    tok_key_free(key);
}

TEST("/tok/sign/bad_digest_length")
{
    struct tok_key *key = NULL;
    unsigned char dg[20] = {0}, *sig = NULL;
    size_t siglen = 0;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(tok_sign_digest(key, NID_sha256, dg, sizeof(dg), &sig, &siglen),
              PE_E_INTERNAL);
    CHECK(sig == NULL);
    tok_key_free(key);
}

TEST("/tok/key/pkcs11_tool_key_is_found")
{
    struct tok_key *key = NULL;
    static const unsigned char id[] = {0x77};

    CHECK_INT(fx_sh("pkcs11-tool --module '%s' --token-label %s --login "
                    "--pin %s --keypairgen --key-type EC:prime256v1 --id 77 "
                    "--label tool >/dev/null 2>&1",
                    fx.module, FX_LABEL, FX_USER_PIN),
              0);
    CHECK_INT(tok_key_find_by_id(ctx, id, 1, &key), PE_OK);
    CHECK_STR(tok_key_label(key), "tool");
    tok_key_free(key);
}

/* A key pair made outside p11enroll with the given safety attributes. */
static CK_OBJECT_HANDLE raw_keypair(CK_BBOOL sensitive, CK_BBOOL extractable)
{
    static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_EC_PARAMS, (void *)(uintptr_t)p256, sizeof(p256)}};
    CK_ATTRIBUTE priv[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
        {CKA_EXTRACTABLE, &extractable, sizeof(extractable)}};
    CK_OBJECT_HANDLE hpub, hpriv;

    CHECK_INT(ctx->fl->C_GenerateKeyPair(ctx->sess, &mech, pub, 2, priv, 4,
                                         &hpub, &hpriv),
              CKR_OK);
    return hpriv;
}

TEST("/tok/key/unsafe_keys_are_refused")
{
    CHECK_INT(tok_key_check_safe(ctx, raw_keypair(CK_FALSE, CK_FALSE)),
              PE_E_KEY);
    CHECK_CONTAINS(pe_detail(), "not sensitive");
    CHECK_INT(tok_key_check_safe(ctx, raw_keypair(CK_TRUE, CK_TRUE)), PE_E_KEY);
    CHECK_CONTAINS(pe_detail(), "extractable");
    CHECK_INT(tok_key_check_safe(ctx, raw_keypair(CK_TRUE, CK_FALSE)), PE_OK);
}

TEST("/tok/key/no_attestation_on_generic_tokens")
{
    struct tok_key *key = NULL;
    X509 *att = NULL, *f9 = NULL;

    CHECK_INT(tok_key_generate(ctx, TOK_EC_P256, "k", &key), PE_OK);
    CHECK_INT(tok_attestation_read(ctx, key, &att, &f9), PE_E_KEY);
    CHECK(att == NULL && f9 == NULL);
    CHECK_CONTAINS(pe_detail(), "attestation as a file");
    tok_key_free(key);
}
