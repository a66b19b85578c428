/*
 * check_fs.c: atomic writes, secret files, the state lock, the umask and
 * a home others may write to.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/creds.h"
#include "../lib/fs.h"
#include "../lib/gzip.h"
#include "../lib/tar.h"
#include "../lib/tar-priv.h"
#include "../lib/util.h"

START_TEST(test_fs_write_atomic_replaces_with_mode)
{
	struct stat	 st;
	char		*dir, *p, *text;

	dir = xasprintf("%s/fs-atomic/a/b", test_sandbox());
	ck_assert_ptr_null(lep_mkdirs(dir, 0700));
	p = xasprintf("%s/file", dir);
	ck_assert_ptr_null(lep_write_atomic(p, "one", 3, 0600));
	ck_assert_ptr_null(lep_write_atomic(p, "two!", 4, 0600));
	text = test_slurp(p, NULL);
	ck_assert_str_eq(text, "two!");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(text);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_fs_secret_file_refused_when_readable)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*p;

	p = xasprintf("%s/secret.json", test_sandbox());
	test_write(p, "{\"token\": \"abc\"}", 0644);
	err = lep_creds_read_file(&b, p, 1024);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err->hint, "chmod 600"));
	ck_assert_ptr_null(strstr(err->msg, "abc"));	/* never the secret */
	lep_buf_release(&b);
	chmod(p, 0600);
	ck_assert_ptr_null(lep_creds_read_file(&b, p, 1024));
	ck_assert_str_eq(b.buf, "{\"token\": \"abc\"}");
	lep_buf_release(&b);
	free(p);
}
END_TEST

START_TEST(test_fs_write_exclusive_never_replaces)
{
	const struct lep_err	*err;
	struct stat		 st;
	char			*p, *text;
	mode_t			 old = umask(0);

	p = xasprintf("%s/exclusive", test_sandbox());
	(void)unlink(p);
	ck_assert_ptr_null(lep_write_exclusive(p, "first", 5, 0600));
	err = lep_write_exclusive(p, "second", 6, 0600);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_CONFLICT);
	text = test_slurp(p, NULL);
	ck_assert_str_eq(text, "first");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);	/* umask 0 or not */
	umask(old);
	free(text);
	free(p);
}
END_TEST

/* A directory others may list or enter is refused with chmod 700. */
START_TEST(test_fs_check_private_refuses_open_directories)
{
	const struct lep_err	*err;
	char			*d;
	int			 fd;

	d = xasprintf("%s/private-dir", test_sandbox());
	ck_assert_int_eq(mkdir(d, 0700), 0);
	chmod(d, 0711);
	fd = open(d, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ne(fd, -1);
	err = lep_check_private(fd, d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err->msg, "others may enter it"));
	ck_assert_ptr_nonnull(strstr(err->hint, "chmod 700"));
	fchmod(fd, 0750);
	err = lep_check_private(fd, d);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->msg, "others may list it"));
	fchmod(fd, 0700);
	ck_assert_ptr_null(lep_check_private(fd, d));
	close(fd);
	free(d);
}
END_TEST

static char *
upper(const char *text, size_t n)
{
	char	*v = xstrndup(text, n);
	size_t	 i;

	for (i = 0; v[i] != '\0'; i++)
		if (v[i] >= 'a' && v[i] <= 'z')
			v[i] -= 'a' - 'A';
	return v;
}

/* Sources in order: the first set wins; a bad file is an error. */
START_TEST(test_creds_sources_in_order)
{
	const struct lep_err	*err;
	struct lep_cred		 c;
	char			*p = xasprintf("%s/tok", test_sandbox());
	struct lep_cred_source	 src[] = {
		{ "TEST_TOKEN", LEP_CRED_ENV, "LEP_TEST_TOKEN", NULL },
		{ "file", LEP_CRED_FILE, p, upper },
		{ "unset", LEP_CRED_FILE, NULL, NULL },
	};

	test_write(p, "from-file", 0600);
	setenv("LEP_TEST_TOKEN", "from-env", 1);
	ck_assert_ptr_null(lep_creds_resolve(&c, src, 3));
	ck_assert_str_eq(c.value, "from-env");
	ck_assert_str_eq(c.source, "TEST_TOKEN");
	lep_cred_release(&c);
	ck_assert_ptr_null(c.value);
	/* Empty is unset: the file is next, through its parser. */
	setenv("LEP_TEST_TOKEN", "", 1);
	ck_assert_ptr_null(lep_creds_resolve(&c, src, 3));
	ck_assert_str_eq(c.value, "FROM-FILE");
	ck_assert_str_eq(c.source, "file");
	lep_cred_release(&c);
	/* A file others may read is refused, not passed over. */
	chmod(p, 0640);
	err = lep_creds_resolve(&c, src, 3);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_null(c.value);
	lep_cred_release(&c);
	/* None set up: no value, no error. */
	unsetenv("LEP_TEST_TOKEN");
	ck_assert_ptr_null(lep_creds_resolve(&c, src + 2, 1));
	ck_assert_ptr_null(c.value);
	ck_assert_ptr_null(c.source);
	free(p);
}
END_TEST

