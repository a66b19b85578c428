/*
 * check_local.c: the local provider's GPU check (against a stand-in
 * nvidia-smi that prints what the real one printed on an H100 machine)
 * and the process helpers it relies on.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/out.h"
#include "../lib/proc.h"
#include "../lib/provider.h"
#include "../lib/spec.h"
#include "../lib/util.h"

/* Put an nvidia-smi printing csv (its --format=csv,noheader) on PATH. */
static void
fake_nvidia_smi(const char *csv)
{
	char	*bin, *p, *script, *path;

	bin = xasprintf("%s/bin-%ld", test_sandbox(), (long)getpid());
	ck_assert_ptr_null(lep_mkdirs(bin, 0755));
	p = xasprintf("%s/nvidia-smi", bin);
	script = xasprintf("#!/bin/sh\nprintf '%s'\n", csv);
	test_write(p, script, 0755);
	path = xasprintf("%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	free(path);
	free(script);
	free(p);
	free(bin);
}

static const struct lep_err *
check_spec(const char *yaml)
{
	const struct lep_err	*err;
	struct lep_provider	*p;
	struct lep_spec		*sp;
	struct lep_out		 out;
	struct lep_config	 cfg;

	lep_out_init(&out, "test");
	cfg.home = test_sandbox();
	cfg.out = &out;
	ck_assert_ptr_null(lep_spec_parse(&sp, "gpu.yaml", "/", yaml,
	    strlen(yaml)));
	ck_assert_ptr_null(lep_provider_open(&p, "local", &cfg));
	err = lep_provider_check(p, sp);
	lep_provider_close(p);
	lep_spec_free(sp);
	lep_out_release(&out);
	return err;
}

START_TEST(test_local_refuses_gpus_without_nvidia_smi)
{
	const struct lep_err	*err;

	setenv("PATH", "/usr/bin:/bin", 1);
	err = check_spec("kind: service\nname: g\nrun: x\nresources:\n"
	    "  accelerators: H100:1\n");
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_INFEASIBLE);
	ck_assert_int_eq(lep_err_exit(err), 10);
	ck_assert_ptr_nonnull(strstr(err->msg, "gpu.yaml:5:17:"));
	ck_assert_ptr_nonnull(strstr(err->msg, "no GPU"));
}
END_TEST

START_TEST(test_local_counts_gpus_from_nvidia_smi)
{
	const struct lep_err	*err;

	fake_nvidia_smi("0, NVIDIA H100 80GB HBM3, 81559 MiB\\n");
	ck_assert_ptr_null(check_spec("kind: service\nname: g\nrun: x\n"
	    "resources:\n  accelerators: H100:1\n"));
	/* Two replicas of one GPU each need two GPUs. */
	err = check_spec("kind: service\nname: g\nrun: x\nresources:\n"
	    "  accelerators: H100:1\nservice:\n  replicas: 2\n");
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_INFEASIBLE);
	ck_assert_ptr_nonnull(strstr(err->msg, "has 1 GPU"));
	/* The name matters: an A100 is not an H100. */
	err = check_spec("kind: service\nname: g\nrun: x\nresources:\n"
	    "  accelerators: A100:1\n");
	ck_assert_ptr_nonnull(err);
	/* An ordered list takes the first that fits. */
	ck_assert_ptr_null(check_spec("kind: service\nname: g\nrun: x\n"
	    "resources:\n  accelerators: [A100:1, h100-80gb:1]\n"));
}
END_TEST

/* A machine with more GPUs than an old fixed array held (16) has them all. */
START_TEST(test_local_counts_every_gpu_of_a_big_machine)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	int		 i;

	for (i = 0; i < 24; i++)
		lep_buf_addf(&b, "%d, NVIDIA H100 80GB HBM3, 81559 MiB\\n", i);
	fake_nvidia_smi(b.buf);
	lep_buf_release(&b);
	ck_assert_ptr_null(check_spec("kind: service\nname: g\nrun: x\n"
	    "resources:\n  accelerators: H100:8\nservice:\n  replicas: 3\n"));
	ck_assert_int_eq(check_spec("kind: service\nname: g\nrun: x\n"
	    "resources:\n  accelerators: H100:25\n")->code, LEP_E_INFEASIBLE);
}
END_TEST

START_TEST(test_local_no_accelerators_needs_no_gpu)
{
	setenv("PATH", "/usr/bin:/bin", 1);
	ck_assert_ptr_null(check_spec("kind: service\nname: g\nrun: x\n"));
}
END_TEST

START_TEST(test_proc_alive_checks_start_time)
{
	unsigned long long	 start;
	pid_t			 pid;
	int			 status;

	start = lep_proc_start_time((long)getpid());
	ck_assert_uint_gt(start, 0);
	ck_assert(lep_proc_alive((long)getpid(), start));
	ck_assert(!lep_proc_alive((long)getpid(), start + 1));
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	ck_assert(!lep_proc_alive((long)pid, 0));
}
END_TEST

START_TEST(test_proc_capture_output_status_and_timeout)
{
	char			*ok[] = { "sh", "-c", "echo hi; exit 3", NULL };
	char			*slow[] = { "sleep", "5", NULL };
	char			*none[] = { "no-such-program-xyz", NULL };
	const struct lep_err	*err;
	struct lep_buf		 b;
	int			 status;

	ck_assert_ptr_null(lep_proc_capture(&b, ok, 100, 5000, &status));
	ck_assert_str_eq(b.buf, "hi\n");
	ck_assert_int_eq(status, 3);
	lep_buf_release(&b);
	err = lep_proc_capture(&b, slow, 100, 200, &status);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_TIMEOUT);
	lep_buf_release(&b);
	err = lep_proc_capture(&b, none, 100, 2000, &status);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
	lep_buf_release(&b);
}
END_TEST

START_TEST(test_free_port_is_free)
{
	int	 port = lep_free_port();

	ck_assert_int_gt(port, 0);
	ck_assert(!lep_port_listening(port));
}
END_TEST

static char	*saved_path;

static void
save_path(void)
{
	saved_path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
}

static void
restore_path(void)
{
	setenv("PATH", saved_path, 1);
	free(saved_path);
	saved_path = NULL;
}

Suite *
suite_local(void)
{
	Suite	*s = suite_create("local");
	TCase	*tc = tcase_create("local");

	tcase_add_checked_fixture(tc, save_path, restore_path);

	tcase_add_test(tc, test_local_refuses_gpus_without_nvidia_smi);
	tcase_add_test(tc, test_local_counts_gpus_from_nvidia_smi);
	tcase_add_test(tc, test_local_counts_every_gpu_of_a_big_machine);
	tcase_add_test(tc, test_local_no_accelerators_needs_no_gpu);
	tcase_add_test(tc, test_proc_alive_checks_start_time);
	tcase_add_test(tc, test_proc_capture_output_status_and_timeout);
	tcase_add_test(tc, test_free_port_is_free);
	suite_add_tcase(s, tc);
	return s;
}
