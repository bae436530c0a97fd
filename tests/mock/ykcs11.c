/* SPDX-License-Identifier: Apache-2.0 */
/* ykcs11.c - placeholder until the personality lands. */
#include "mock.h"

bool yk_enabled(void)
{
    return false;
}
void yk_initialize(void)
{
}
void yk_finalize(void)
{
}
void yk_get_info(CK_INFO *info)
{
    (void)info;
}
void yk_get_slot_info(CK_SLOT_INFO *info)
{
    (void)info;
}
void yk_get_token_info(CK_TOKEN_INFO *info)
{
    (void)info;
}
bool yk_mechanism_list(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    (void)c, (void)slot, (void)list, (void)count;
    return false;
}
bool yk_mechanism_info(struct mock_call *c, CK_SLOT_ID slot,
                       CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    (void)c, (void)slot, (void)type, (void)info;
    return false;
}
bool yk_open_session(struct mock_call *c, CK_SLOT_ID slot, CK_FLAGS flags,
                     void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *ph)
{
    (void)c, (void)slot, (void)flags, (void)app, (void)notify, (void)ph;
    return false;
}
bool yk_close_session(struct mock_call *c, CK_SESSION_HANDLE h)
{
    (void)c, (void)h;
    return false;
}
bool yk_close_all_sessions(struct mock_call *c, CK_SLOT_ID slot)
{
    (void)c, (void)slot;
    return false;
}
bool yk_login(struct mock_call *c, CK_SESSION_HANDLE h, CK_USER_TYPE user,
              CK_UTF8CHAR *pin, CK_ULONG len)
{
    (void)c, (void)h, (void)user, (void)pin, (void)len;
    return false;
}
bool yk_logout(struct mock_call *c, CK_SESSION_HANDLE h)
{
    (void)c, (void)h;
    return false;
}
bool yk_create_object(struct mock_call *c, CK_SESSION_HANDLE h,
                      CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *ph)
{
    (void)c, (void)h, (void)tmpl, (void)n, (void)ph;
    return false;
}
bool yk_destroy_object(struct mock_call *c, CK_SESSION_HANDLE h,
                       CK_OBJECT_HANDLE obj)
{
    (void)c, (void)h, (void)obj;
    return false;
}
bool yk_generate_key_pair(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_MECHANISM *mech, CK_ATTRIBUTE *pub, CK_ULONG npub,
                          CK_ATTRIBUTE *priv, CK_ULONG npriv,
                          CK_OBJECT_HANDLE *phpub, CK_OBJECT_HANDLE *phpriv)
{
    (void)c, (void)h, (void)mech, (void)pub, (void)npub, (void)priv;
    (void)npriv, (void)phpub, (void)phpriv;
    return false;
}
bool yk_find_objects_init(struct mock_call *c, CK_SESSION_HANDLE h,
                          CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    (void)c, (void)h, (void)tmpl, (void)n;
    return false;
}
void yk_operation(CK_SESSION_HANDLE h, int op)
{
    (void)h, (void)op;
}
