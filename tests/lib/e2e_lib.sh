# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/e2e_lib.sh - helpers shared by tests/e2e/*.sh and bench/run.sh.
# Source it (after tests/softhsm/fixture.sh), then:
#   e2e_build_pe OUT.exe        a tiny valid PE32+ console program made with
#                               the native gcc and objcopy
#   e2e_other_root DIR          an unrelated EC root CA, DIR/other-root.pem
#   e2e_p11kit_start MODULE TOKEN-URI
#                               serve the token with `p11-kit server` on a
#                               private socket; exports
#                               P11_KIT_SERVER_ADDRESS and E2E_CLIENT_MODULE
#                               (p11-kit-client.so); stopped on EXIT
#   e2e_p11kit_stop             stop it now (the server and its children)
#   e2e_cert_uri KEY-URI        the certificate URI next to a key URI
#   e2e_count_certs PEM         how many certificates a PEM file holds
#   e2e_enroll NAME KEYTYPE TOKEN-URI MODULE STATE-DIR [PREFIX...]
#                               p11enroll enroll against scm-sim's REST
#                               endpoint (scm_sim_lib.sh), in the current
#                               folder with its files pin and client-secret
# Needs: gcc, objcopy, openssl, p11-kit (server), p11-kit-client.so.

# e2e_build_pe OUT: efi_main returning 0, linked as a shared object and
# turned into a PE32+ image with objcopy (Debian's binutils know
# pei-x86-64).  About 2 KB.
e2e_build_pe() {
    local out=$1 dir
    dir=$(dirname "$out")
    cat >"$dir/tiny.c" <<'EOF'
unsigned long efi_main(void *image, void *systab)
{
    (void)image;
    (void)systab;
    return 0;
}
EOF
    gcc -O2 -fpic -fno-stack-protector -fshort-wchar -mno-red-zone \
        -ffreestanding -nostdlib -shared -Wl,-Bsymbolic -Wl,-e,efi_main \
        -o "$dir/tiny.so" "$dir/tiny.c" || return 1
    objcopy -j .text -j .data -j .rodata -j .dynamic -j .dynsym -j .rel \
        -j .rela -j .reloc --target=pei-x86-64 --subsystem=console \
        "$dir/tiny.so" "$out" || return 1
}

# e2e_other_root DIR: a self-signed EC root that signed nothing of ours.
e2e_other_root() {
    local dir=$1
    openssl ecparam -name prime256v1 -genkey -noout \
        -out "$dir/other-root.key" 2>/dev/null &&
        openssl req -x509 -new -key "$dir/other-root.key" -days 30 \
            -subj "/O=Somebody Else/CN=Other Root CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out "$dir/other-root.pem" 2>/dev/null
}

