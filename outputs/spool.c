/* spool.c - a crash-safe, bounded, on-disk FIFO of line-protocol records. */
#include "config.h"

#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"

#define MAGIC 0x31535046u /* "FPS1" little-endian */

struct seg {
	uint64_t id, bytes, points;
};

struct fp_spool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *dir;
	uint64_t max_bytes, seg_max;
	enum fp_fsync policy;
	struct seg *segs;
	size_t nsegs, cap;
	int wfd; /* newest segment, append */
	int rfd; /* segment at the cursor */
	uint64_t rseg;
	struct fp_spool_pos cur;
	bool dirty_data, dirty_cursor, woken;
	struct fp_spool_stats st;
};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t rec_crc(const unsigned char *hdr, const void *data, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr + 4, 8);
	c = crc32(c, data, len);
	return (uint32_t)c;
}

void fp_spool_encode_header(unsigned char hdr[FP_SPOOL_HDR], const char *data, uint32_t len,
			    uint32_t npoints)
{
	put32(hdr, MAGIC);
	put32(hdr + 4, len);
	put32(hdr + 8, npoints);
	put32(hdr + 12, rec_crc(hdr, data, len));
}

size_t fp_spool_check_record(const unsigned char *buf, size_t n, uint32_t *npoints)
{
	uint32_t len;

	if (n < FP_SPOOL_HDR || get32(buf) != MAGIC)
		return 0;
	len = get32(buf + 4);
	if (len > FP_SPOOL_MAX_RECORD || n - FP_SPOOL_HDR < len)
		return 0;
	if (rec_crc(buf, buf + FP_SPOOL_HDR, len) != get32(buf + 12))
		return 0;
	if (npoints)
		*npoints = get32(buf + 8);
	return FP_SPOOL_HDR + (size_t)len;
}

static char *seg_path(struct fp_spool *s, uint64_t id)
{
	return fp_xasprintf("%s/seg-%020" PRIu64 ".log", s->dir, id);
}

static struct seg *find_seg(struct fp_spool *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->nsegs; i++)
		if (s->segs[i].id == id)
			return &s->segs[i];
	return NULL;
}

static void fsync_dir(struct fp_spool *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int write_cursor(struct fp_spool *s, bool do_fsync)
{
	char *tmp = fp_xasprintf("%s/cursor.tmp", s->dir),
	     *path = fp_xasprintf("%s/cursor", s->dir);
	char line[96];
	int fd, n, rc = 0;

	n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s->cur.seg,
		     s->cur.off, s->cur.points);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n || (do_fsync && fsync(fd) != 0))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0 && do_fsync)
		fsync_dir(s);
	if (rc == 0)
		s->dirty_cursor = !do_fsync;
	free(tmp);
	free(path);
	return rc;
}

/* Reads the whole file at path; NULL on error. */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	size_t off = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return NULL;
	}
	buf = fp_xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return buf;
}

/* Next valid record at or after from; n if none. */
static size_t resync(const unsigned char *buf, size_t from, size_t n)
{
	size_t i;

	for (i = from; i + FP_SPOOL_HDR <= n; i++)
		if (buf[i] == (MAGIC & 0xff) && fp_spool_check_record(buf + i, n - i, NULL))
			return i;
	return n;
}

/* Scans a segment: counts its points, skips damage, and (for the newest)
 * cuts a torn tail.  Returns 0 or -errno. */
static int recover_seg(struct fp_spool *s, struct seg *g, bool newest)
{
	char *path = seg_path(s, g->id);
	size_t n = 0, off = 0, valid_end = 0;
	unsigned char *buf = slurp(path, &n);

	if (!buf) {
		int e = errno;
		free(path);
		return -e;
	}
	g->points = 0;
	while (off < n) {
		uint32_t np;
		size_t rl = fp_spool_check_record(buf + off, n - off, &np);
		if (rl) {
			g->points += np;
			off += rl;
			valid_end = off;
			continue;
		}
		{
			size_t next = resync(buf, off + 1, n);
			s->st.corrupt_bytes += next - off;
			fp_log(LOG_WARNING,
			       "spool[%s]: %s: %zu damaged bytes at offset %zu skipped", s->dir,
			       path, next - off, off);
			off = next;
		}
	}
	if (newest && valid_end < n) {
		if (truncate(path, (off_t)valid_end) != 0)
			fp_log(LOG_WARNING, "spool[%s]: cannot cut the torn tail of %s: %s", s->dir,
			       path, strerror(errno));
		else
			n = valid_end;
	}
	g->bytes = n;
	free(buf);
	free(path);
	return 0;
}

