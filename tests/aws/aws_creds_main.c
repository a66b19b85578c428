/*
 * aws_creds_main.c: test-only. Resolves AWS credentials with lib/aws and
 * prints them as JSON, secrets included, for tests/aws/creds.sh to compare
 * field by field with botocore's answer (tests/aws/botocore-creds.py).
 *
 *   aws_creds [-w] [PROFILE]   -w: also STS GetCallerIdentity's Arn
 *
 * Environment: LEPTON_HOME (the assume-role cache), AWS_* as for the CLI.
 * Exit 1 with {"error": CODE, "message": ...} on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws.h"
#include "../../lib/error.h"
#include "../../lib/json.h"
#include "../../lib/util.h"

int
main(int argc, char **argv)
{
	const struct lep_err	*err;
	struct lep_aws_creds	 c;
	struct lep_aws_opts	 o;
	struct lep_json		*j;
	char			*s, *acct = NULL, *arn = NULL, t[32];
	int			 who = 0;

	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		who = 1;
		argv++;
		argc--;
	}
	memset(&o, 0, sizeof(o));
	o.profile = argc > 1 ? argv[1] : NULL;
	o.home = getenv("LEPTON_HOME");
	j = lep_json_obj();
	err = lep_aws_creds_resolve(&c, &o);
	if (err == NULL && who)
		err = lep_aws_whoami(&acct, &arn, &c);
	if (err != NULL) {
		lep_json_set_str(j, "error", lep_err_info(err->code)->name);
		lep_json_set_str(j, "message", err->msg);
	} else {
		lep_json_set_str(j, "method", c.method);
		lep_json_set_str(j, "AccessKeyId", c.access_key);
		lep_json_set_str(j, "SecretAccessKey", c.secret_key);
		lep_json_set_str(j, "SessionToken", c.session_token);
		if (c.expires != 0) {
			lep_format_time(t, sizeof(t), c.expires);
			lep_json_set_str(j, "Expiration", t);
		} else
			lep_json_set(j, "Expiration", lep_json_null());
		lep_json_set_str(j, "Region", c.region);
		lep_json_set_str(j, "Profile", c.profile);
		lep_json_set_str(j, "Detail", c.detail);
		if (arn != NULL)
			lep_json_set_str(j, "Arn", arn);
	}
	s = lep_json_print(j, 1);
	printf("%s\n", s);
	free(s);
	free(acct);
	free(arn);
	lep_json_free_wiped(j);
	lep_aws_creds_release(&c);
	return err != NULL;
}