START_TEST(test_fs_read_file_caps_size)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*p;

	p = xasprintf("%s/big", test_sandbox());
	test_write(p, "0123456789", 0644);
	err = lep_read_file(&b, p, 5);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_FAILED);
	lep_buf_release(&b);
	err = lep_read_file(&b, "/nonexistent/x", 5);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
	lep_buf_release(&b);
	free(p);
}
END_TEST

START_TEST(test_fs_lock_names_holder_and_is_released_on_death)
{
	const struct lep_err	*err;
	char			*home, pidstr[32];
	int			 fd, sync[2], status;
	pid_t			 pid;

	home = xasprintf("%s/lock-home", test_sandbox());
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	if (pid == 0) {
		if (lep_lock(&fd, home, 1000) != NULL)
			_exit(1);
		(void)!write(sync[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(sync[0], pidstr, 1), 1);
	err = lep_lock(&fd, home, 100);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_LOCKED);
	snprintf(pidstr, sizeof(pidstr), "process %ld", (long)pid);
	ck_assert_ptr_nonnull(strstr(err->msg, pidstr));
	kill(pid, SIGKILL);	/* the kernel drops its lock */
	waitpid(pid, &status, 0);
	ck_assert_ptr_null(lep_lock(&fd, home, 1000));
	lep_unlock(fd);
	close(sync[0]);
	close(sync[1]);
	free(home);
}
END_TEST

/* A build context through GNU tar, an independent reader: the listing
   and the bytes that come out. */
START_TEST(test_tar_dir_is_read_back_by_gnu_tar)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*src, *p, *cmd, *list, *got, longname[160];
	int			 rc;

	src = xasprintf("%s/tarsrc", test_sandbox());
	p = xasprintf("%s/sub/deeper", src);
	ck_assert_ptr_null(lep_mkdirs(p, 0755));
	free(p);
	p = xasprintf("%s/Dockerfile", src);
	test_write(p, "FROM scratch\n", 0644);
	free(p);
	p = xasprintf("%s/sub/deeper/data.bin", src);
	test_write(p, "0123456789", 0600);
	free(p);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	p = xasprintf("%s/sub/%s", src, longname);
	test_write(p, "long", 0644);
	free(p);
	p = xasprintf("%s/secret.key", src);
	test_write(p, "nope", 0600);
	free(p);
	p = xasprintf("%s/sub/skip.log", src);
	test_write(p, "nope", 0644);
	free(p);
	p = xasprintf("%s/sub/keep.log", src);
	test_write(p, "kept", 0644);
	free(p);
	p = xasprintf("%s/link", src);
	ck_assert_int_eq(symlink("Dockerfile", p), 0);
	free(p);
	p = xasprintf("%s/sub/deeper/x.key", src);
	test_write(p, "nope", 0600);
	free(p);
	p = xasprintf("%s/out/obj", src);
	ck_assert_ptr_null(lep_mkdirs(p, 0755));
	free(p);
	p = xasprintf("%s/out/obj/a.o", src);
	test_write(p, "nope", 0644);
	free(p);
	p = xasprintf("%s/out/obj/keep.txt", src);
	test_write(p, "kept", 0644);
	free(p);
	/* As Docker's: "**" spans segments, '!' reaches into an excluded
	   tree, and the Dockerfile goes whatever the file says. */
	p = xasprintf("%s/.dockerignore", src);
	test_write(p, "# not these\n**/*.key\nsub/*.log\n!sub/keep.log\n"
	    "/out/\n!out/obj/keep.txt\nDockerfile\n", 0644);
	free(p);
	{
		static const char *const keep[] = { "Dockerfile", NULL };

		err = lep_tar_dir(&b, src, LEP_TAR_MAX, keep);
	}
	ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
	ck_assert_int_eq(b.len % 512, 0);
	p = xasprintf("%s/ctx.tar", test_sandbox());
	{
		FILE	*f = fopen(p, "w");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fwrite(b.buf, 1, b.len, f), b.len);
		fclose(f);
	}
	lep_buf_release(&b);
	list = xasprintf("%s/ctx.list", test_sandbox());
	cmd = xasprintf("tar -tf %s | sort > %s && mkdir -p %s/out && "
	    "tar -xf %s -C %s/out", p, list, test_sandbox(), p,
	    test_sandbox());
	rc = system(cmd);
	ck_assert_int_eq(rc, 0);
	got = test_slurp(list, NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "Dockerfile\n") && strstr(got,
	    "sub/deeper/data.bin\n") && strstr(got, "sub/keep.log\n") &&
	    strstr(got, longname) && strstr(got, "link\n"), "listing: %s",
	    got);
	ck_assert_msg(strstr(got, "secret.key") == NULL &&
	    strstr(got, "x.key") == NULL && strstr(got, "a.o") == NULL &&
	    strstr(got, "skip.log") == NULL, ".dockerignore not honoured: %s",
	    got);
	ck_assert_msg(strstr(got, "out/obj/keep.txt\n") != NULL,
	    "'!' under an excluded tree not taken back: %s", got);
	free(got);
	free(cmd);
	cmd = xasprintf("%s/out/sub/deeper/data.bin", test_sandbox());
	got = test_slurp(cmd, NULL);
	ck_assert_str_eq(got, "0123456789");
	free(got);
	free(cmd);
	cmd = xasprintf("%s/out/sub/%s", test_sandbox(), longname);
	got = test_slurp(cmd, NULL);
	ck_assert_str_eq(got, "long");
	free(got);
	free(cmd);
	/* Over its cap, and a FIFO: errors that name why. */
	err = lep_tar_dir(&b, src, 4096, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->msg, "larger than"));
	free(p);
	p = xasprintf("%s/pipe", src);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	err = lep_tar_dir(&b, src, LEP_TAR_MAX, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->msg, "pipe: not a file"));
	free(p);
	free(list);
	free(src);
}
END_TEST