e2e_client_module() {
    local m
    for m in "${P11KIT_CLIENT_MODULE:-}" \
        /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so \
        /usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so \
        /usr/lib/pkcs11/p11-kit-client.so; do
        if [ -n "$m" ] && [ -r "$m" ]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

_e2e_p11kit_on_exit() {
    local rc=$?
    e2e_p11kit_stop
    (exit "$rc")
    eval "${_e2e_prev_exit:-}"
    exit "$rc"
}

# e2e_p11kit_start MODULE TOKEN-URI: the module's token (SOFTHSM2_CONF from
# the environment) behind a unix socket, as a network HSM is reached.
e2e_p11kit_start() {
    local module=$1 uri=$2 sock prev i
    E2E_CLIENT_MODULE=$(e2e_client_module) || {
        echo "p11-kit-client.so not found" >&2
        return 1
    }
    E2E_P11KIT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/p11e-p11kit-XXXXXX")
    sock=$E2E_P11KIT_DIR/p11.sock
    if [ -z "${_e2e_trapped:-}" ]; then
        prev=$(trap -p EXIT)
        prev=${prev#"trap -- "}
        prev=${prev%" EXIT"}
        eval "_e2e_prev_exit=${prev:-''}"
        trap _e2e_p11kit_on_exit EXIT
        _e2e_trapped=1
    fi
    p11-kit server -f -n "$sock" --provider "$module" "$uri" \
        >"$E2E_P11KIT_DIR/server.env" 2>"$E2E_P11KIT_DIR/server.err" &
    E2E_P11KIT_PID=$!
    for ((i = 0; i < 200; i++)); do
        [ -S "$sock" ] && break
        if ! kill -0 "$E2E_P11KIT_PID" 2>/dev/null; then
            echo "p11-kit server did not start:" >&2
            cat "$E2E_P11KIT_DIR/server.err" >&2
            return 1
        fi
        sleep 0.05
    done
    [ -S "$sock" ] || {
        echo "p11-kit server made no socket in 10 s" >&2
        return 1
    }
    P11_KIT_SERVER_ADDRESS=unix:path=$sock
    export P11_KIT_SERVER_ADDRESS E2E_CLIENT_MODULE E2E_P11KIT_PID
}

# e2e_p11kit_stop: the server forks a p11-kit-remote child per connection;
# stop those first (by parent PID), then the server.
e2e_p11kit_stop() {
    local kids
    if [ -n "${E2E_P11KIT_PID:-}" ]; then
        kids=$(pgrep -P "$E2E_P11KIT_PID" 2>/dev/null || true)
        if [ -n "$kids" ]; then
            # shellcheck disable=SC2086 # one PID a word
            kill $kids 2>/dev/null || true
        fi
        kill "$E2E_P11KIT_PID" 2>/dev/null || true
        wait "$E2E_P11KIT_PID" 2>/dev/null || true
        E2E_P11KIT_PID=
    fi
    if [ -n "${E2E_P11KIT_DIR:-}" ] && [ -z "${P11E_KEEP_TMP:-}" ]; then
        rm -rf "$E2E_P11KIT_DIR"
    fi
    E2E_P11KIT_DIR=
    unset P11_KIT_SERVER_ADDRESS
}

# e2e_cert_uri KEY-URI: the same URI with type=cert (p11enroll writes the
# certificate with the key's CKA_ID and label).
e2e_cert_uri() {
    local u=$1
    case $u in
    *type=private*) printf '%s\n' "${u/type=private/type=cert}" ;;
    *) printf '%s;type=cert\n' "$u" ;;
    esac
}

e2e_count_certs() {
    grep -c -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null || echo 0
}

# e2e_enroll NAME KEYTYPE TOKEN-URI MODULE STATE-DIR [PREFIX...]: the
# enrollment every signing test starts from, with the key labelled NAME;
# PREFIX (e.g. env -u SOFTHSM2_CONF) goes before the command.  Writes
# NAME.out (its output), NAME.leaf.pem and NAME.chain.pem; sets KEY_URI and
# CERT_URI from the output (the certificate's from the key's when not
# printed).  Returns p11enroll's exit code.
e2e_enroll() {
    local name=$1 kt=$2 uri=$3 module=$4 state=$5 rc
    shift 5
    KEY_URI='' CERT_URI=''
    "$@" "$P11ENROLL" enroll --token "$uri" --module "$module" \
        --pin-file pin --endpoint "$SCM_SIM_URL" --client-id p11e-client \
        --client-secret-file client-secret --email dev@example.org \
        --key-type "$kt" --label "$name" --ca-file "$SCM_SIM_CA_FILE" \
        --trust "$SCM_SIM_ROOTS" --state-dir "$state" \
        --out-cert "$name.leaf.pem" --out-chain "$name.chain.pem" \
        >"$name.out" 2>&1
    rc=$?
    KEY_URI=$(grep -o 'pkcs11:[^ "]*type=private' "$name.out" | head -n 1)
    CERT_URI=$(grep -o 'pkcs11:[^ "]*type=cert' "$name.out" | head -n 1)
    if [ -z "$CERT_URI" ] && [ -n "$KEY_URI" ]; then
        CERT_URI=$(e2e_cert_uri "$KEY_URI")
    fi
    return "$rc"
}
