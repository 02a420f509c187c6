/*
 * cmd-infer.c - `eeprof infer CKPT --input X.h5 --output Y.h5`: the network on a
 * batch given as is, for comparisons with PyTorch.
 *
 * X holds /images float32 [N, C, H, W], the network input (already normalised).
 * Y gets /logits float32 [E, N, K] (exits shallow to deep), /macs float64 [E, N]
 * (standalone, executed), /macs_cascade float64 [E, N], and for every EMG layer
 * /gates/<MLConv2d state_dict prefix> uint8 [N, C] (1 = ring computed), plus
 * /gate_z/<prefix> float32 [N, C] (z = mean(|I| - t)) with --gate-z.
 */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "core/h5io.h"
#include "core/exec.h"
#include "plugins/net.h"

static const char synopsis[] =
	"eeprof infer <checkpoint.h5> --input <images.h5> --output <out.h5> [--gate-z] "
	"[--batch <n>] [--threads <n>]";

/* Everything infer writes, for all N samples. */
struct results {
	int e, n, k;
	float *logits;      /* [e][n][k] */
	double *macs;       /* [e][n] standalone */
	double *cascade;    /* [e][n] */
	uint8_t **gates;    /* [ngated] -> [n][gates of that layer] */
	float **z;          /* [ngated] -> [n][gates], with --gate-z */
};

static int results_init(struct results *res, const struct ee_model *m, int n, bool z,
			struct ee_err *err)
{
	int g, ok;

	memset(res, 0, sizeof(*res));
	res->e = m->nexits;
	res->n = n;
	res->k = (int)ee_shape_numel(m->nodes[m->exit_node[0]].shape);
	res->logits = malloc((size_t)res->e * n * res->k * sizeof(float));
	res->macs = malloc((size_t)res->e * n * sizeof(double));
	res->cascade = malloc((size_t)res->e * n * sizeof(double));
	res->gates = calloc((size_t)m->ngated + 1, sizeof(*res->gates));
	res->z = calloc((size_t)m->ngated + 1, sizeof(*res->z));
	ok = res->logits && res->macs && res->cascade && res->gates && res->z;
	for (g = 0; ok && g < m->ngated; g++) {
		size_t c = (size_t)m->nodes[m->gated[g]].cost.gates;

		ok = (res->gates[g] = malloc(c * n)) && (!z || (res->z[g] = malloc(c * n * 4)));
	}
	return ok ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d samples", n);
}

static void results_release(struct results *res, int ngated)
{
	int g;

	for (g = 0; res->gates && res->z && g < ngated; g++) {
		free(res->gates[g]);
		free(res->z[g]);
	}
	free(res->gates);
	free(res->z);
	free(res->logits);
	free(res->macs);
	free(res->cascade);
}

/* Copies the last forward (samples first.. of the whole input) into res. */
static void collect(struct results *res, const struct ee_run *r, int first)
{
	const struct ee_model *m = r->m;
	int k, i, g;

	for (k = 0; k < res->e; k++) {
		struct ee_tensor out = ee_run_output(r, k);

		for (i = 0; i < r->n; i++) {
			size_t row = (size_t)k * res->n + first + i;

			memcpy(res->logits + row * res->k, ee_tensor_sample(&out, i),
			       (size_t)res->k * sizeof(float));
			res->macs[row] = ee_run_sample_macs(r, k, i, false);
			res->cascade[row] = ee_run_sample_macs(r, k, i, true);
		}
	}
	for (g = 0; g < m->ngated; g++) {
		size_t c = (size_t)m->nodes[m->gated[g]].cost.gates;

		memcpy(res->gates[g] + (size_t)first * c, ee_run_gates(r, g, 0), c * r->n);
		if (res->z[g])
			memcpy(res->z[g] + (size_t)first * c, r->gate_z + r->gate_off[g],
			       c * r->n * sizeof(float));
	}
}

static int write_results(const struct results *res, const struct ee_model *m, int64_t f,
			 struct ee_err *err)
{
	uint64_t d3[3] = { (uint64_t)res->e, (uint64_t)res->n, (uint64_t)res->k };
	int64_t gg = -1, gz = -1;
	int g, rc;

	rc = ee_h5_write(f, "logits", 'f', 3, d3, res->logits, err);
	if (rc == EE_OK)
		rc = ee_h5_write(f, "macs", 'd', 2, d3, res->macs, err);
	if (rc == EE_OK)
		rc = ee_h5_write(f, "macs_cascade", 'd', 2, d3, res->cascade, err);
	if (rc == EE_OK && m->ngated && (gg = ee_h5_group(f, "gates", err)) < 0)
		rc = EE_ERR_IO;
	if (rc == EE_OK && m->ngated && res->z[0] && (gz = ee_h5_group(f, "gate_z", err)) < 0)
		rc = EE_ERR_IO;
	for (g = 0; rc == EE_OK && g < m->ngated; g++) {
		const struct ee_node *n = &m->nodes[m->gated[g]];
		uint64_t d2[2] = { (uint64_t)res->n, (uint64_t)n->cost.gates };

		rc = ee_h5_write(gg, n->layer->name, 'b', 2, d2, res->gates[g], err);
		if (rc == EE_OK && gz >= 0)
			rc = ee_h5_write(gz, n->layer->name, 'f', 2, d2, res->z[g], err);
	}
	if (gg >= 0)
		H5Gclose(gg);
	if (gz >= 0)
		H5Gclose(gz);
	return rc;
}

