# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# contrib/completion/p11enroll.bash - bash completion for p11enroll.
# Install as /usr/share/bash-completion/completions/p11enroll, or source it.
#
# Commands and each command's options are read from the program's own
# --help, so they never fall behind it; values are completed where they
# come from a fixed list (key types, token families, download and export
# formats, sign-setup's tools),
# from files (PINs, configs, certificates, modules) or from the journal
# (the ID of resume and status).

_p11enroll_commands() { # PROGRAM
    "$1" --help 2>/dev/null |
        sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_p11enroll_options() { # PROGRAM COMMAND
    "$1" "$2" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

_p11enroll() {
    local cur prev prog cmd i words
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    prog=${COMP_WORDS[0]}
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *)
            cmd=${COMP_WORDS[i]}
            break
            ;;
        esac
    done
    COMPREPLY=()

    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            words="--help --version --quiet --verbose"
        else
            words=$(_p11enroll_commands "$prog")
        fi
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return 0
    fi

    case $prev in
    --key | --key-type)
        mapfile -t COMPREPLY < <(compgen -W "ec-p256 ec-p384 rsa-3072 rsa-4096" -- "$cur")
        return 0
        ;;
    --token-family)
        mapfile -t COMPREPLY < <(compgen -W "generic ykcs11 cloudhsm p11kit-remote softhsm" -- "$cur")
        return 0
        ;;
    --format)
        if [ "$cmd" = export ]; then
            mapfile -t COMPREPLY < <(compgen -W "pem der pkcs7" -- "$cur")
            return 0
        fi
        mapfile -t COMPREPLY < <(compgen -W "x509 pem x509CO pemco pemia x509R x509IO x509IOR bin base64" -- "$cur")
        return 0
        ;;
    --pin-source | --so-pin-source | --client-secret)
        mapfile -t COMPREPLY < <(compgen -W "file: fd: env: prompt pinpad" -- "$cur")
        return 0
        ;;
    --within)
        mapfile -t COMPREPLY < <(compgen -W "7d 14d 30d 60d 90d" -- "$cur")
        return 0
        ;;
    --pin-env | --so-pin-env | --client-secret-env)
        mapfile -t COMPREPLY < <(compgen -v -- "$cur")
        return 0
        ;;
    --state-dir | --dir)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0
        ;;
    --module | --pin-file | --so-pin-file | --client-secret-file | --config | \
        --ca-file | --trust | --chain | --out | --out-cert | --out-chain | \
        --otp-file | --attestation | --cert | --metrics)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
        ;;
    --token | --endpoint | --form | --client-id | --token-url | --email | \
        --label | --key-id | --key-uri | --subject | --cn | --o | --ou | \
        --c | --l | --st | --first-name | --last-name | --title | \
        --san-email | --term | --hsm-type | --wait | --poll-interval | \
        --poll-max | --http-timeout | --attestation-timeout | --pin-fd | \
        --so-pin-fd | --client-secret-fd | --notify-cmd)
        return 0 # a value only the user knows
        ;;
    esac

    if [[ $cur == -* ]]; then
        words=$(_p11enroll_options "$prog" "$cmd")
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return 0
    fi
    case $cmd in
    resume | status)
        words=$("$prog" status 2>/dev/null | awk '{print $1}')
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        ;;
    install)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        ;;
    sign-setup)
        mapfile -t COMPREPLY < <(compgen -W "osslsigncode jarsigner sbsign openssl p11-kit" -- "$cur")
        ;;
    esac
    return 0
}

complete -F _p11enroll p11enroll
