/*
 * test_main.c - the one Check runner for every suite.
 *
 * Without MIGRATE_TEST_DRIVER it runs the unit suites (no database). With
 * MIGRATE_TEST_DRIVER=sqlite|postgres|mysql (and MIGRATE_TEST_URL for the
 * servers) it runs the driver conformance suite and the CLI suite against
 * that database. tests/run.sh runs it once per mode, with servers started.
 * A driver this build lacks, or a server that does not answer, is a failure.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

Suite *util_suite(void);
Suite *config_suite(void);
Suite *sqllex_suite(void);
Suite *migration_suite(void);
Suite *driver_suite(void);
Suite *cli_suite(void);
Suite *dump_suite(void);
Suite *reliability_suite(void);
Suite *output_suite(void);
Suite *seed_unit_suite(void);
Suite *lint_suite(void);
Suite *seed_suite(void);
Suite *sqlsafety_suite(void);
Suite *hostile_suite(void);
Suite *testdb_suite(void);
Suite *adopt_suite(void);
Suite *safe_apply_suite(void);
Suite *lease_suite(void);
Suite *fleet_suite(void);
Suite *drift_suite(void);

int main(void)
{
	const char *driver = getenv("MIGRATE_TEST_DRIVER");
	SRunner *sr;
	int failed;

	if (driver && *driver) {
		if (test_db_init(driver)) {
			fprintf(stderr, "check_migrate: cannot test driver '%s': %s\n", driver, test_db_error());
			printf("0 passed, 1 failed\n");
			return 1;
		}
		sr = srunner_create(driver_suite());
		srunner_add_suite(sr, cli_suite());
		srunner_add_suite(sr, dump_suite());
		srunner_add_suite(sr, reliability_suite());
		srunner_add_suite(sr, seed_suite());
		srunner_add_suite(sr, sqlsafety_suite());
		srunner_add_suite(sr, hostile_suite());
		srunner_add_suite(sr, testdb_suite());
		srunner_add_suite(sr, adopt_suite());
		srunner_add_suite(sr, safe_apply_suite());
		srunner_add_suite(sr, lease_suite());
		srunner_add_suite(sr, fleet_suite());
		srunner_add_suite(sr, drift_suite());
	} else {
		sr = srunner_create(util_suite());
		srunner_add_suite(sr, config_suite());
		srunner_add_suite(sr, sqllex_suite());
		srunner_add_suite(sr, migration_suite());
		srunner_add_suite(sr, seed_unit_suite());
		srunner_add_suite(sr, lint_suite()); /* the CLI, with no database */
		srunner_add_suite(sr, output_suite()); /* the CLI on SQLite: no server needed */
	}
	srunner_run_all(sr, getenv("CK_VERBOSITY") ? CK_ENV : CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
