/* lazy.h - libraries loaded on first use (dlopen) instead of at every
 * start: libmagic (attachment types), gpgme (OpenPGP) and libcrypto
 * (S/MIME encryption).  Linked normally they cost every run of mailsend
 * about 4 ms of loading and relocation (perf stat of an empty program
 * linked with them: 2.3 ms libcrypto, 0.8 libmagic, 0.7 gpgme), though
 * a plain send needs none of them.
 *
 * A file that calls such a library includes the library's header, then
 * this one, and names each function it calls once, after the includes:
 *     #define magic_open MF_LAZY(MF_LIB_MAGIC, magic_open)
 * Calls stay as written and keep their prototypes (the macro's own name
 * is not expanded again inside it, so __typeof__ sees the declaration);
 * no symbol of the library is referenced at link time.  Before the first
 * call, mf_lazy_open() must have succeeded: it says why a library cannot
 * be loaded.  A function missing from a library that loaded under the
 * expected soname is a broken installation: abort().
 *
 * Must not: print or exit. */
#ifndef MF_LAZY_H
#define MF_LAZY_H

#include "err.h"

enum mf_lazy_lib { MF_LIB_MAGIC, MF_LIB_GPGME, MF_LIB_CRYPTO, MF_LIB_COUNT };

/* Load lib once (thread-safe); 0, or -1 with e saying which library and
 * why (MF_E_CONFIG: not installed). */
int mf_lazy_open(enum mf_lazy_lib lib, struct mf_err *e);
/* The address of function `name` of lib, opened before. */
void *mf_lazy_sym(enum mf_lazy_lib lib, const char *name);

#define MF_LAZY(lib, fn) (*(__typeof__(&fn))mf_lazy_sym(lib, #fn))

#endif