/* Writes Y.h5 under a temporary name and renames it into place. */
static int save(const struct results *res, const struct ee_model *m, const char *path,
		struct ee_err *err)
{
	struct ee_out out;
	int64_t f;
	int rc;

	if ((rc = ee_out_begin(&out, path, err)) < 0)
		return rc;
	f = ee_out_h5create(&out, err);
	if (f < 0) {
		ee_out_abort(&out);
		return EE_ERR_IO;
	}
	rc = write_results(res, m, f, err);
	if (H5Fclose(f) < 0 && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_IO, "cannot write '%s'", path);
	if (rc < 0) {
		ee_err_prefix(err, "output '%s': ", path);
		ee_out_abort(&out);
		return rc;
	}
	return ee_out_commit(&out, err);
}

/* /images of X, checked against the network input. */
static int read_images(const char *path, struct ee_shape want, float **x, int *n,
		       struct ee_err *err)
{
	uint64_t d[4];
	int64_t f = ee_h5_open_read(path, "input", err);
	size_t i;
	int rc;

	if (f < 0)
		return EE_ERR_INPUT;
	rc = ee_h5_read_floats(f, path, "images", 4, d, (size_t)1 << 31, x, err);
	ee_h5_close(f);
	if (rc < 0)
		return ee_err_prefix(err, "input ");
	if (d[1] != (uint64_t)want.c || d[2] != (uint64_t)want.h || d[3] != (uint64_t)want.w ||
	    d[0] < 1 || d[0] > (1u << 30)) {
		free(*x);
		*x = NULL;
		return ee_err_set(err, EE_ERR_INPUT,
				  "input '%s': /images has shape [%llu, %llu, %llu, %llu] but the "
				  "model takes [N, %d, %d, %d]", path, (unsigned long long)d[0],
				  (unsigned long long)d[1], (unsigned long long)d[2],
				  (unsigned long long)d[3], want.c, want.h, want.w);
	}
	*n = (int)d[0];
	for (i = 0; i < (size_t)*n * ee_shape_numel(want); i++)
		if (!isfinite((*x)[i])) {
			size_t per = ee_shape_numel(want);
			float v = (*x)[i];

			free(*x);
			*x = NULL;
			return ee_err_set(err, EE_ERR_INPUT, "input '%s': /images holds %s in image "
					  "%zu (a network input must be finite)", path,
					  isnan(v) ? "NaN" : "Inf", i / per);
		}
	return EE_OK;
}

static int run_all(struct ee_run *r, const struct ee_model *m, const float *x, int n,
		   struct results *res)
{
	size_t per = ee_shape_numel(m->input);
	int first;

	for (first = 0; first < n; first += r->max_batch) {
		int cnt = n - first < r->max_batch ? n - first : r->max_batch;
		struct ee_tensor t = ee_tensor_dense((float *)x + per * first, cnt, m->input.c,
						     m->input.h, m->input.w);

		ee_run_forward(r, &t);
		collect(res, r, first);
	}
	return EE_OK;
}

struct infer_opts {
	const char *input, *output;
	int threads, batch;
	bool gate_z;
};

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct infer_opts *o = ctx;
	struct results res;
	struct ee_net net;
	struct ee_run run;
	float *x = NULL;
	int n = 0, rc;

	(void)npos;
	if (!o->input || !o->output)
		return ee_err_set(err, EE_ERR_USAGE, "--input and --output are required%s",
				  hint(synopsis));
	ee_cli_threads(o->threads);
	if ((rc = ee_net_load(&net, pos[0], err)) < 0)
		return rc;
	rc = read_images(o->input, net.model.input, &x, &n, err);
	if (rc == EE_OK)
		rc = ee_run_init(&run, &net.model, n < o->batch ? n : o->batch, o->gate_z, err);
	if (rc == EE_OK) {
		rc = results_init(&res, &net.model, n, o->gate_z, err);
		if (rc == EE_OK)
			rc = run_all(&run, &net.model, x, n, &res);
		if (rc == EE_OK)
			rc = save(&res, &net.model, o->output, err);
		results_release(&res, net.model.ngated);
		ee_run_release(&run);
	}
	free(x);
	ee_net_release(&net);
	return rc;
}

int cmd_infer(int argc, char **argv)
{
	struct infer_opts o = { .threads = 1, .batch = 64 };
	const struct ee_opt opts[] = {
		{ "input", EE_OPT_STR, &o.input, "<file>", "HDF5 file with /images [N,C,H,W]", 0, 0 },
		{ "output", EE_OPT_FILE, &o.output, "<file>", "HDF5 file to write", 0, 0 },
		{ "gate-z", EE_OPT_FLAG, &o.gate_z, NULL, "also write /gate_z (gate inputs)", 0, 0 },
		EE_OPT_BATCH(&o.batch),
		EE_OPT_THREADS(&o.threads),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
