/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recipe.c - the signing commands `sign-setup` prints, one function per
 * tool.  Every value that comes from the token or the user is printed in
 * single quotes, so a label or path with blanks or shell characters stays
 * one word.
 */
#include "recipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tool_names[RECIPE_TOOL_COUNT] = {
    "osslsigncode", "jarsigner", "sbsign", "openssl", "p11-kit",
};

const char *recipe_tool_name(enum recipe_tool tool)
{
    return tool < RECIPE_TOOL_COUNT ? tool_names[tool] : "?";
}

enum pe_rc recipe_tool_parse(const char *name, enum recipe_tool *ptool)
{
    int t;

    for (t = 0; t < RECIPE_TOOL_COUNT; t++)
        if (strcmp(name, tool_names[t]) == 0) {
            *ptool = (enum recipe_tool)t;
            return PE_OK;
        }
    return pe_failf(PE_E_USAGE,
                    "Unknown tool \"%s\"; use osslsigncode, jarsigner, "
                    "sbsign, openssl or p11-kit.",
                    name);
}

const char *recipe_module_stem(const char *module_path, char *buf, size_t size)
{
    const char *base = strrchr(module_path, '/');
    size_t n;

    base = base != NULL ? base + 1 : module_path;
    if (strncmp(base, "lib", 3) == 0 && base[3] != '\0')
        base += 3;
    n = strcspn(base, ".");
    if (n == 0)
        n = strlen(base);
    snprintf(buf, size, "%.*s", (int)n, base);
    return buf;
}

