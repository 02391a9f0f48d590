/* spool.c - a crash-safe, bounded, on-disk FIFO of line-protocol records. */
#include "config.h"

#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
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
	uint64_t next_id; /* above every segment file seen, set aside or not */
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
	/* A fresh file, never through a link planted there. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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

#define SCAN_BUF (64u << 10)

/* A bounded reader over one segment (recovery, and the skipping of damage
 * by peek): a window of SCAN_BUF bytes of the file and a buffer to check a
 * record's CRC in pieces, so memory does not grow with the file.  budget
 * bounds the bytes CRC-checked for candidate records that turn out false:
 * a hostile file with a plausible header every few bytes would otherwise
 * cost time quadratic in its size.  When it runs out (never for real
 * damage: a false header needs the magic and a length that fits), the rest
 * of the segment counts as damage. */
struct scan {
	int fd;
	uint64_t size;
	unsigned char *win, *tmp;
	uint64_t wpos;
	size_t wlen;
	uint64_t budget;
	bool exhausted;
	int err; /* a read error, -errno */
};

static void scan_init(struct scan *sc, int fd, uint64_t size, uint64_t budget)
{
	memset(sc, 0, sizeof(*sc));
	sc->fd = fd;
	sc->size = size;
	sc->win = fp_xmalloc(SCAN_BUF);
	sc->tmp = fp_xmalloc(SCAN_BUF);
	sc->budget = budget;
}

static void scan_free(struct scan *sc)
{
	free(sc->win);
	free(sc->tmp);
}

/* The window from pos; false on a read error. */
static bool scan_fill(struct scan *sc, uint64_t pos)
{
	uint64_t left = sc->size - pos;
	int rc;

	sc->wpos = pos;
	sc->wlen = left < SCAN_BUF ? (size_t)left : SCAN_BUF;
	rc = pread_all(sc->fd, sc->win, sc->wlen, pos);
	if (rc < 0) {
		sc->err = rc;
		sc->wlen = 0;
		return false;
	}
	return true;
}

/* n bytes at pos (within the file) into dst, from the window if there. */
static bool scan_read(struct scan *sc, uint64_t pos, void *dst, size_t n)
{
	int rc;

	if (pos >= sc->wpos && pos + n <= sc->wpos + sc->wlen) {
		memcpy(dst, sc->win + (pos - sc->wpos), n);
		return true;
	}
	rc = pread_all(sc->fd, dst, n, pos);
	if (rc < 0)
		sc->err = rc;
	return rc == 0;
}

/* The record at off: its size (header included), or 0 when there is none
 * (or on a read error, in sc->err).  Linear in the record's length. */
static uint64_t scan_record(struct scan *sc, uint64_t off, uint32_t *npoints)
{
	unsigned char hdr[FP_SPOOL_HDR];
	uint64_t done = 0;
	uint32_t len;
	uLong c;

	if (sc->exhausted || off + FP_SPOOL_HDR > sc->size ||
	    !scan_read(sc, off, hdr, sizeof(hdr)) || get32(hdr) != MAGIC)
		return 0;
	len = get32(hdr + 4);
	if (len > FP_SPOOL_MAX_RECORD || len > sc->size - off - FP_SPOOL_HDR)
		return 0;
	c = crc32(crc32(0L, Z_NULL, 0), hdr + 4, 8);
	while (done < len) {
		uint64_t at = off + FP_SPOOL_HDR + done;
		size_t n = len - done < SCAN_BUF ? (size_t)(len - done) : SCAN_BUF;
		if (at >= sc->wpos && at < sc->wpos + sc->wlen) {
			size_t inwin = (size_t)(sc->wpos + sc->wlen - at);
			n = n < inwin ? n : inwin;
			c = crc32(c, sc->win + (at - sc->wpos), (uInt)n);
		} else {
			if (!scan_read(sc, at, sc->tmp, n))
				return 0;
			c = crc32(c, sc->tmp, (uInt)n);
		}
		done += n;
	}
	if ((uint32_t)c != get32(hdr + 12)) {
		if (sc->budget < len)
			sc->exhausted = true;
		else
			sc->budget -= len;
		return 0;
	}
	if (npoints)
		*npoints = get32(hdr + 8);
	return FP_SPOOL_HDR + (uint64_t)len;
}

