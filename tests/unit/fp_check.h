/* fp_check.h - shared main() for the Check unit tests: TAP on stdout for
 * automake's tap-driver (one TAP line per test) plus Check's summary. */
#ifndef FP_CHECK_H
#define FP_CHECK_H

#include <check.h>
#include <stdlib.h>

#define FP_CHECK_MAIN(suite_fn)                           \
	int main(void)                                    \
	{                                                 \
		SRunner *sr = srunner_create(suite_fn()); \
		int nf;                                   \
		srunner_set_tap(sr, "-");                 \
		srunner_run_all(sr, CK_NORMAL);           \
		nf = srunner_ntests_failed(sr);           \
		srunner_free(sr);                         \
		return nf ? EXIT_FAILURE : EXIT_SUCCESS;  \
	}

#endif