/* Deletes the oldest segment file and forgets it. */
static void drop_oldest(struct fp_spool *s)
{
	char *p = seg_path(s, s->segs[0].id);

	if (s->rfd >= 0 && s->rseg == s->segs[0].id) {
		close(s->rfd);
		s->rfd = -1;
	}
	unlink(p);
	free(p);
	memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
	s->nsegs--;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t total_bytes(struct fp_spool *s)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < s->nsegs; i++)
		t += s->segs[i].bytes;
	return t;
}

static uint64_t pending_points(struct fp_spool *s)
{
	uint64_t p = 0;
	size_t i;

	for (i = 0; i < s->nsegs; i++) {
		if (s->segs[i].id < s->cur.seg)
			continue;
		p += s->segs[i].points;
		if (s->segs[i].id == s->cur.seg)
			p -= s->cur.points <= s->segs[i].points ? s->cur.points : s->segs[i].points;
	}
	return p;
}

struct fp_spool *fp_spool_open(const char *dir, uint64_t max_bytes, enum fp_fsync policy, int *err)
{
	struct fp_spool *s;
	DIR *d;
	struct dirent *de;
	char *cpath;
	FILE *cf;
	size_t i;
	int rc;

	rc = fp_mkdirs(dir, 0700);
	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	d = opendir(dir);
	if (!d) {
		*err = -errno;
		return NULL;
	}
	s = fp_xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	fp_cond_init_mono(&s->cond);
	s->dir = fp_xstrdup(dir);
	s->max_bytes = max_bytes;
	s->seg_max = max_bytes / 8;
	if (s->seg_max > (16u << 20))
		s->seg_max = 16u << 20;
	if (s->seg_max < (64u << 10))
		s->seg_max = 64u << 10;
	s->policy = policy;
	s->wfd = s->rfd = -1;
	while ((de = readdir(d)) != NULL) {
		uint64_t id;
		char tail[8];
		if (sscanf(de->d_name, "seg-%20" SCNu64 "%7s", &id, tail) == 2 &&
		    strcmp(tail, ".log") == 0) {
			fp_xgrow((void **)&s->segs, &s->cap, s->nsegs + 1, sizeof(*s->segs));
			s->segs[s->nsegs].id = id;
			s->segs[s->nsegs].bytes = s->segs[s->nsegs].points = 0;
			s->nsegs++;
		}
	}
	closedir(d);
	if (s->nsegs > 1) /* qsort wants a valid pointer even for nothing */
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	for (i = 0; i < s->nsegs; i++) {
		rc = recover_seg(s, &s->segs[i], i + 1 == s->nsegs);
		if (rc < 0) {
			*err = rc;
			fp_spool_close(s);
			return NULL;
		}
	}

	/* The cursor: where delivery resumes. */
	s->cur.seg = s->nsegs ? s->segs[0].id : 1;
	cpath = fp_xasprintf("%s/cursor", dir);
	cf = fopen(cpath, "r");
	if (cf) {
		struct fp_spool_pos p;
		if (fscanf(cf, "%" SCNu64 " %" SCNu64 " %" SCNu64, &p.seg, &p.off, &p.points) ==
		    3) {
			struct seg *g = find_seg(s, p.seg);
			if (g && p.off <= g->bytes && p.points <= g->points)
				s->cur = p;
			else if (!g && s->nsegs && p.seg > s->segs[s->nsegs - 1].id)
				s->cur.seg = p.seg; /* all delivered; next appends go there */
			else if (!g) {
				for (i = 0; i < s->nsegs && s->segs[i].id < p.seg; i++)
					;
				if (i < s->nsegs)
					s->cur.seg = s->segs[i].id;
			}
		}
		fclose(cf);
	}
	free(cpath);
	/* Segments wholly before the cursor were delivered. */
	while (s->nsegs && s->segs[0].id < s->cur.seg)
		drop_oldest(s);
	s->st.pending_points = pending_points(s);
	s->st.bytes = total_bytes(s);
	if (s->st.pending_points)
		fp_log(LOG_NOTICE, "spool[%s]: %" PRIu64 " points in %" PRIu64 " bytes to replay",
		       dir, s->st.pending_points, s->st.bytes);
	*err = 0;
	return s;
}

void fp_spool_close(struct fp_spool *s)
{
	if (!s)
		return;
	if (s->policy != FP_FSYNC_NEVER)
		fp_spool_sync(s);
	else if (s->dirty_cursor)
		write_cursor(s, false);
	if (s->wfd >= 0)
		close(s->wfd);
	if (s->rfd >= 0)
		close(s->rfd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->segs);
	free(s->dir);
	free(s);
}

static int open_newest(struct fp_spool *s)
{
	char *p;

	if (s->wfd >= 0 || !s->nsegs)
		return 0;
	p = seg_path(s, s->segs[s->nsegs - 1].id);
	s->wfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(p);
	return s->wfd < 0 ? -errno : 0;
}

