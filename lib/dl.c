/*
 * dl.c: dlopen and dlsym into typed function pointers.
 */
#include "dl.h"

#include <dlfcn.h>
#include <string.h>

#include "error.h"

const struct lep_err *
lep_dl_load(void **handle, const char *soname, const struct lep_dl_sym *syms,
    size_t n)
{
	void	*h, *sym;
	size_t	 i;

	if (*handle != NULL)
		return NULL;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return lep_err_hint(lep_err_new(LEP_E_INTERNAL, "cannot load "
		    "%s: %s", soname, dlerror()), "install lepton's "
		    "dependencies: make deps");
	for (i = 0; i < n; i++) {
		sym = dlsym(h, syms[i].name);
		if (sym == NULL) {
			dlclose(h);
			return lep_err_new(LEP_E_INTERNAL, "%s has no '%s'",
			    soname, syms[i].name);
		}
		/* POSIX guarantees function and object pointers agree. */
		memcpy(syms[i].slot, &sym, sizeof(sym));
	}
	*handle = h;
	return NULL;
}
