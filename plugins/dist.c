/*
 * dist.c - the processes of one job (see dist.h): MPI_COMM_WORLD when built with EE_MPI and
 * started by a launcher, a single rank otherwise.
 */
#include "dist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef EE_MPI
#include <mpi.h>
#endif

static int rank_, size_ = 1;
#ifdef EE_MPI
static bool joined; /* MPI_Init was called (and MPI_Finalize is owed) */
#endif

/* Bytes sent in one message of a gather (MPI counts are ints). */
#define CHUNK ((size_t)1 << 30)

/* A positive integer from the environment, 0 if unset or not one. */
static long env_long(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	v = strtol(s, &end, 10);
	return *end || v < 0 ? 0 : v;
}

/* Processes the launcher started (Open MPI's mpirun, a PMI or PMIx launcher such as srun
 * --mpi=pmix or MPICH's hydra), or 0 when none did. PMIx sets no size: Slurm's is used,
 * else at least 2 is assumed. */
static long launched_size(void)
{
	long n;

	if ((n = env_long("OMPI_COMM_WORLD_SIZE")) > 0 || (n = env_long("PMI_SIZE")) > 0)
		return n;
	if (getenv("PMIX_RANK") || getenv("PMI_RANK"))
		return (n = env_long("SLURM_STEP_NUM_TASKS")) > 0 ? n : 2;
	return 0;
}

bool ee_dist_built_with_mpi(void)
{
#ifdef EE_MPI
	return true;
#else
	return false;
#endif
}

int ee_dist_init(int *argc, char ***argv, struct ee_err *err)
{
	long n = launched_size();

	rank_ = 0;
	size_ = 1;
	if (n == 0)
		return EE_OK;
#ifdef EE_MPI
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return ee_err_set(err, EE_ERR_INPUT, "MPI_Init failed");
	joined = true;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
	MPI_Comm_size(MPI_COMM_WORLD, &size_);
	return EE_OK;
#else
	(void)argc;
	(void)argv;
	if (n > 1)
		return ee_err_set(err, EE_ERR_INPUT, "started by an MPI launcher as %ld processes, but "
				  "this eeprof is built without MPI (rebuild with make MPI=1)", n);
	return EE_OK;
#endif
}

void ee_dist_finalize(void)
{
#ifdef EE_MPI
	if (joined)
		MPI_Finalize();
	joined = false;
#endif
	rank_ = 0;
	size_ = 1;
}

int ee_dist_rank(void)
{
	return rank_;
}

int ee_dist_size(void)
{
	return size_;
}

#ifdef EE_MPI
/* Waits for a request, polling every millisecond rather than spinning: a rank that waits
 * for the others (rank 0 for the slowest, the others for rank 0's writing) leaves the
 * core to them, which matters when ranks share cores (mpirun --oversubscribe). */
static void wait_idle(MPI_Request *req)
{
	const struct timespec ms = { 0, 1000000 };
	int done = 0;

	for (MPI_Test(req, &done, MPI_STATUS_IGNORE); !done;
	     MPI_Test(req, &done, MPI_STATUS_IGNORE))
		nanosleep(&ms, NULL);
}

static void bcast(void *buf, int count, MPI_Datatype type, int root)
{
	MPI_Request req;

	MPI_Ibcast(buf, count, type, root, MPI_COMM_WORLD, &req);
	wait_idle(&req);
}
#endif