/* The first valid record at or after from; sc->size if none. */
static uint64_t scan_next(struct scan *sc, uint64_t from)
{
	uint64_t pos = from;

	while (pos + FP_SPOOL_HDR <= sc->size && !sc->exhausted && !sc->err) {
		const unsigned char *hit;
		if ((pos < sc->wpos || pos >= sc->wpos + sc->wlen) && !scan_fill(sc, pos))
			break;
		hit = memchr(sc->win + (pos - sc->wpos), MAGIC & 0xff,
			     sc->wlen - (size_t)(pos - sc->wpos));
		if (!hit) {
			pos = sc->wpos + sc->wlen;
			continue;
		}
		pos = sc->wpos + (uint64_t)(hit - sc->win);
		if (scan_record(sc, pos, NULL))
			return pos;
		pos++;
	}
	return sc->size;
}

/* The segment file of id, opened for reading without following a link
 * (a link or any other non-regular file is refused: -ELOOP, -EINVAL). */
static int open_seg(struct fp_spool *s, uint64_t id, struct stat *sb)
{
	char *path = seg_path(s, id);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), e;

	e = errno;
	free(path);
	if (fd < 0)
		return -e;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
		e = S_ISREG(sb->st_mode) ? errno : EINVAL;
		close(fd);
		return -e;
	}
	return fd;
}

/* Cuts the newest segment back to len bytes (its torn tail), through a
 * descriptor of the same file, never through a link. */
static void cut_tail(struct fp_spool *s, uint64_t id, const struct stat *was, uint64_t len)
{
	char *path = seg_path(s, id);
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_ino != was->st_ino || sb.st_dev != was->st_dev ||
	    ftruncate(fd, (off_t)len) != 0)
		fp_log(LOG_WARNING, "spool[%s]: cannot cut the torn tail of %s: %s", s->dir, path,
		       fd < 0 ? strerror(errno) : "it changed or cannot be truncated");
	if (fd >= 0)
		close(fd);
	free(path);
}

/* Scans a segment (fd, sb): counts its points, skips damage, and (for the
 * newest) cuts a torn tail.  When want is given, *on_boundary tells whether
 * want->off is a record boundary with want->points before it.  0, or -errno
 * on a read error. */
static int recover_seg(struct fp_spool *s, struct seg *g, int fd, const struct stat *sb,
		       bool newest, const struct fp_spool_pos *want, bool *on_boundary)
{
	uint64_t n = (uint64_t)sb->st_size, off = 0, valid_end = 0, damaged = 0;
	unsigned regions = 0;
	struct scan sc;
	int rc;

	scan_init(&sc, fd, n, 2 * n + (1u << 20));
	g->points = 0;
	while (off < n) {
		uint32_t np;
		uint64_t rl, next;
		if (want && off == want->off)
			*on_boundary = g->points == want->points;
		rl = scan_record(&sc, off, &np);
		if (rl) {
			g->points += np;
			off += rl;
			valid_end = off;
			continue;
		}
		if (sc.err)
			break;
		next = scan_next(&sc, off + 1);
		if (sc.err)
			break;
		if (sc.exhausted)
			fp_log(LOG_WARNING,
			       "spool[%s]: segment %" PRIu64 ": too many false record headers; "
			       "its last %" PRIu64 " bytes are skipped",
			       s->dir, g->id, n - off);
		else if (++regions <= 3)
			fp_log(LOG_WARNING,
			       "spool[%s]: segment %" PRIu64 ": %" PRIu64
			       " damaged bytes at offset %" PRIu64 " skipped",
			       s->dir, g->id, next - off, off);
		damaged += next - off;
		off = next;
	}
	rc = sc.err;
	scan_free(&sc);
	if (rc < 0)
		return rc;
	if (want && off == want->off)
		*on_boundary = g->points == want->points;
	s->st.corrupt_bytes += damaged;
	if (regions > 3)
		fp_log(LOG_WARNING,
		       "spool[%s]: segment %" PRIu64 ": %u damaged regions, %" PRIu64
		       " bytes in all, skipped",
		       s->dir, g->id, regions, damaged);
	if (newest && valid_end < n) {
		cut_tail(s, g->id, sb, valid_end);
		n = valid_end;
		if (want && want->off > n)
			*on_boundary = false;
	}
	g->bytes = n;
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

/* Decimal digits at *p into *v (no sign, no overflow); advances *p. */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	if (*q < '0' || *q > '9')
		return false;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (*v > (UINT64_MAX - (uint64_t)(*q - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*q - '0');
	}
	*p = q;
	return true;
}

/* The cursor file: 1 and *p when it holds "SEG OFF POINTS\n", 0 when there
 * is none, -1 when it cannot be read or parsed (what is wrong in why). */
static int read_cursor(struct fp_spool *s, struct fp_spool_pos *p, const char **why)
{
	char *path = fp_xasprintf("%s/cursor", s->dir), line[128];
	const char *q = line;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), e = errno;
	ssize_t n;

	free(path);
	if (fd < 0 && e == ENOENT)
		return 0;
	*why = "it cannot be read";
	if (fd < 0)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		return -1;
	line[n] = '\0';
	*why = "it does not hold three numbers";
	if (!parse_u64(&q, &p->seg) || *q++ != ' ' || !parse_u64(&q, &p->off) || *q++ != ' ' ||
	    !parse_u64(&q, &p->points) || (*q && strcmp(q, "\n") != 0))
		return -1;
	return 1;
}

