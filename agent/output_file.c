/* output_file.c - the file output: line protocol appended to a file or
 * written to standard output ("-").  The embedded default output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "util.h"

struct file_priv {
	char *path;
	int fd;
	bool do_fsync;
};

static int file_open(struct fp_output *o)
{
	struct file_priv *p = o->priv;

	if (strcmp(p->path, "-") == 0) {
		p->fd = STDOUT_FILENO;
		return 0;
	}
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (p->fd < 0) {
		int e = errno;
		fp_log(LOG_ERR, "output[%s]: cannot open %s: %s", o->name, p->path, strerror(e));
		return -e;
	}
	return 0;
}

static int file_write(struct fp_output *o, const struct fp_chunk *c)
{
	struct file_priv *p = o->priv;
	size_t off = 0;

	if (p->fd < 0) {
		int rc = file_open(o);
		if (rc < 0)
			return rc;
	}
	while (off < c->len) {
		ssize_t n = write(p->fd, c->data + off, c->len - off);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			/* A short write leaves a partial line: cut the file back
			 * so the retry does not duplicate or tear lines. */
			if (off && p->fd != STDOUT_FILENO) {
				off_t end = lseek(p->fd, 0, SEEK_END);
				if (end >= (off_t)off && ftruncate(p->fd, end - (off_t)off) != 0)
					e = errno;
			}
			return -e;
		}
		off += (size_t)n;
	}
	if (p->do_fsync && p->fd != STDOUT_FILENO && fsync(p->fd) != 0)
		return -errno;
	return 0;
}

static void file_close(struct fp_output *o)
{
	struct file_priv *p = o->priv;

	if (p->fd >= 0 && p->fd != STDOUT_FILENO)
		close(p->fd);
	p->fd = -1;
}

static void file_destroy(struct fp_output *o)
{
	struct file_priv *p = o->priv;

	if (!p)
		return;
	free(p->path);
	free(p);
	o->priv = NULL;
}

static const struct fp_output_ops file_ops = {
	.type = "file",
	.open = file_open,
	.write = file_write,
	.close = file_close,
	.destroy = file_destroy,
};

struct fp_output *fp_output_file_new(const char *name, const char *path, bool do_fsync,
				     size_t queue_max)
{
	struct file_priv *p = fp_xcalloc(1, sizeof(*p));

	p->path = fp_xstrdup(path);
	p->fd = -1;
	p->do_fsync = do_fsync;
	return fp_output_new(&file_ops, name, p, queue_max);
}
