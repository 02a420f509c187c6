/*
 * check_dist.c - plugins/dist.c in one process: the shards the ranks of a job would take,
 * and the collectives of a one-rank job (what a plain start, or a build without MPI, does).
 * The collectives across ranks are tested under mpirun by tests/cli/t0095-mpi.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/dist.h"

/* Shards of n samples in batches of b over p ranks: contiguous and in rank order, covering
 * [0, n) once, every boundary a multiple of b (or n), batch counts within one of each other,
 * rank 0 never empty. */
static void check_shards(int n, int b, int p)
{
	int r, first, count, at = 0, most = 0, least = 1 << 30;

	for (r = 0; r < p; r++) {
		int batches;

		ee_dist_shard(n, b, r, p, &first, &count);
		ck_assert_int_eq(first, at);
		ck_assert_int_ge(count, 0);
		ck_assert(first % b == 0 || first == n);
		ck_assert((first + count) % b == 0 || first + count == n);
		batches = (count + b - 1) / b;
		most = batches > most ? batches : most;
		least = batches < least ? batches : least;
		if (r == 0 && n > 0)
			ck_assert_int_gt(count, 0);
		at += count;
	}
	ck_assert_int_eq(at, n);
	ck_assert_int_le(most - least, 1);
}

START_TEST(shards_cover_the_samples_in_batches)
{
	static const int ns[] = { 0, 1, 7, 8, 9, 40, 63, 64, 65, 1000, 10000, 50000 };
	static const int bs[] = { 1, 3, 8, 64, 256 };
	size_t i, j;
	int p;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (j = 0; j < sizeof(bs) / sizeof(bs[0]); j++)
			for (p = 1; p <= 9; p++)
				check_shards(ns[i], bs[j], p);
	check_shards(50000, 64, 64);
}
END_TEST

START_TEST(shards_worked_examples)
{
	int first, count;

	/* 40 samples, batch 8 = 5 batches over 3 ranks: 2, 2, 1 batches */
	ee_dist_shard(40, 8, 0, 3, &first, &count);
	ck_assert(first == 0 && count == 16);
	ee_dist_shard(40, 8, 1, 3, &first, &count);
	ck_assert(first == 16 && count == 16);
	ee_dist_shard(40, 8, 2, 3, &first, &count);
	ck_assert(first == 32 && count == 8);
	/* 10 samples, batch 64: one short batch; rank 0 takes it, rank 1 nothing */
	ee_dist_shard(10, 64, 0, 2, &first, &count);
	ck_assert(first == 0 && count == 10);
	ee_dist_shard(10, 64, 1, 2, &first, &count);
	ck_assert(first == 10 && count == 0);
}
END_TEST

START_TEST(one_rank_collectives)
{
	struct ee_err err = { 0 };
	const char msg[] = "rank zero's bytes";
	size_t lens[1] = { 0 };
	double secs[1] = { 0 };
	void *all = NULL;

	ck_assert_int_eq(ee_dist_init(NULL, NULL, &err), EE_OK);
	ck_assert_int_eq(ee_dist_rank(), 0);
	ck_assert_int_eq(ee_dist_size(), 1);
	ck_assert_int_eq(ee_dist_agree(EE_OK, &err), EE_OK);
	ee_err_set(&err, EE_ERR_INPUT, "bad shard");
	ck_assert_int_eq(ee_dist_agree(EE_ERR_INPUT, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "bad shard"); /* rank 0's message, not prefixed */
	ck_assert_int_eq(ee_dist_max(3), 3);
	ck_assert_int_eq(ee_dist_gather(msg, sizeof(msg), &all, lens, &err), EE_OK);
	ck_assert_uint_eq(lens[0], sizeof(msg));
	ck_assert_mem_eq(all, msg, sizeof(msg));
	free(all);
	ck_assert_int_eq(ee_dist_gather(NULL, 0, &all, lens, &err), EE_OK);
	ck_assert_ptr_nonnull(all);
	ck_assert_uint_eq(lens[0], 0);
	free(all);
	ee_dist_gather_double(1.5, secs);
	ck_assert(secs[0] == 1.5);
	{ /* alone, a reduction leaves rank 0's values as they are */
		long long v[2] = { 5, -7 };

		ee_dist_reduce(v, 2, EE_DIST_LLONG, EE_DIST_SUM);
		ck_assert(v[0] == 5 && v[1] == -7);
		ee_dist_reduce(secs, 1, EE_DIST_DOUBLE, EE_DIST_MAX);
		ck_assert(secs[0] == 1.5);
	}
	ee_dist_finalize();
	ck_assert_int_eq(ee_dist_size(), 1);
}
END_TEST

static Suite *dist_suite(void)
{
	Suite *s = suite_create("dist");
	TCase *tc = tcase_create("dist");

	tcase_add_test(tc, shards_cover_the_samples_in_batches);
	tcase_add_test(tc, shards_worked_examples);
	tcase_add_test(tc, one_rank_collectives);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