/* Issue: world-writable state under a permissive umask. */
static const struct {
	const char	*name;
	int		 mode;		/* -1: none; 0: a plain file */
	enum lep_code	 code;		/* 0: accepted */
	const char	*msg;
} private_dir_cases[] = {
	{ "missing", -1, 0, NULL },
	{ "owner-only", 0700, 0, NULL },
	{ "readable", 0755, 0, NULL },
	{ "group-writable", 0775, LEP_E_AUTH,
	    "others may write to it (mode 775)" },
	{ "world-writable", 0777, LEP_E_AUTH,
	    "others may write to it (mode 777)" },
	{ "other-writable", 0703, LEP_E_AUTH,
	    "others may write to it (mode 703)" },
	{ "a-file", 0, LEP_E_FAILED, "is not a directory" },
};

START_TEST(test_fs_home_refused_when_others_may_write)
{
	const struct lep_err	*err;
	char			*p;

	p = xasprintf("%s/home-%s", test_sandbox(),
	    private_dir_cases[_i].name);
	if (private_dir_cases[_i].mode == 0)
		test_write(p, "", 0600);
	else if (private_dir_cases[_i].mode > 0) {
		ck_assert_int_eq(mkdir(p, 0700), 0);
		ck_assert_int_eq(chmod(p,
		    (mode_t)private_dir_cases[_i].mode), 0);
	}
	err = lep_check_private_dir(p);
	if (private_dir_cases[_i].code == 0)
		ck_assert_msg(err == NULL, "%s: %s", private_dir_cases[_i].name,
		    err->msg);
	else {
		ck_assert_ptr_nonnull(err);
		ck_assert_int_eq(err->code, private_dir_cases[_i].code);
		ck_assert_msg(strstr(err->msg, private_dir_cases[_i].msg) !=
		    NULL, "%s: %s", private_dir_cases[_i].name, err->msg);
		ck_assert_ptr_nonnull(strstr(err->msg, p));
	}
	free(p);
}
END_TEST