int ee_dist_agree(int rc, struct ee_err *err)
{
#ifdef EE_MPI
	int key = rc < 0 ? rank_ : size_, first;
	MPI_Request req;

	if (size_ == 1)
		return rc;
	MPI_Iallreduce(&key, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
	wait_idle(&req);
	if (first == size_)
		return EE_OK;
	if (rank_ == first && err->code >= 0)
		err->code = rc; /* a failure without its code set */
	bcast(&err->code, 1, MPI_INT, first);
	bcast(err->msg, sizeof(err->msg), MPI_CHAR, first);
	if (first != 0)
		ee_err_prefix(err, "rank %d: ", first);
	return err->code;
#else
	(void)err;
	return rc;
#endif
}

int ee_dist_max(int v)
{
#ifdef EE_MPI
	if (size_ > 1) {
		MPI_Request req;
		int max;

		MPI_Iallreduce(&v, &max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req);
		wait_idle(&req);
		return max;
	}
#endif
	return v;
}

void ee_dist_gather_double(double v, double *out)
{
#ifdef EE_MPI
	if (size_ > 1) {
		MPI_Request req;

		MPI_Igather(&v, 1, MPI_DOUBLE, out, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD, &req);
		wait_idle(&req);
		return;
	}
#endif
	out[0] = v;
}

void ee_dist_reduce(void *buf, int n, enum ee_dist_type type, enum ee_dist_op op)
{
#ifdef EE_MPI
	if (size_ > 1 && n > 0) {
		MPI_Datatype t = type == EE_DIST_DOUBLE ? MPI_DOUBLE :
				 type == EE_DIST_LONG ? MPI_LONG : MPI_LONG_LONG;
		MPI_Request req;

		MPI_Ireduce(rank_ == 0 ? MPI_IN_PLACE : buf, rank_ == 0 ? buf : NULL, n, t,
			    op == EE_DIST_MAX ? MPI_MAX : MPI_SUM, 0, MPI_COMM_WORLD, &req);
		wait_idle(&req);
	}
#else
	(void)buf;
	(void)n;
	(void)type;
	(void)op;
#endif
}

#ifdef EE_MPI
/* Rank 0 receives the parts of the other ranks after its own (sizes lens[]) into all, in
 * messages of at most CHUNK bytes. */
static void transfer(const void *buf, size_t len, char *all, const size_t *lens)
{
	size_t at, off, n;
	MPI_Request req;
	int r;

	if (rank_ != 0) {
		for (off = 0; off < len; off += n) {
			n = len - off < CHUNK ? len - off : CHUNK;
			MPI_Isend((const char *)buf + off, (int)n, MPI_BYTE, 0, 0, MPI_COMM_WORLD,
				  &req);
			wait_idle(&req);
		}
		return;
	}
	for (r = 1, at = lens[0]; r < size_; at += lens[r], r++)
		for (off = 0; off < lens[r]; off += n) {
			n = lens[r] - off < CHUNK ? lens[r] - off : CHUNK;
			MPI_Irecv(all + at + off, (int)n, MPI_BYTE, r, 0, MPI_COMM_WORLD, &req);
			wait_idle(&req);
		}
}
#endif

int ee_dist_gather(const void *buf, size_t len, void **all, size_t *lens, struct ee_err *err)
{
	size_t total = 0;
	int rc = EE_OK;

	*all = NULL;
#ifdef EE_MPI
	if (size_ > 1) {
		uint64_t mine = len, *each = rank_ == 0 ? calloc((size_t)size_, sizeof(*each))
							 : NULL;
		MPI_Request req;
		int r;

		if (rank_ == 0 && !each)
			rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
		if ((rc = ee_dist_agree(rc, err)) < 0)
			return rc;
		MPI_Igather(&mine, 1, MPI_UINT64_T, each, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
		wait_idle(&req);
		for (r = 0; rank_ == 0 && r < size_; r++) {
			lens[r] = (size_t)each[r];
			total += lens[r];
		}
		free(each);
	} else
#endif
	{
		lens[0] = len;
		total = len;
	}
	if (rank_ == 0 && !(*all = malloc(total ? total : 1)))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory (%zu bytes gathered)", total);
	if ((rc = ee_dist_agree(rc, err)) < 0)
		return rc;
	if (rank_ == 0 && len)
		memcpy(*all, buf, len);
#ifdef EE_MPI
	if (size_ > 1)
		transfer(buf, len, *all, lens);
#endif
	return EE_OK;
}

void ee_dist_shard(int n, int batch, int rank, int size, int *first, int *count)
{
	long nb = batch > 0 ? ((long)n + batch - 1) / batch : 0, q = nb / size, rem = nb % size;
	long b0 = rank * q + (rank < rem ? rank : rem), b1 = b0 + q + (rank < rem);
	long s0 = b0 * batch, s1 = b1 * batch;

	if (s0 > n)
		s0 = n;
	if (s1 > n)
		s1 = n;
	*first = (int)s0;
	*count = (int)(s1 - s0);
}
