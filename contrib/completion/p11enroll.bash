# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# contrib/completion/p11enroll.bash - bash completion for p11enroll.
# Install as /usr/share/bash-completion/completions/p11enroll, or source it.
#
# Commands and each command's options are read from the program's own
# --help, so they never fall behind it.  Values are completed from a fixed
# list (key types, token families, PIV slots, download and export formats,
# sign-setup's tools), from files (PINs, configs, certificates, modules),
# from p11-kit's module files (module names), from `p11enroll tokens --json`
# (token URIs) and from `p11enroll status --json` (the ID of resume, status
# and forget, in the --state-dir given on the line).

_p11enroll_commands() { # PROGRAM
    "$1" --help 2>/dev/null |
        sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
    echo help
}

# --help also names option families ("--so-pin-*"): those are not options.
_p11enroll_options() { # PROGRAM COMMAND
    {
        "$1" "$2" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' |
            grep -v -- '-$'
        printf '%s\n' --help --quiet --verbose
    } | sort -u
}

# The names p11-kit registers, from its module files (loading the modules
# to ask them would be slow, and some print to the terminal).
_p11enroll_module_names() {
    local f
    for f in /usr/share/p11-kit/modules/*.module /etc/pkcs11/modules/*.module \
        "${XDG_CONFIG_HOME:-$HOME/.config}"/pkcs11/modules/*.module; do
        [ -f "$f" ] && basename "$f" .module
    done
}

# The value of OPTION where it stands before the cursor, for the commands
# that complete from what the program reports (--module, --state-dir).
_p11enroll_line_value() { # OPTION
    local i
    for ((i = 1; i < ${#_p11e_words[@]} - 1; i++)); do
        case ${_p11e_words[i]} in
        "$1")
            printf '%s' "${_p11e_words[i + 1]}"
            return 0
            ;;
        "$1"=*)
            printf '%s' "${_p11e_words[i]#*=}"
            return 0
            ;;
        esac
    done
    return 1
}

_p11enroll_token_uris() { # PROGRAM
    local module args=()
    if module=$(_p11enroll_line_value --module) && [ -n "$module" ]; then
        args=(--module "$module")
    fi
    "$1" tokens --json "${args[@]}" 2>/dev/null </dev/null |
        sed -n 's/^ *"uri": "\(.*\)",\{0,1\}$/\1/p' | sed 's|\\/|/|g'
}

_p11enroll_ids() { # PROGRAM
    local dir args=()
    if dir=$(_p11enroll_line_value --state-dir) && [ -n "$dir" ]; then
        args=(--state-dir "${dir/#\~/$HOME}")
    fi
    "$1" status --json "${args[@]}" 2>/dev/null </dev/null |
        sed -n 's/^ *"id": "\(.*\)",\{0,1\}$/\1/p'
}

# COMPREPLY from the CANDIDATES that extend the word at the cursor.  Bash
# lets readline replace only the text after the last COMP_WORDBREAKS
# character (':', '=', ';' ...), which cuts a PKCS#11 URI into pieces: each
# candidate is shell-quoted (a ';' would end the command) and cut the same
# way.  After an opening quote the word is the whole text after the quote.
# _p11e_pre is an "--option=" the value follows.
_p11enroll_reply() { # CANDIDATE...
    local raw=${_p11e_cur#"$_p11e_pre"} c q cut=-1 i ch
    COMPREPLY=()
    case $raw in
    \'* | \"*)
        raw=${raw:1}
        for c; do
            [[ $c == "$raw"* ]] && COMPREPLY+=("$c")
        done
        return 0
        ;;
    esac
    raw=$_p11e_cur
    for ((i = 0; i < ${#raw}; i++)); do
        ch=${raw:i:1}
        if [ "$ch" = "\\" ]; then
            i=$((i + 1))
        elif [[ ${COMP_WORDBREAKS-} == *"$ch"* ]]; then
            cut=$i
        fi
    done
    for c; do
        [ -n "$c" ] || continue
        printf -v q '%q' "$c"
        q=$_p11e_pre$q
        [[ $q == "$raw"* ]] && COMPREPLY+=("${q:cut+1}")
    done
    return 0
}

_p11enroll() {
    local cur prev prog cmd i line words
    local _p11e_words _p11e_cur _p11e_pre
    # The words up to the cursor as the user typed them, split at blanks
    # only (bash's COMP_WORDS is also split at ':' and '=').
    if [ -n "${COMP_LINE+x}" ]; then
        line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
        read -ra _p11e_words <<<"$line"
        [[ $line == *[[:space:]] || ${#_p11e_words[@]} -eq 0 ]] &&
            _p11e_words+=("")
    else
        _p11e_words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
    fi
    i=${#_p11e_words[@]}
    _p11e_cur=${_p11e_words[i - 1]}
    cur=$_p11e_cur
    prev=
    [ "$i" -ge 2 ] && prev=${_p11e_words[i - 2]}
    # --option=VALUE: complete VALUE (readline's word starts after the '=')
    _p11e_pre=
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        _p11e_pre=$prev=
        cur=${cur#*=}
    fi
    prog=${COMP_WORDS[0]}
    cmd=
    for ((i = 1; i < ${#_p11e_words[@]} - 1; i++)); do
        case ${_p11e_words[i]} in
        -*) ;;
        *)
            cmd=${_p11e_words[i]}
            break
            ;;
        esac
    done
    COMPREPLY=()

    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            _p11enroll_reply --help --version --quiet --verbose
        else
            mapfile -t words < <(_p11enroll_commands "$prog")
            _p11enroll_reply "${words[@]}"
        fi
        return 0
    fi

    case $prev in
    --key | --key-type)
        _p11enroll_reply ec-p256 ec-p384 rsa-3072 rsa-4096
        return 0
        ;;
    --token-family)
        _p11enroll_reply generic ykcs11 cloudhsm p11kit-remote softhsm
        return 0
        ;;
    --slot)
        _p11enroll_reply 9a 9c 9d 9e 82 83 84 85 86 87 88 89 8a 8b 8c 8d \
            8e 8f 90 91 92 93 94 95
        return 0
        ;;
    --format)
        if [ "$cmd" = export ]; then
            _p11enroll_reply pem der pkcs7
            return 0
        fi
        _p11enroll_reply x509 pem x509CO pemco pemia x509R x509IO x509IOR \
            bin base64
        return 0
        ;;
    --pin-source | --so-pin-source | --client-secret)
        _p11enroll_reply file: fd: env: prompt pinpad
        return 0
        ;;
    --within)
        _p11enroll_reply 7d 14d 30d 60d 90d
        return 0
        ;;
    --pin-env | --so-pin-env | --client-secret-env)
        mapfile -t COMPREPLY < <(compgen -v -- "$cur")
        return 0
        ;;
    --state-dir | --dir)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0
        ;;
    --module)
        mapfile -t words < <(_p11enroll_module_names)
        _p11enroll_reply "${words[@]}"
        compopt -o filenames 2>/dev/null
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
        return 0
        ;;
    --token)
        mapfile -t words < <(_p11enroll_token_uris "$prog")
        _p11enroll_reply "${words[@]}"
        return 0
        ;;
    --pin-file | --so-pin-file | --client-secret-file | --config | \
        --ca-file | --trust | --chain | --out | --out-cert | --out-chain | \
        --otp-file | --attestation | --cert | --metrics)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
        ;;
    --endpoint | --form | --client-id | --token-url | --email | \
        --label | --key-id | --key-uri | --subject | --cn | --o | --ou | \
        --c | --l | --st | --first-name | --last-name | --title | \
        --san-email | --term | --hsm-type | --wait | --poll-interval | \
        --poll-max | --http-timeout | --attestation-timeout | --pin-fd | \
        --so-pin-fd | --client-secret-fd | --attestation-cmd | --notify-cmd | \
        --otp-cmd | --otp-timeout)
        return 0 # a value only the user knows
        ;;
    esac

    if [[ $cur == -* ]]; then
        mapfile -t words < <(_p11enroll_options "$prog" "$cmd")
        _p11enroll_reply "${words[@]}"
        return 0
    fi
    case $cmd in
    resume | status | forget)
        mapfile -t words < <(_p11enroll_ids "$prog")
        _p11enroll_reply "${words[@]}"
        ;;
    help)
        mapfile -t words < <(_p11enroll_commands "$prog")
        _p11enroll_reply "${words[@]}"
        ;;
    install)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        ;;
    sign-setup)
        _p11enroll_reply osslsigncode jarsigner sbsign openssl p11-kit
        ;;
    esac
    return 0
}

complete -F _p11enroll p11enroll
