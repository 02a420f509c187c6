/*
 * check_api.c - libee's public API (include/eeprof/ee.h) on the EMGNet sample checkpoint.
 *
 *  - what a caller can get wrong comes back as a status and a message, never a crash:
 *    a missing file, a batch size of 0, a batch larger than the run, images outside
 *    the dataset; every free function takes NULL;
 *  - the network's description (arch, exits, classes, input, gated layers, MAC bounds);
 *  - a batch run through the public functions gives exactly what the library's own
 *    objects give when the command line drives them (ee_net_load, ee_dataset_batch,
 *    ee_run_forward): the same inputs, logits, executed MACs and gate decisions.
 * The dataset is Fashion-MNIST's test split (Debian's dataset-fashion-mnist).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "include/eeprof/ee.h"
#include "plugins/dataset.h"
#include "plugins/net.h"

#define SAMPLE "checkpoints/samples/emgnet20-w8-fmnist.h5"
#define DATA "fashion-mnist:test"
#define N 5     /* images per batch */
#define FIRST 3 /* first image */

START_TEST(mistakes_are_statuses)
{
	struct ee_err err = { 0 };
	struct ee_net *net;
	struct ee_dataset *data;
	struct ee_run *run;
	float x[N * 32 * 32];

	ck_assert_ptr_null(ee_net_open("no/such/model.h5", &err));
	ck_assert_int_eq(err.code, EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "no/such/model.h5"), "%s", err.msg);
	ck_assert_ptr_null(ee_data_open("no-such-reader:test", &err));
	ck_assert_int_eq(err.code, EE_ERR_USAGE);
	ck_assert_str_eq(ee_strerror(EE_ERR_INPUT), "bad input");

	net = ee_net_open(SAMPLE, &err);
	ck_assert_msg(net != NULL, "%s", err.msg);
	ck_assert_ptr_null(ee_run_new(net, 0, &err));
	ck_assert_int_eq(err.code, EE_ERR_USAGE);
	run = ee_run_new(net, N, &err);
	ck_assert_msg(run != NULL, "%s", err.msg);
	data = ee_data_open(DATA, &err);
	ck_assert_msg(data != NULL, "%s", err.msg);
	ck_assert_int_eq(ee_data_count(data), 10000);
	ck_assert_int_eq(ee_data_read(data, net, 9999, 2, x, NULL, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_data_read(data, net, 0, N, x, NULL, &err), EE_OK);
	ck_assert_int_eq(ee_run_batch(run, x, N + 1, &err), EE_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "expected 1 to 5"), "%s", err.msg);
	ck_assert_int_eq(ee_run_batch(run, x, 0, &err), EE_ERR_USAGE);
	ee_run_free(run);
	ee_data_free(data);
	ee_net_free(net);
	ee_run_free(NULL);
	ee_data_free(NULL);
	ee_net_free(NULL);
}
END_TEST

START_TEST(describes_the_network)
{
	struct ee_err err = { 0 };
	struct ee_net *net = ee_net_open(SAMPLE, &err);
	int c, h, w, g, channels;

	ck_assert_msg(net != NULL, "%s", err.msg);
	ck_assert_str_eq(ee_net_arch(net), "emgnet");
	ck_assert_int_eq(ee_net_exits(net), 3);
	ck_assert_int_eq(ee_net_classes(net), 10);
	ee_net_input(net, &c, &h, &w);
	ck_assert(c == 1 && h == 32 && w == 32);
	ck_assert_int_gt(ee_net_gated(net), 0);
	for (g = 0; g < ee_net_gated(net); g++) {
		ck_assert_ptr_nonnull(strstr(ee_net_gate_layer(net, g, &channels), "more_feature_conv"));
		ck_assert_int_gt(channels, 0);
	}
	/* README's sample table: 3.43M-4.78M for exit 1 (standalone); cascade >= standalone. */
	ck_assert_double_eq(ee_net_macs(net, 0, false, 0), 3433984);
	ck_assert_double_eq(ee_net_macs(net, 0, false, 1), 4781568);
	ck_assert(ee_net_macs(net, 2, true, 1) > ee_net_macs(net, 2, false, 1));
	ee_net_free(net);
}
END_TEST

START_TEST(same_results_as_the_library_inside)
{
	struct ee_err err = { 0 };
	struct ee_net *net = ee_net_open(SAMPLE, &err);
	struct ee_dataset *data = ee_data_open(DATA, &err);
	struct ee_run *run;
	struct ee_net inner;
	struct ee_dataset ds;
	struct ee_run r;
	struct ee_tensor t;
	static float x[N * 32 * 32], y[N * 32 * 32];
	int labels[N], i, k, g;

	ck_assert_msg(net && data, "%s", err.msg);
	run = ee_run_new(net, N, &err);
	ck_assert_msg(run != NULL, "%s", err.msg);
	ck_assert_int_eq(ee_data_read(data, net, FIRST, N, x, labels, &err), EE_OK);
	ck_assert_int_eq(ee_run_batch(run, x, N, &err), EE_OK);

	ck_assert_int_eq(ee_net_load(&inner, SAMPLE, &err), EE_OK);
	ck_assert_int_eq(ee_dataset_open(&ds, DATA, &err), EE_OK);
	ck_assert_int_eq(ee_dataset_batch(&ds, FIRST, N, inner.model.input, inner.ck.mean,
					  inner.ck.std, y, &err), EE_OK);
	ck_assert_int_eq(memcmp(x, y, sizeof(x)), 0);
	ck_assert_int_eq(ee_run_init(&r, &inner.model, N, false, &err), EE_OK);
	t = ee_tensor_dense(y, N, 1, 32, 32);
	ee_run_forward(&r, &t);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(labels[i], ds.labels[FIRST + i]);
		for (k = 0; k < 3; k++) {
			struct ee_tensor out = ee_run_output(&r, k);

			ck_assert_int_eq(memcmp(ee_run_logits(run, k, i), ee_tensor_sample(&out, i),
						10 * sizeof(float)), 0);
			ck_assert_double_eq(ee_run_macs(run, k, i, false),
					    ee_run_sample_macs(&r, k, i, false));
			ck_assert_double_eq(ee_run_macs(run, k, i, true),
					    ee_run_sample_macs(&r, k, i, true));
		}
		for (g = 0; g < ee_net_gated(net); g++) {
			int channels;

			ee_net_gate_layer(net, g, &channels);
			ck_assert_int_eq(memcmp(ee_run_open_gates(run, g, i), ee_run_gates(&r, g, i),
						(size_t)channels), 0);
		}
	}
	ee_run_release(&r);
	ee_dataset_release(&ds);
	ee_net_release(&inner);
	ee_run_free(run);
	ee_data_free(data);
	ee_net_free(net);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mistakes_are_statuses);
	tcase_add_test(tc, describes_the_network);
	tcase_add_test(tc, same_results_as_the_library_inside);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(api_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