static int rotate(struct fp_spool *s)
{
	uint64_t id = s->nsegs ? s->segs[s->nsegs - 1].id + 1 : s->cur.seg;
	char *p;

	if (s->nsegs == 0 && id == 0)
		id = 1;
	if (s->wfd >= 0) {
		if (s->policy != FP_FSYNC_NEVER && s->dirty_data)
			fdatasync(s->wfd);
		close(s->wfd);
		s->wfd = -1;
	}
	s->dirty_data = false;
	p = seg_path(s, id);
	s->wfd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	free(p);
	if (s->wfd < 0)
		return -errno;
	if (s->policy == FP_FSYNC_ALWAYS)
		fsync_dir(s);
	fp_xgrow((void **)&s->segs, &s->cap, s->nsegs + 1, sizeof(*s->segs));
	s->segs[s->nsegs].id = id;
	s->segs[s->nsegs].bytes = s->segs[s->nsegs].points = 0;
	s->nsegs++;
	return 0;
}

static void evict_oldest(struct fp_spool *s)
{
	struct seg g = s->segs[0];
	uint64_t lost = 0;

	if (g.id > s->cur.seg)
		lost = g.points;
	else if (g.id == s->cur.seg)
		lost = g.points - (s->cur.points <= g.points ? s->cur.points : g.points);
	drop_oldest(s);
	if (s->cur.seg <= g.id) {
		s->cur.seg = s->nsegs ? s->segs[0].id : g.id + 1;
		s->cur.off = s->cur.points = 0;
		write_cursor(s, s->policy == FP_FSYNC_ALWAYS);
	}
	s->st.evicted_points += lost;
	if (lost)
		fp_log(LOG_WARNING,
		       "spool[%s]: full (%" PRIu64 " bytes): evicted the oldest %" PRIu64
		       " undelivered points (%" PRIu64 " evicted in all)",
		       s->dir, s->max_bytes, lost, s->st.evicted_points);
}

int fp_spool_append(struct fp_spool *s, const char *data, size_t len, uint32_t npoints)
{
	unsigned char hdr[FP_SPOOL_HDR];
	uint64_t rec = FP_SPOOL_HDR + (uint64_t)len;
	struct iovec iov[2];
	struct seg *g;
	ssize_t n;
	int rc = 0;

	if (len > FP_SPOOL_MAX_RECORD || rec > s->max_bytes)
		return -EFBIG;
	pthread_mutex_lock(&s->lock);
	if (!s->nsegs ||
	    (s->segs[s->nsegs - 1].bytes > 0 && s->segs[s->nsegs - 1].bytes + rec > s->seg_max))
		rc = rotate(s);
	else
		rc = open_newest(s);
	if (rc < 0)
		goto out;
	while (total_bytes(s) + rec > s->max_bytes) {
		if (s->nsegs == 1) {
			rc = rotate(s);
			if (rc < 0)
				goto out;
		}
		evict_oldest(s);
	}
	fp_spool_encode_header(hdr, data, (uint32_t)len, npoints);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	g = &s->segs[s->nsegs - 1];
	n = writev(s->wfd, iov, 2);
	if (n != (ssize_t)rec) {
		rc = n < 0 ? -errno : -ENOSPC;
		/* Cut a partial record so the segment stays whole. */
		if (ftruncate(s->wfd, (off_t)g->bytes) != 0)
			fp_log(LOG_ERR, "spool[%s]: cannot cut a partial record: %s", s->dir,
			       strerror(errno));
		goto out;
	}
	if (s->policy == FP_FSYNC_ALWAYS && fdatasync(s->wfd) != 0) {
		rc = -errno;
		goto out;
	}
	g->bytes += rec;
	g->points += npoints;
	s->dirty_data = s->policy != FP_FSYNC_ALWAYS;
	s->st.appended_points += npoints;
	pthread_cond_broadcast(&s->cond);
out:
	if (rc < 0)
		s->st.append_errors++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int open_reader(struct fp_spool *s, uint64_t id)
{
	char *p;

	if (s->rfd >= 0 && s->rseg == id)
		return 0;
	if (s->rfd >= 0)
		close(s->rfd);
	p = seg_path(s, id);
	s->rfd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	s->rseg = id;
	return s->rfd < 0 ? -errno : 0;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		got += (size_t)r;
	}
	return 0;
}

int fp_spool_peek(struct fp_spool *s, size_t max_points, size_t max_bytes, struct fp_buf *out,
		  size_t *npoints, struct fp_spool_pos *end)
{
	return fp_spool_peek_from(s, NULL, max_points, max_bytes, out, npoints, end);
}

int fp_spool_peek_from(struct fp_spool *s, const struct fp_spool_pos *from, size_t max_points,
		       size_t max_bytes, struct fp_buf *out, size_t *npoints,
		       struct fp_spool_pos *end)
{
	struct fp_spool_pos pos;
	size_t pts = 0;
	int recs = 0, rc = 0;

