/* lazy.c - libraries loaded on first use (lazy.h). */
#include "lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

/* The sonames the headers we build against belong to (Debian 12:
 * libmagic1, libgpgme11, libssl3). */
static const char *const sonames[MF_LIB_COUNT] = {
	"libmagic.so.1", "libgpgme.so.11", "libcrypto.so.3"
};

static void *handles[MF_LIB_COUNT];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int
mf_lazy_open(enum mf_lazy_lib lib, struct mf_err *e)
{
	const char *why = NULL;
	void *h;

	pthread_mutex_lock(&lock);
	if ((h = handles[lib]) == NULL) {
		h = dlopen(sonames[lib], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL)
			why = dlerror();
		handles[lib] = h;
	}
	pthread_mutex_unlock(&lock);
	if (h != NULL)
		return 0;
	return mf_err_set(e, MF_E_CONFIG, "cannot load %s: %s", sonames[lib],
	    why != NULL ? why : "unknown error");
}

void *
mf_lazy_sym(enum mf_lazy_lib lib, const char *name)
{
	void *h, *f = NULL;

	pthread_mutex_lock(&lock);
	h = handles[lib];
	pthread_mutex_unlock(&lock);
	if (h != NULL)
		f = dlsym(h, name);
	if (f == NULL)
		abort();   /* not opened first, or a broken library (lazy.h) */
	return f;
}