/* Renames a segment file that cannot be used (unreadable, not a regular
 * file) to seg-<id>.log.bad (or .bad.N when that exists), so that it is
 * kept for a look but never read or written again; counted and logged. */
static void set_aside(struct fp_spool *s, uint64_t id, int err)
{
	char *path = seg_path(s, id), *bad = NULL;
	struct stat sb;
	int i;

	for (i = 1; i < 100; i++) {
		free(bad);
		bad = i == 1 ? fp_xasprintf("%s.bad", path) : fp_xasprintf("%s.bad.%d", path, i);
		if (lstat(bad, &sb) != 0 && errno == ENOENT)
			break;
	}
	s->st.segments_set_aside++;
	if (rename(path, bad) == 0)
		fp_log(LOG_ERR,
		       "spool[%s]: %s cannot be used (%s): set aside as %s; the rest of the spool "
		       "goes on",
		       s->dir, path, err == -EINVAL ? "not a regular file" : strerror(-err), bad);
	else
		fp_log(LOG_ERR,
		       "spool[%s]: %s cannot be used (%s) nor renamed (%s): skipped; the rest of "
		       "the spool goes on",
		       s->dir, path, err == -EINVAL ? "not a regular file" : strerror(-err),
		       strerror(errno));
	free(bad);
	free(path);
}

/* The segment files of the spool's folder, sorted; 0 or -errno. */
static int list_segments(struct fp_spool *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t id;
		char tail[8];
		if (sscanf(de->d_name, "seg-%20" SCNu64 "%7s", &id, tail) == 2 &&
		    strcmp(tail, ".log") == 0) {
			fp_xgrow((void **)&s->segs, &s->cap, s->nsegs + 1, sizeof(*s->segs));
			s->segs[s->nsegs].id = id;
			s->segs[s->nsegs].bytes = s->segs[s->nsegs].points = 0;
			s->nsegs++;
			if (id >= s->next_id)
				s->next_id = id + 1;
		}
	}
	closedir(d);
	if (s->nsegs > 1) /* qsort wants a valid pointer even for nothing */
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	return 0;
}

/* Recovers every segment; one that cannot be opened or read is set aside
 * and forgotten.  want: the cursor (NULL: none), *on_boundary whether it
 * is a record boundary of its segment. */
static void recover_all(struct fp_spool *s, const struct fp_spool_pos *want, bool *on_boundary)
{
	size_t i, kept = 0;

	for (i = 0; i < s->nsegs; i++) {
		struct seg *g = &s->segs[i];
		struct stat sb;
		int fd = open_seg(s, g->id, &sb), rc = fd;
		if (fd >= 0) {
			rc = recover_seg(s, g, fd, &sb, i + 1 == s->nsegs,
					 want && want->seg == g->id ? want : NULL, on_boundary);
			close(fd);
		}
		if (rc < 0) {
			set_aside(s, g->id, rc);
			continue;
		}
		s->segs[kept++] = *g;
	}
	s->nsegs = kept;
}