/* s in single quotes for sh ('it'\''s'). */
static void q(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* The parts, NULL-terminated, one after another in a new string. */
static enum pe_rc join(char **ptext, const char *const *parts)
{
    size_t n = 1, i;

    for (i = 0; parts[i] != NULL; i++)
        n += strlen(parts[i]);
    *ptext = malloc(n);
    if (*ptext == NULL)
        return PE_E_NOMEM;
    (*ptext)[0] = '\0';
    for (i = 0; parts[i] != NULL; i++)
        strcat(*ptext, parts[i]);
    return PE_OK;
}

enum pe_rc recipe_sunpkcs11_cfg(const struct recipe_in *in, char **ptext)
{
    char slot[32];
    const char *parts[] = {
        "# SunPKCS11 config written by p11enroll sign-setup; no PIN in "
        "here.\nname = p11enroll\nlibrary = ",
        in->module_path,
        "\nslot = ",
        slot,
        "\n",
        NULL};

    /* SunPKCS11 takes the slot by its ID or its index; the ID is what
     * the module reports for this token (`p11enroll tokens` shows it) */
    snprintf(slot, sizeof(slot), "%lu", in->slot_id);
    return join(ptext, parts);
}

enum pe_rc recipe_p11kit_module(const struct recipe_in *in, char **ptext)
{
    const char *parts[] = {"# p11-kit module file written by p11enroll "
                           "sign-setup p11-kit\nmodule: ",
                           in->module_path, "\n", NULL};

    return join(ptext, parts);
}

static void header(FILE *f, const struct recipe_in *in, const char *what,
                   const char *example)
{
    fprintf(f, "#!/bin/sh\n");
    fprintf(f, "# p11enroll sign-setup %s: %s\n", recipe_tool_name(in->tool),
            what);
    fprintf(f, "# with the key \"%s\" on token \"%s\"\n", in->label,
            in->token_label);
    fprintf(f, "# certificate: %s, expires %s\n", in->subject, in->expires);
    if (example != NULL)
        fprintf(f,
                "# Run it with IN (the file to sign) and OUT (the signed "
                "copy) set:\n#   %s sh THIS-FILE\n",
                example);
    if (in->module_name == NULL && in->tool != RECIPE_P11KIT)
        fprintf(f, "# p11-kit does not register this module; "
                   "`p11enroll sign-setup p11-kit` writes a module file.\n");
    if (in->always_auth)
        fprintf(f, "# The key asks for the PIN at each signature "
                   "(CKA_ALWAYS_AUTHENTICATE).\n");
    fprintf(f, "set -eu\n");
}

/* What the comment says about the PIN, and what goes before the tool on
 * its command line (a pipe into the tool's standard input). */
static void pin_comment(FILE *f, const struct recipe_in *in, const char *how)
{
    if (in->pin == SECRET_FILE)
        fprintf(f, "# The PIN: the first line of %s (%s).\n", in->pin_arg, how);
    else if (in->pin == SECRET_ENV)
        fprintf(f, "# The PIN: the variable %s (%s).\n", in->pin_arg, how);
    else
        fprintf(f, "# The PIN: the tool asks for it.  For unattended runs "
                   "run sign-setup with\n# --pin-file F or --pin-env VAR; "
                   "the PIN never goes on a command line.\n");
}

/* `printf '%s' "$VAR" | ` or `head -n 1 'F' | tr -d '\r\n' | `: the PIN
 * on the tool's standard input, for tools that read it from a file. */
static bool pin_pipe(FILE *f, const struct recipe_in *in)
{
    if (in->pin == SECRET_ENV) {
        fprintf(f, "printf '%%s' \"$%s\" | ", in->pin_arg);
        return true;
    }
    if (in->pin == SECRET_FILE) {
        fputs("head -n 1 ", f);
        q(f, in->pin_arg);
        fputs(" | tr -d '\\r\\n' | ", f);
        return true;
    }
    return false;
}

static void osslsigncode(FILE *f, const struct recipe_in *in)
{
    header(f, in, "Authenticode (.exe, .dll, .msi, .cab, .cat)",
           "IN=app.exe OUT=app-signed.exe");
    pin_comment(f, in,
                in->pin == SECRET_FILE ? "-readpass"
                                       : "on standard input, -readpass");
    fprintf(f, "# Key and certificate come from the token by URI; -ac "
               "embeds the\n# intermediates, without which Windows shows "
               "an unknown publisher.\n");
    if (in->pin == SECRET_ENV)
        fprintf(f, "printf '%%s' \"$%s\" | ", in->pin_arg);
    fputs("osslsigncode sign -pkcs11module ", f);
    q(f, in->module_path);
    fputs(" \\\n    -pkcs11cert ", f);
    q(f, in->cert_uri);
    fputs(" \\\n    -key ", f);
    q(f, in->key_uri);
    if (in->pin == SECRET_FILE) {
        fputs(" \\\n    -readpass ", f);
        q(f, in->pin_arg);
    } else if (in->pin == SECRET_ENV) {
        fputs(" \\\n    -readpass /dev/stdin", f);
    }
    if (in->files.intermediates != NULL) {
        fputs(" \\\n    -ac ", f);
        q(f, in->files.intermediates);
    }
    fputs(" \\\n    -h sha256 -in \"$IN\" -out \"$OUT\"\n", f);
    fprintf(f, "# Add -ts URL (your CA's RFC 3161 time-stamping service) so "
               "the signature\n# stays valid after the certificate "
               "expires.\n");
    if (in->files.root != NULL) {
        fprintf(f, "# Check it, trusting only the root of the chain:\n");
        fputs("osslsigncode verify -CAfile ", f);
        q(f, in->files.root);
        fputs(" -TSA-CAfile ", f);
        q(f, in->files.root);
        fputs(" -in \"$OUT\"\n", f);
    }
}

static void jarsigner(FILE *f, const struct recipe_in *in)
{
    header(f, in, "JAR files (and APKs through apksigner)",
           "IN=app.jar OUT=app-signed.jar");
    pin_comment(f, in,
                in->pin == SECRET_FILE ? "-storepass:file" : "-storepass:env");
    fprintf(f, "# SunPKCS11 reads the module and the slot from %s.\n",
            in->files.sunpkcs11);
    if (in->label_unique)
        fprintf(f, "# The alias is the certificate's label.\n");
    else
        fprintf(f,
                "# Another certificate has the label \"%s\": if "
                "jarsigner does not find the\n# alias, `keytool -list` "
                "(below) shows the one to use.\n",
                in->label);
    if (in->always_auth)
        fprintf(f, "# SunPKCS11 cannot answer a PIN request per signature: "
                   "this key may fail here.\n");
    fputs("jarsigner -keystore NONE -storetype PKCS11 \\\n"
          "    -addprovider SunPKCS11 -providerArg ",
          f);
    q(f, in->files.sunpkcs11);
    if (in->pin == SECRET_FILE) {
        fputs(" \\\n    -storepass:file ", f);
        q(f, in->pin_arg);
    } else if (in->pin == SECRET_ENV) {
        fprintf(f, " \\\n    -storepass:env %s", in->pin_arg);
    }
    fputs(" \\\n    -certchain ", f);
    q(f, in->files.certchain);
    fputs(" \\\n    -signedjar \"$OUT\" \"$IN\" ", f);
    q(f, in->label);
    fputs("\n# Add -tsa URL (your CA's time-stamping service) so the "
          "signature outlives\n# the certificate.\n",
          f);
    fputs("# Check it and show the signer's chain:\n"
          "jarsigner -verify -verbose -certs \"$OUT\"\n",
          f);
    fputs("# The aliases on the token (asks for the PIN):\n#   keytool -list "
          "-keystore NONE -storetype PKCS11 -addprovider SunPKCS11 "
          "-providerArg ",
          f);
    q(f, in->files.sunpkcs11);
    fputs("\n# apksigner: apksigner sign --ks NONE --ks-type PKCS11 "
          "--provider-class\n#   sun.security.pkcs11.SunPKCS11 "
          "--provider-arg ",
          f);
    q(f, in->files.sunpkcs11);
    fputs(" --ks-key-alias ", f);
    q(f, in->label);
    fputs(" ...\n", f);
}

/* PKCS11_MODULE_PATH=... : which module libp11's engine loads (without
 * it, p11-kit's proxy and every module p11-kit registers). */
static void engine_env(FILE *f, const struct recipe_in *in)
{
    fputs("PKCS11_MODULE_PATH=", f);
    q(f, in->module_path);
    fputc(' ', f);
}

static void sbsign(FILE *f, const struct recipe_in *in)
{
    header(f, in, "UEFI Secure Boot images (.efi, kernels)",
           "IN=grubx64.efi OUT=grubx64.signed.efi");
    if (!in->rsa)
        fprintf(f, "# UEFI firmware checks RSA signatures only; this key "
                   "is not RSA.\n");
    pin_comment(f, in,
                "piped to libp11, which reads it with "
                "pin-source=file:/dev/stdin");
    (void)pin_pipe(f, in);
    engine_env(f, in);
    fputs("sbsign --engine pkcs11 \\\n    --key ", f);
    if (in->pin == SECRET_FILE || in->pin == SECRET_ENV) {
        char *uri = malloc(strlen(in->key_uri) + 32);

        if (uri != NULL) {
            sprintf(uri, "%s?pin-source=file:/dev/stdin", in->key_uri);
            q(f, uri);
            free(uri);
        }
    } else {
        q(f, in->key_uri);
    }
    fputs(" \\\n    --cert ", f);
    q(f, in->files.cert);
    fputs(" \\\n    --output \"$OUT\" \"$IN\"\n", f);
    fputs("# Check it against the certificate:\nsbverify --cert ", f);
    q(f, in->files.cert);
    fputs(" \"$OUT\"\n", f);
    fputs("# The firmware trusts the image when its db (or shim's MOK list) "
          "holds this\n# certificate:\n#   mokutil --import ",
          f);
    q(f, in->files.cert_der);
    fputs("\n# For a db that holds your CA instead, add --addcert with the "
          "intermediates;\n# sbverify then also passes with certificates "
          "that are not in the chain.\n",
          f);
}

static void passin(FILE *f, const struct recipe_in *in)
{
    if (in->pin == SECRET_FILE) {
        char *arg = malloc(strlen(in->pin_arg) + 8);

        if (arg != NULL) {
            sprintf(arg, "file:%s", in->pin_arg);
            fputs(" -passin ", f);
            q(f, arg);
            free(arg);
        }
    } else if (in->pin == SECRET_ENV) {
        fprintf(f, " -passin env:%s", in->pin_arg);
    }
}

static void openssl(FILE *f, const struct recipe_in *in)
{
    header(f, in, "CMS signatures and raw signatures with OpenSSL",
           "IN=file OUT=file.p7s");
    pin_comment(f, in, "-passin");
    fprintf(f, "# OpenSSL 3 reaches the token through libp11's engine "
               "\"pkcs11\".\n");
    fprintf(f, "# A detached CMS (PKCS#7) signature in DER:\n");
    engine_env(f, in);
    fputs("openssl cms -sign -engine pkcs11 -keyform engine \\\n"
          "    -inkey ",
          f);
    q(f, in->key_uri);
    passin(f, in);
    fputs(" \\\n    -signer ", f);
    q(f, in->files.cert);
    if (in->files.intermediates != NULL) {
        fputs(" -certfile ", f);
        q(f, in->files.intermediates);
    }
    fputs(" \\\n    -binary -in \"$IN\" -outform DER -out \"$OUT\"\n", f);
    fprintf(f, "# A plain signature of the file's SHA-256 digest:\n");
    engine_env(f, in);
    fputs("openssl dgst -sha256 -engine pkcs11 -keyform engine \\\n"
          "    -sign ",
          f);
    q(f, in->key_uri);
    passin(f, in);
    fputs(" -out \"$OUT.sig\" \"$IN\"\n", f);
    if (in->files.root != NULL) {
        fputs("# Check both:\nopenssl cms -verify -binary -inform DER -in "
              "\"$OUT\" -content \"$IN\" \\\n    -CAfile ",
              f);
        q(f, in->files.root);
        fputs(" -purpose any -out /dev/null\n", f);
    }
    fputs("openssl x509 -in ", f);
    q(f, in->files.cert);
    fputs(" -pubkey -noout |\n    openssl dgst -sha256 -verify /dev/stdin "
          "-signature \"$OUT.sig\" \"$IN\"\n",
          f);
}

static void p11kit(FILE *f, const struct recipe_in *in)
{
    char stem[128];

    header(f, in, "a module file, so p11-kit and its users find the module",
           NULL);
    if (in->module_name != NULL)
        fprintf(f,
                "# p11-kit already registers this module as \"%s\"; "
                "the file below is only\n# needed on hosts without "
                "that registration.\n",
                in->module_name);
    fprintf(f, "# %s names %s.\n", in->files.module_file, in->module_path);
    if (in->as_root) {
        fprintf(f, "# p11-kit reads no user config for root: the file goes "
                   "to /etc/pkcs11/modules.\n");
        fputs("mkdir -p /etc/pkcs11/modules\ncp ", f);
        q(f, in->files.module_file);
        fputs(" /etc/pkcs11/modules/\n", f);
    } else {
        fprintf(f, "# For you alone (for every user: copy it to "
                   "/etc/pkcs11/modules/ as root):\n");
        fputs("mkdir -p \"${XDG_CONFIG_HOME:-$HOME/.config}/pkcs11/modules\"\n"
              "cp ",
              f);
        q(f, in->files.module_file);
        fputs(" \"${XDG_CONFIG_HOME:-$HOME/.config}/pkcs11/modules/\"\n", f);
    }
    fprintf(f, "# Check: the module \"%s\" is listed with its token:\n",
            recipe_module_stem(in->module_path, stem, sizeof(stem)));
    fputs("p11-kit list-modules\n", f);
}

void recipe_print(FILE *f, const struct recipe_in *in)
{
    switch (in->tool) {
    case RECIPE_OSSLSIGNCODE:
        osslsigncode(f, in);
        break;
    case RECIPE_JARSIGNER:
        jarsigner(f, in);
        break;
    case RECIPE_SBSIGN:
        sbsign(f, in);
        break;
    case RECIPE_OPENSSL:
        openssl(f, in);
        break;
    case RECIPE_P11KIT:
    case RECIPE_TOOL_COUNT:
        p11kit(f, in);
        break;
    }
}
