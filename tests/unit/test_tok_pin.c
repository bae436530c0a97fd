/* SPDX-License-Identifier: Apache-2.0 */
/* When a refused PIN is asked for again (pkcs11/session.c). */
#include "harness.h"
#include "tok.h"

TEST("/tok_pin/typed_pin_asked_again_while_tries_are_left")
{
    CHECK(tok_pin_ask_again(SECRET_PROMPT, TOK_USER, 0, 1));
    CHECK(tok_pin_ask_again(SECRET_PROMPT, TOK_USER,
                            TOK_F_USER_PIN_COUNT_LOW | TOK_F_LOGIN_REQUIRED,
                            2));
    CHECK(
        tok_pin_ask_again(SECRET_PROMPT, TOK_SO, TOK_F_USER_PIN_FINAL_TRY, 1));
}

TEST("/tok_pin/not_on_the_final_try_or_locked")
{
    CHECK(!tok_pin_ask_again(SECRET_PROMPT, TOK_USER, TOK_F_USER_PIN_FINAL_TRY,
                             1));
    CHECK(
        !tok_pin_ask_again(SECRET_PROMPT, TOK_USER, TOK_F_USER_PIN_LOCKED, 1));
    CHECK(!tok_pin_ask_again(SECRET_PROMPT, TOK_SO, TOK_F_SO_PIN_FINAL_TRY, 1));
    CHECK(!tok_pin_ask_again(SECRET_PROMPT, TOK_SO, TOK_F_SO_PIN_LOCKED, 1));
}

TEST("/tok_pin/never_a_pin_from_a_file_descriptor_variable_or_pad")
{
    CHECK(!tok_pin_ask_again(SECRET_FILE, TOK_USER, 0, 1));
    CHECK(!tok_pin_ask_again(SECRET_FD, TOK_USER, 0, 1));
    CHECK(!tok_pin_ask_again(SECRET_ENV, TOK_USER, 0, 1));
    CHECK(!tok_pin_ask_again(SECRET_PINPAD, TOK_USER, 0, 1));
    CHECK(!tok_pin_ask_again(SECRET_NONE, TOK_USER, 0, 1));
}

TEST("/tok_pin/bounded")
{
    CHECK(tok_pin_ask_again(SECRET_PROMPT, TOK_USER, 0, TOK_PIN_PROMPTS - 1));
    CHECK(!tok_pin_ask_again(SECRET_PROMPT, TOK_USER, 0, TOK_PIN_PROMPTS));
}
