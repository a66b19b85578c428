/*
 * dl.h: load an optional shared library on first use, so that commands
 * which never touch the network or the state repo never pay for libcurl,
 * OpenSSL or libgit2 at start-up (the loader costs ~4 ms per start).
 */
#ifndef LEPTON_LIB_DL_H
#define LEPTON_LIB_DL_H

#include <stddef.h>

struct lep_err;

struct lep_dl_sym {
	const char	*name;
	void		*slot;	/* address of the function pointer to fill */
};

/*
 * dlopen soname (once: later calls return the first result) and fill every
 * slot. Errors: LEP_E_INTERNAL naming the library and the missing symbol.
 */
const struct lep_err *lep_dl_load(void **handle, const char *soname,
	    const struct lep_dl_sym *syms, size_t n);

#endif
