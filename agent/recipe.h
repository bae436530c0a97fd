/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recipe.h - ready-to-run signing commands for a key on a token, and the
 * config files they need, for `p11enroll sign-setup TOOL`.
 *
 * A recipe is a POSIX shell script: comments say what each line does and
 * how the tool gets the PIN; the commands read the file to sign from $IN
 * and write $OUT, so the printed text runs as it is:
 *
 *   p11enroll sign-setup osslsigncode ... > sign.sh
 *   IN=app.exe OUT=app-signed.exe sh sign.sh
 *
 * The PIN never appears in a recipe or a config file: a tool reads it from
 * the file or variable the user named (the path or the name is printed),
 * or asks for it.
 */
#ifndef P11E_RECIPE_H
#define P11E_RECIPE_H

#include <stdbool.h>
#include <stdio.h>

#include "rc.h"
#include "secret.h"

enum recipe_tool {
    RECIPE_OSSLSIGNCODE, /* Authenticode through libp11's engine */
    RECIPE_JARSIGNER,    /* JAR (and APK) through SunPKCS11 */
    RECIPE_SBSIGN,       /* UEFI Secure Boot images through the engine */
    RECIPE_OPENSSL,      /* openssl cms -sign and dgst -sign */
    RECIPE_P11KIT,       /* a p11-kit module file for the module */
    RECIPE_TOOL_COUNT
};

/* "osslsigncode", "jarsigner", "sbsign", "openssl", "p11-kit". */
const char *recipe_tool_name(enum recipe_tool tool);

/* Parse a tool name; PE_E_USAGE listing the names otherwise. */
enum pe_rc recipe_tool_parse(const char *name, enum recipe_tool *ptool);

/* The files a recipe uses: absolute paths, NULL when not written. */
struct recipe_files {
    char *cert;          /* the leaf, PEM */
    char *cert_der;      /* the leaf, DER (mokutil --import) */
    char *intermediates; /* the chain without its root, PEM */
    char *certchain;     /* leaf, intermediates and root, PEM */
    char *root;          /* the root the chain ends at, PEM */
    char *sunpkcs11;     /* SunPKCS11 config */
    char *module_file;   /* p11-kit module file */
};

struct recipe_in {
    enum recipe_tool tool;
    const char *module_path; /* the module's file */
    const char *module_name; /* its p11-kit name, NULL: not registered */
    unsigned long slot_id;
    const char *token_label;
    const char *key_uri, *cert_uri;
    const char *label;    /* CKA_LABEL: SunPKCS11's alias when unique */
    bool label_unique;    /* no other certificate has that label */
    bool rsa;             /* RSA key (UEFI firmware takes only RSA) */
    bool always_auth;     /* a PIN per signature (CKA_ALWAYS_AUTHENTICATE) */
    bool as_root;         /* p11-kit reads no user config for root */
    const char *subject;  /* of the leaf, one line */
    const char *expires;  /* of the leaf */
    enum secret_kind pin; /* SECRET_FILE, SECRET_ENV, else: the tool asks */
    const char *pin_arg;  /* absolute path or variable name */
    struct recipe_files files;
};

/* The module file name for p11-kit ("ykcs11.module" from libykcs11.so). */
const char *recipe_module_stem(const char *module_path, char *buf, size_t size);

/* Text of the SunPKCS11 config (no PIN); *ptext malloc'ed (free()). */
enum pe_rc recipe_sunpkcs11_cfg(const struct recipe_in *in, char **ptext);

/* Text of the p11-kit module file; *ptext malloc'ed (free()). */
enum pe_rc recipe_p11kit_module(const struct recipe_in *in, char **ptext);

/* Print the recipe for in->tool to f. */
void recipe_print(FILE *f, const struct recipe_in *in);

#endif
