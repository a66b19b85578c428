/*
 * state-fsck.h: check and repair the state repository without libgit2,
 * which hangs on some damage it should report.
 */
#ifndef LEPTON_LIB_STATE_FSCK_H
#define LEPTON_LIB_STATE_FSCK_H

#include "state.h"

struct lep_err;
struct lep_json;

/*
 * Check HOME/state: every loose object inflates whole and has the length
 * its header says; HEAD names refs/heads/main; main's commit, its trees
 * and blobs are whole (packed objects are taken on trust). *out: a
 * report {repository, loose_objects, head, main, main_intact, intact,
 * commits_lost, corrupt: [{object, problem}], damaged, repaired}; caller
 * frees with lep_json_free. With repair, under the state lock: corrupt
 * objects go to HOME/state/corrupt/, HEAD names main again and main
 * points at the newest whole commit it had (its reflog says which).
 * Errors: NOT_FOUND (no repository), CORRUPT (repair found nothing
 * whole to return to), INTERNAL (no zlib), FAILED.
 */
const struct lep_err *lep_state_fsck(struct lep_json **out, const char *home,
	    int repair);

#endif
