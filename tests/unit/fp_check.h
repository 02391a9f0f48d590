/* fp_check.h - shared main() for the Check unit tests: TAP on stdout for
 * automake's tap-driver (one TAP line per test) plus Check's summary.
 * A test case's default timeout is 60 s, not Check's 4 s: a test that
 * takes a second of CPU must not fail on a busy machine (scripts/test
 * scales them further with CK_TIMEOUT_MULTIPLIER under sanitizers and
 * load); a case that sets its own keeps it. */
#ifndef FP_CHECK_H
#define FP_CHECK_H

#include <check.h>
#include <stdlib.h>

#define FP_CHECK_MAIN(suite_fn)                          \
	int main(void)                                   \
	{                                                \
		SRunner *sr;                             \
		int nf;                                  \
		setenv("CK_DEFAULT_TIMEOUT", "60", 0);   \
		sr = srunner_create(suite_fn());         \
		srunner_set_tap(sr, "-");                \
		srunner_run_all(sr, CK_NORMAL);          \
		nf = srunner_ntests_failed(sr);          \
		srunner_free(sr);                        \
		return nf ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
