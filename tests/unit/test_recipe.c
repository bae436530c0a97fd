/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_recipe.c - sign-setup's recipes (recipe.c) and export's formats:
 * tool names, module file names, quoting, and that no PIN is ever asked
 * to be printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "harness.h"
#include "recipe.h"

static char *print_recipe(const struct recipe_in *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    recipe_print(f, in);
    fclose(f);
    return buf;
}

static struct recipe_in sample(enum recipe_tool tool)
{
    static char cert[] = "/d/k.cert.pem", der[] = "/d/k.cert.der",
                mid[] = "/d/k.intermediates.pem", chain[] = "/d/k.chain.pem",
                root[] = "/d/k.root.pem", cfg[] = "/d/k.sunpkcs11.cfg",
                mod[] = "/d/ykcs11.module";
    struct recipe_in in = {0};

    in.tool = tool;
    in.module_path = "/usr/lib/x86_64-linux-gnu/libykcs11.so.2";
    in.slot_id = 3;
    in.token_label = "YubiKey PIV #123";
    in.key_uri = "pkcs11:token=t;id=%01;object=it's%20me;type=private";
    in.cert_uri = "pkcs11:token=t;id=%01;object=it's%20me;type=cert";
    in.label = "it's $HOME";
    in.label_unique = true;
    in.rsa = true;
    in.subject = "CN=x";
    in.expires = "2027-01-01 00:00:00 UTC";
    in.files.cert = cert;
    in.files.cert_der = der;
    in.files.intermediates = mid;
    in.files.certchain = chain;
    in.files.root = root;
    in.files.sunpkcs11 = cfg;
    in.files.module_file = mod;
    return in;
}

TEST("/recipe/tool_names_parse")
{
    enum recipe_tool t;
    int i;

    for (i = 0; i < RECIPE_TOOL_COUNT; i++) {
        CHECK_INT(recipe_tool_parse(recipe_tool_name((enum recipe_tool)i), &t),
                  PE_OK);
        CHECK_INT(t, i);
    }
    CHECK_INT(recipe_tool_parse("signtool", &t), PE_E_USAGE);
    CHECK_CONTAINS(pe_detail(), "osslsigncode, jarsigner");
}

TEST("/recipe/module_file_stem")
{
    char b[64];

    CHECK_STR(recipe_module_stem("/usr/lib/x86_64-linux-gnu/libykcs11.so.2", b,
                                 sizeof(b)),
              "ykcs11");
    CHECK_STR(recipe_module_stem("opensc-pkcs11.so", b, sizeof(b)),
              "opensc-pkcs11");
    CHECK_STR(recipe_module_stem("/x/libsofthsm2.so", b, sizeof(b)),
              "softhsm2");
}

TEST("/recipe/values_are_single_quoted")
{
    struct recipe_in in = sample(RECIPE_JARSIGNER);
    char *s = print_recipe(&in);

    CHECK(s != NULL);
    /* the alias keeps its quote and its $ as plain characters */
    CHECK_CONTAINS(s, "\"$IN\" 'it'\\''s $HOME'\n");
    CHECK_CONTAINS(s, "-providerArg '/d/k.sunpkcs11.cfg'");
    free(s);
}

TEST("/recipe/pin_from_file_env_or_prompt_never_inline")
{
    enum recipe_tool t;
    char *s;
    int k;

    for (t = 0; t < RECIPE_TOOL_COUNT; t++) {
        for (k = 0; k < 3; k++) {
            struct recipe_in in = sample(t);

            in.pin = k == 0 ? SECRET_FILE : k == 1 ? SECRET_ENV : SECRET_NONE;
            in.pin_arg = k == 0 ? "/run/pin" : k == 1 ? "HSM_PIN" : NULL;
            s = print_recipe(&in);
            CHECK(s != NULL);
            CHECK(strstr(s, "pin-value") == NULL);
            CHECK(strstr(s, "-pass ") == NULL);
            CHECK(strstr(s, "-passin pass:") == NULL);
            CHECK(strstr(s, "-passin 'pass:") == NULL);
            if (k == 1 && t == RECIPE_JARSIGNER)
                CHECK_CONTAINS(s, "-storepass:env HSM_PIN");
            if (k == 1 && t == RECIPE_OSSLSIGNCODE)
                CHECK_CONTAINS(s, "printf '%s' \"$HSM_PIN\" | osslsigncode");
            if (k == 0 && t == RECIPE_OPENSSL)
                CHECK_CONTAINS(s, "-passin 'file:/run/pin'");
            if (k == 2 && t == RECIPE_SBSIGN)
                CHECK(strstr(s, "pin-source") == NULL);
            free(s);
        }
    }
}

TEST("/recipe/sunpkcs11_config_has_library_and_slot")
{
    struct recipe_in in = sample(RECIPE_JARSIGNER);
    char *cfg = NULL;

    CHECK_INT(recipe_sunpkcs11_cfg(&in, &cfg), PE_OK);
    CHECK_CONTAINS(cfg,
                   "\nlibrary = /usr/lib/x86_64-linux-gnu/libykcs11.so.2\n");
    CHECK_CONTAINS(cfg, "\nslot = 3\n");
    free(cfg);
    CHECK_INT(recipe_p11kit_module(&in, &cfg), PE_OK);
    CHECK_CONTAINS(cfg, "\nmodule: /usr/lib/x86_64-linux-gnu/libykcs11.so.2\n");
    free(cfg);
}

TEST("/recipe/sbsign_warns_for_an_ec_key")
{
    struct recipe_in in = sample(RECIPE_SBSIGN);
    char *s;

    in.rsa = false;
    s = print_recipe(&in);
    CHECK_CONTAINS(s, "RSA signatures only");
    CHECK_CONTAINS(s, "mokutil --import '/d/k.cert.der'");
    free(s);
}

TEST("/export/format_names")
{
    enum export_format f;

    CHECK_INT(export_format_parse("pem", &f), PE_OK);
    CHECK_INT(f, EXPORT_PEM);
    CHECK_INT(export_format_parse("der", &f), PE_OK);
    CHECK_INT(f, EXPORT_DER);
    CHECK_INT(export_format_parse("pkcs7", &f), PE_OK);
    CHECK_INT(f, EXPORT_PKCS7);
    CHECK_INT(export_format_parse("p7b", &f), PE_E_USAGE);
}

TEST("/export/empty_chain_encodes_to_nothing")
{
    unsigned char *buf = NULL;
    size_t len = 1;

    CHECK_INT(export_encode(NULL, NULL, EXPORT_PEM, &buf, &len), PE_OK);
    CHECK_INT(len, 0);
    free(buf);
    CHECK_INT(export_encode(NULL, NULL, EXPORT_DER, &buf, &len), PE_OK);
    CHECK_INT(len, 0);
    free(buf);
}