	pthread_mutex_lock(&s->lock);
	pos = from ? *from : s->cur;
	for (;;) {
		struct seg *g = find_seg(s, pos.seg);
		unsigned char hdr[FP_SPOOL_HDR];
		uint32_t len, np;
		unsigned char *rec;
		size_t i;

		if (!g) {
			/* Cursor before the first segment (all evicted) or past the end. */
			if (s->nsegs && pos.seg < s->segs[0].id) {
				pos.seg = s->segs[0].id;
				pos.off = pos.points = 0;
				continue;
			}
			break;
		}
		if (pos.off >= g->bytes) {
			for (i = 0; i < s->nsegs && s->segs[i].id <= pos.seg; i++)
				;
			if (i == s->nsegs)
				break;
			pos.seg = s->segs[i].id;
			pos.off = pos.points = 0;
			continue;
		}
		rc = open_reader(s, pos.seg);
		if (rc < 0)
			break;
		rc = pread_all(s->rfd, hdr, sizeof(hdr), pos.off);
		len = rc == 0 ? get32(hdr + 4) : 0;
		if (rc < 0 || get32(hdr) != MAGIC || len > FP_SPOOL_MAX_RECORD ||
		    pos.off + FP_SPOOL_HDR + len > g->bytes) {
			rec = NULL;
		} else {
			rec = fp_xmalloc(FP_SPOOL_HDR + (size_t)len);
			memcpy(rec, hdr, sizeof(hdr));
			if (pread_all(s->rfd, rec + FP_SPOOL_HDR, len, pos.off + FP_SPOOL_HDR) <
				    0 ||
			    !fp_spool_check_record(rec, FP_SPOOL_HDR + (size_t)len, &np)) {
				free(rec);
				rec = NULL;
			}
		}
		rc = 0;
		if (!rec) {
			/* Damage: skip to the next valid record of this segment. */
			size_t n = (size_t)(g->bytes - pos.off);
			unsigned char *buf = fp_xmalloc(n);
			size_t next = n;
			if (pread_all(s->rfd, buf, n, pos.off) == 0)
				next = resync(buf, 1, n);
			free(buf);
			s->st.corrupt_bytes += next;
			fp_log(LOG_WARNING,
			       "spool[%s]: segment %" PRIu64 ": %zu damaged bytes at "
			       "offset %" PRIu64 " skipped",
			       s->dir, pos.seg, next, pos.off);
			pos.off += next;
			continue;
		}
		if (recs > 0 && (pts + np > max_points || out->len + len > max_bytes)) {
			free(rec);
			break;
		}
		rc = fp_buf_add(out, rec + FP_SPOOL_HDR, len);
		free(rec);
		if (rc < 0)
			break;
		pts += np;
		pos.off += FP_SPOOL_HDR + (uint64_t)len;
		pos.points += np;
		recs++;
	}
	pthread_mutex_unlock(&s->lock);
	*npoints = pts;
	*end = pos;
	return rc < 0 && recs == 0 ? rc : recs;
}

int fp_spool_commit(struct fp_spool *s, const struct fp_spool_pos *end)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	s->cur = *end;
	/* Delivered segments go, but never the one being appended to. */
	while (s->nsegs > 1 && s->segs[0].id < s->cur.seg)
		drop_oldest(s);
	/* Everything delivered and the newest segment is big: start afresh
	 * so the disk space comes back. */
	if (s->nsegs == 1 && s->cur.seg == s->segs[0].id && s->cur.off >= s->segs[0].bytes &&
	    s->segs[0].bytes >= s->seg_max / 2) {
		if (rotate(s) == 0) {
			drop_oldest(s);
			s->cur.seg = s->segs[0].id;
			s->cur.off = s->cur.points = 0;
		}
	}
	rc = write_cursor(s, s->policy == FP_FSYNC_ALWAYS);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

uint64_t fp_spool_wait(struct fp_spool *s, int64_t timeout_ms)
{
	struct timespec dl;
	uint64_t p;

	fp_mono_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&s->lock);
	while ((p = pending_points(s)) == 0 && !s->woken)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
			break;
	s->woken = false;
	pthread_mutex_unlock(&s->lock);
	return p;
}

void fp_spool_wake(struct fp_spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->woken = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void fp_spool_sync(struct fp_spool *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->dirty_data && s->wfd >= 0 && fdatasync(s->wfd) == 0)
		s->dirty_data = false;
	if (s->dirty_cursor)
		write_cursor(s, true);
	pthread_mutex_unlock(&s->lock);
}

void fp_spool_stats(struct fp_spool *s, struct fp_spool_stats *st)
{
	pthread_mutex_lock(&s->lock);
	s->st.bytes = total_bytes(s);
	s->st.pending_points = pending_points(s);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}