/* A cursor that cannot be trusted: delivery starts again at the oldest
 * record (what was delivered is sent again, and InfluxDB keeps a re-sent
 * point once), never past anything undelivered. */
static void reset_cursor(struct fp_spool *s, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->st.cursor_resets++;
	fp_log(LOG_WARNING,
	       "spool[%s]: the cursor cannot be trusted (%s): replaying from the oldest record "
	       "(points delivered before are sent again)",
	       s->dir, why);
}

/* Where delivery resumes: the cursor p (state as read_cursor's) when it
 * names a record boundary of a segment, the oldest record otherwise. */
static void place_cursor(struct fp_spool *s, int state, const struct fp_spool_pos *p,
			 bool on_boundary, const char *why)
{
	uint64_t newest = s->nsegs ? s->segs[s->nsegs - 1].id : 0;
	struct seg *g;
	size_t i;

	s->cur.seg = s->nsegs ? s->segs[0].id : (s->next_id ? s->next_id : 1);
	s->cur.off = s->cur.points = 0;
	if (state < 0 && s->nsegs) {
		reset_cursor(s, "%s", why);
	} else if (state <= 0 || !s->nsegs) {
		return; /* nothing to trust or nothing to replay */
	} else if (p->seg > newest) {
		reset_cursor(s, "it names segment %" PRIu64 ", past the newest, %" PRIu64, p->seg,
			     newest);
	} else if ((g = find_seg(s, p->seg)) != NULL) {
		if (on_boundary)
			s->cur = *p;
		else
			reset_cursor(s,
				     "offset %" PRIu64 " with %" PRIu64
				     " points is not a record boundary of segment %" PRIu64
				     " (%" PRIu64 " bytes)",
				     p->off, p->points, p->seg, g->bytes);
	} else {
		/* Its segment is gone (evicted, set aside): the next one. */
		for (i = 0; i < s->nsegs && s->segs[i].id < p->seg; i++)
			;
		s->cur.seg = s->segs[i].id;
	}
}

struct fp_spool *fp_spool_open(const char *dir, uint64_t max_bytes, enum fp_fsync policy, int *err)
{
	struct fp_spool *s;
	struct fp_spool_pos p = { 0, 0, 0 };
	const char *why = "";
	bool on_boundary = false;
	int rc, state;

	rc = fp_mkdirs(dir, 0700);
	if (rc < 0) {
		*err = rc;
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
	rc = list_segments(s);
	if (rc < 0) {
		*err = rc;
		fp_spool_close(s);
		return NULL;
	}
	state = read_cursor(s, &p, &why);
	recover_all(s, state > 0 ? &p : NULL, &on_boundary);
	place_cursor(s, state, &p, on_boundary, why);
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
	s->wfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	free(p);
	return s->wfd < 0 ? -errno : 0;
}

static int rotate(struct fp_spool *s)
{
	uint64_t id = s->nsegs ? s->segs[s->nsegs - 1].id + 1 : s->cur.seg;
	char *p;

	if (id < s->next_id)
		id = s->next_id; /* never over a file set aside or skipped */
	if (id == 0)
		id = 1;
	if (s->wfd >= 0) {
		if (s->policy != FP_FSYNC_NEVER && s->dirty_data)
			fdatasync(s->wfd);
		close(s->wfd);
		s->wfd = -1;
	}
	s->dirty_data = false;
	p = seg_path(s, id);
	s->wfd = open(p,
		      O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		      0600);
	free(p);
	if (s->wfd < 0)
		return -errno;
	s->next_id = id + 1;
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
	s->rfd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(p);
	s->rseg = id;
	return s->rfd < 0 ? -errno : 0;
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
			/* Damage: skip to the next valid record of this
			 * segment, reading it in bounded pieces. */
			struct scan sc;
			uint64_t next;
			scan_init(&sc, s->rfd, g->bytes, 2 * (g->bytes - pos.off) + (1u << 20));
			next = scan_next(&sc, pos.off + 1);
			scan_free(&sc);
			s->st.corrupt_bytes += next - pos.off;
			fp_log(LOG_WARNING,
			       "spool[%s]: segment %" PRIu64 ": %" PRIu64 " damaged bytes at "
			       "offset %" PRIu64 " skipped",
			       s->dir, pos.seg, next - pos.off, pos.off);
			pos.off = next;
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