/*
 * lepton's own directories are 0700 under the caller's umask; a child it
 * starts for the user gets that umask back. 022, not 000: what is kept
 * outlives the test under CK_FORK=no (the e2e test runs umask 000).
 */
START_TEST(test_fs_umask_kept_for_children)
{
	struct stat	 st;
	mode_t		 was;
	pid_t		 pid;
	char		*p;
	int		 status;

	was = umask(022);
	lep_umask_private();
	p = xasprintf("%s/umask/dir", test_sandbox());
	ck_assert_ptr_null(lep_mkdirs(p, 0777));
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	free(p);	/* before the fork: valgrind checks the child too */
	pid = fork();
	if (pid == 0) {
		lep_umask_restore();
		_exit((int)umask(0));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 022);
	ck_assert_int_eq(umask(was), 077);
}
END_TEST

/*
 * Found by fuzzing (tests/fuzz/fuzz_dockerignore.c): a pattern with many
 * "**" segments against a deep path took exponential time (over 5 s for
 * 199 bytes of .dockerignore). The matcher must stay as it was otherwise.
 */
START_TEST(test_tar_ignore_matches_and_stays_fast)
{
	static const struct {
		const char	*patterns;
		const char	*path;
		int		 ignored;
	} cases[] = {
		{ "**/*.key", "a/b/c.key", 1 },
		{ "**/*.key", "c.key", 1 },
		{ "sub/*.log\n!sub/keep.log", "sub/keep.log", 0 },
		{ "sub/*.log\n!sub/keep.log", "sub/x.log", 1 },
		{ "/out/", "out/obj/a.o", 1 },
		{ "a/**/b", "a/b", 1 },
		{ "a/**/b", "a/x/y/b/z", 1 },
		{ "a/**/b", "a/x/y/c", 0 },
		{ "**", "anything/at/all", 1 },
		{ "# comment\n\n  \t", "x", 0 },
		{ "?", "ab", 0 },
	};
	struct lep_tar_ignore	 ign;
	struct lep_buf		 pat = LEP_BUF_INIT, path = LEP_BUF_INIT;
	char			*text;
	size_t			 i;

	for (i = 0; i < LEP_ARRAY_SIZE(cases); i++) {
		text = xstrdup(cases[i].patterns);
		lep_tar_ignore_parse(&ign, text);
		ck_assert_msg(lep_tar_ignored(&ign, cases[i].path) ==
		    cases[i].ignored, "case %zu", i);
		lep_tar_ignore_release(&ign);
		free(text);
	}
	/* 30 "**" against 40 segments: a few thousand fnmatch calls. */
	for (i = 0; i < 30; i++)
		lep_buf_add(&pat, "**/");
	lep_buf_add(&pat, "x");
	for (i = 0; i < 40; i++)
		lep_buf_add(&path, "a/");
	lep_buf_add(&path, "y");
	lep_tar_ignore_parse(&ign, pat.buf);
	ck_assert_int_eq(lep_tar_ignored(&ign, path.buf), 0);
	lep_tar_ignore_release(&ign);
	lep_buf_release(&pat);
	lep_buf_release(&path);
}
END_TEST

