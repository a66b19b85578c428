/*
 * fs.h: files written atomically, directories made on demand, bounded
 * reads, and the state lock (secret files: lib/creds.h).
 */
#ifndef LEPTON_LIB_FS_H
#define LEPTON_LIB_FS_H

#include <stddef.h>

/*
 * Caps on the files lepton reads whole: a record, config.json or a job's
 * metrics.json; and a driver's own state (replica lists, job records).
 */
#define LEP_FILE_MAX		(1u << 20)
#define LEP_DRIVER_FILE_MAX	(4u << 20)
#include <sys/types.h>

struct lep_buf;
struct lep_err;
struct lep_json;

/*
 * What lepton keeps is its user's alone, whatever umask it was started
 * with (libgit2, for one, follows the umask). main calls
 * lep_umask_private() first: umask 077, the caller's kept. What lepton
 * starts for the user (replicas, jobs, nvidia-smi) gets the caller's
 * back: lep_umask_restore() between fork and exec; lepton's own helpers
 * (lepton __super) set 077 again in their main. Both are
 * async-signal-safe; restore does nothing before private.
 */
void	 lep_umask_private(void);
void	 lep_umask_restore(void);

/*
 * A directory lepton keeps state in (LEPTON_HOME, its state repository),
 * checked with one stat: refused if someone else may write to it, who
 * could plant a spec, a revision or a model that lepton then runs. One
 * that does not exist yet passes (lepton makes it 0700). Errors: AUTH
 * (another owner, group- or other-writable), FAILED (not a directory,
 * cannot stat).
 */
const struct lep_err *lep_check_private_dir(const char *path);

/*
 * mkdir -p with mode for the directories it makes, each made durable (its
 * parent fsync'd). Errors: FAILED.
 */
const struct lep_err *lep_mkdirs(const char *path, mode_t mode);

/*
 * fsync a directory, the one that holds path, or every file and directory
 * under path (deepest first) and then the one that holds it: for what
 * another writer (libgit2) left unsynced, or a tree built aside before
 * its rename. Best effort: nothing to report that a caller could mend.
 */
void	 lep_sync_dir(const char *dir);
void	 lep_sync_parent(const char *path);
void	 lep_sync_tree(const char *path);

/*
 * Write to a temporary file in the same directory, fsync, rename over
 * path, fsync the directory: a crash leaves the old or the new file.
 */
const struct lep_err *lep_write_atomic(const char *path, const void *,
	    size_t, mode_t mode);

/*
 * As lep_write_atomic, but never replaces a file: path appears whole, or
 * not at all. Errors: CONFLICT (path exists already), FAILED.
 */
const struct lep_err *lep_write_exclusive(const char *path, const void *,
	    size_t, mode_t mode);

/*
 * Is the open file or directory fd (path, for messages) ours alone?
 * Errors: AUTH (another user owns it, or group or others may use it: the
 * hint is the chmod that mends it), FAILED.
 */
const struct lep_err *lep_check_private(int fd, const char *path);

/*
 * Open path for reading (flags are added: O_NOFOLLOW, say). Errors:
 * NOT_FOUND ("'PATH': no such file"), FAILED. *fd_out: caller closes.
 */
const struct lep_err *lep_open_read(int *fd_out, const char *path, int flags);

/* A JSON file of at most max bytes. Errors: NOT_FOUND, FAILED. */
const struct lep_err *lep_read_json(struct lep_json **out, const char *path,
	    size_t max);

/* Write j pretty-printed with lep_write_atomic. */
const struct lep_err *lep_write_json(const char *path,
	    const struct lep_json *j, mode_t mode);

/*
 * Read a whole file of at most max bytes into b (initialised here).
 * Errors: NOT_FOUND, FAILED (also when larger than max).
 */
const struct lep_err *lep_read_file(struct lep_buf *b, const char *path,
	    size_t max);

/* The rest of an open fd, as lep_read_file (b is initialised by the caller). */
const struct lep_err *lep_read_fd(struct lep_buf *b, int fd,
	    const char *path, size_t max);

/* rm -rf of a directory we own (best effort, no symlinks followed). */
void	 lep_remove_tree(const char *path);

/*
 * The state lock: an fcntl lock on HOME/lock, released by the kernel if we
 * die. Waits up to timeout_ms, then LEP_E_LOCKED naming the holder's PID.
 * Returns the fd to pass to lep_unlock.
 */
const struct lep_err *lep_lock(int *fd_out, const char *home,
	    long long timeout_ms);
void	 lep_unlock(int fd);

/*
 * Can size bytes be written in dir now? A file of that size is made,
 * synced and removed. Errors: FAILED (full, read-only: strerror says).
 */
const struct lep_err *lep_write_probe(const char *dir, size_t size);

#endif