/* A directory packed as SageMaker takes it (tar.gz) and unpacked again. */
START_TEST(test_tar_gzip_round_trip)
{
	struct lep_buf	 tar, gz, back;
	char		*src, *dst, *p, longname[160], *cmd;
	struct lep_buf	 got;

	src = xasprintf("%s/gzsrc", test_sandbox());
	dst = xasprintf("%s/gzdst", test_sandbox());
	p = xasprintf("%s/a/b", src);
	ck_assert_ptr_null(lep_mkdirs(p, 0755));
	free(p);
	p = xasprintf("%s/a/b/model.json", src);
	test_write(p, "{\"w\": [1, 2]}", 0644);
	free(p);
	memset(longname, 'q', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	p = xasprintf("%s/a/%s", src, longname);
	test_write(p, "long", 0644);
	free(p);
	ck_assert_ptr_null(lep_tar_dir(&tar, src, LEP_TAR_MAX, NULL));
	ck_assert_ptr_null(lep_gzip(&gz, tar.buf, tar.len));
	ck_assert_uint_eq((unsigned char)gz.buf[0], 0x1f);
	ck_assert_uint_eq((unsigned char)gz.buf[1], 0x8b);
	/* GNU tar reads it as a .tar.gz. */
	p = xasprintf("%s/m.tar.gz", test_sandbox());
	ck_assert_ptr_null(lep_write_atomic(p, gz.buf, gz.len, 0600));
	cmd = xasprintf("tar tzf %s | grep -q 'a/b/model.json'", p);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(p);
	ck_assert_ptr_null(lep_gunzip(&back, gz.buf, gz.len, LEP_TAR_MAX));
	ck_assert_uint_eq(back.len, tar.len);
	ck_assert_int_eq(memcmp(back.buf, tar.buf, tar.len), 0);
	ck_assert_ptr_null(lep_tar_extract(dst, back.buf, back.len));
	p = xasprintf("%s/a/b/model.json", dst);
	ck_assert_ptr_null(lep_read_file(&got, p, 1024));
	ck_assert_str_eq(got.buf, "{\"w\": [1, 2]}");
	lep_buf_release(&got);
	free(p);
	p = xasprintf("%s/a/%s", dst, longname);
	ck_assert_ptr_null(lep_read_file(&got, p, 1024));
	ck_assert_str_eq(got.buf, "long");
	lep_buf_release(&got);
	free(p);
	/* Not gzip, and more than the cap: refused. */
	ck_assert_ptr_nonnull(lep_gunzip(&got, "nope", 4, 100));
	lep_buf_release(&got);
	ck_assert_ptr_nonnull(lep_gunzip(&got, gz.buf, gz.len, 100));
	lep_buf_release(&got);
	lep_buf_release(&tar);
	lep_buf_release(&gz);
	lep_buf_release(&back);
	free(src);
	free(dst);
}
END_TEST

/* An archive from elsewhere (a training job's output) stays in its dir. */
START_TEST(test_tar_extract_refuses_climbing_names)
{
	static const char *const bad[] = { "../evil", "/etc/evil",
	    "a/../../evil" };
	const struct lep_err	*err;
	char			 blk[3 * 512], *dst;
	size_t			 i;

	dst = xasprintf("%s/climb", test_sandbox());
	for (i = 0; i < LEP_ARRAY_SIZE(bad); i++) {
		memset(blk, 0, sizeof(blk));
		snprintf(blk, 100, "%s", bad[i]);
		memcpy(blk + 124, "00000000000", 11);
		blk[156] = '0';
		err = lep_tar_extract(dst, blk, sizeof(blk));
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_nonnull(strstr(err->msg, "outside"));
	}
	/* A size past the end: refused, not read beyond. */
	memset(blk, 0, sizeof(blk));
	snprintf(blk, 100, "ok");
	memcpy(blk + 124, "77777777777", 11);
	blk[156] = '0';
	ck_assert_ptr_nonnull(lep_tar_extract(dst, blk, sizeof(blk)));
	free(dst);
}
END_TEST

Suite *
suite_fs(void)
{
	Suite	*s = suite_create("fs");
	TCase	*tc = tcase_create("fs");

	tcase_add_test(tc, test_fs_write_atomic_replaces_with_mode);
	tcase_add_test(tc, test_tar_dir_is_read_back_by_gnu_tar);
	tcase_add_test(tc, test_tar_ignore_matches_and_stays_fast);
	tcase_add_test(tc, test_tar_gzip_round_trip);
	tcase_add_test(tc, test_tar_extract_refuses_climbing_names);
	tcase_add_test(tc, test_fs_secret_file_refused_when_readable);
	tcase_add_test(tc, test_fs_write_exclusive_never_replaces);
	tcase_add_test(tc, test_fs_check_private_refuses_open_directories);
	tcase_add_test(tc, test_creds_sources_in_order);
	tcase_add_test(tc, test_fs_read_file_caps_size);
	tcase_add_test(tc, test_fs_lock_names_holder_and_is_released_on_death);
	tcase_add_loop_test(tc, test_fs_home_refused_when_others_may_write, 0,
	    (int)LEP_ARRAY_SIZE(private_dir_cases));
	tcase_add_test(tc, test_fs_umask_kept_for_children);
	suite_add_tcase(s, tc);
	return s;
}
