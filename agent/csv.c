/* csv.c - RFC 4180 records (see csv.h). */
#include "config.h"

#include "csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

void fp_csv_rec_free(struct fp_csv_rec *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

int fp_csv_col(const struct fp_csv_rec *hdr, const char *name)
{
	int i;

	for (i = 0; i < hdr->n; i++)
		if (!strcasecmp(hdr->f[i], name))
			return i;
	return -1;
}

static void skip_line(const char *s, size_t len, size_t *pos, int *line)
{
	while (*pos < len && s[*pos] != '\n')
		(*pos)++;
	if (*pos < len) {
		(*pos)++;
		(*line)++;
	}
}

int fp_csv_next(const char *s, size_t len, size_t *pos, int *line, struct fp_csv_rec *r,
		const char **why)
{
	struct fp_buf b;
	bool quoted = false, was_quoted = false;
	int qline = 0, fault = 0; /* the lines of the open quote and of a fault */
	size_t i;

	fp_csv_rec_free(r);
	/* Skip blank lines and comments between records. */
	while (*pos < len) {
		size_t k = *pos;
		while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
			k++;
		if (k < len && s[k] != '\n' && s[k] != '#')
			break;
		if (k >= len) {
			*pos = len;
			return 0;
		}
		skip_line(s, len, pos, line);
	}
	if (*pos >= len)
		return 0;
	r->line = *line;
	fp_buf_init(&b, FP_CSV_MAX_FIELD);
	for (i = *pos;; i++) {
		char c = i < len ? s[i] : '\n';
		bool end = i >= len;

		if (quoted) {
			if (end) {
				*why = "a quoted field is not closed";
				fault = qline;
				goto fail;
			}
			if (c == '"') {
				if (i + 1 < len && s[i + 1] == '"') {
					i++;
				} else {
					quoted = false;
					continue;
				}
			} else if (c == '\n') {
				(*line)++;
			} else if (c == '\0') {
				*why = "a NUL byte";
				goto fail;
			}
			if (fp_buf_addc(&b, c) < 0) {
				*why = "a field longer than 4096 bytes";
				goto fail;
			}
			continue;
		}
		if (c == '"' && !was_quoted) {
			/* Only at the start of a field (blanks aside). */
			size_t k;
			for (k = 0; k < b.len && (b.data[k] == ' ' || b.data[k] == '\t'); k++)
				;
			if (k != b.len) {
				*why = "a quote inside an unquoted field";
				goto fail;
			}
			fp_buf_clear(&b);
			quoted = was_quoted = true;
			qline = *line;
			continue;
		}
		if (c == ',' || c == '\n') {
			char *v;
			size_t n = b.len, a = 0;
			if (r->n >= FP_CSV_MAX_FIELDS) {
				*why = "more than 64 fields";
				goto fail;
			}
			v = b.len ? b.data : "";
			if (!was_quoted) {
				while (a < n && (v[a] == ' ' || v[a] == '\t'))
					a++;
				while (n > a &&
				       (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
					n--;
			}
			r->f[r->n] = fp_xmalloc(n - a + 1);
			memcpy(r->f[r->n], v + a, n - a);
			r->f[r->n][n - a] = '\0';
			r->n++;
			fp_buf_clear(&b);
			was_quoted = false;
			if (c == '\n') {
				*pos = end ? len : i + 1;
				if (!end)
					(*line)++;
				fp_buf_reset(&b);
				return 1;
			}
			continue;
		}
		if (was_quoted) {
			if (c == ' ' || c == '\t' || c == '\r')
				continue;
			*why = "text after a closing quote";
			goto fail;
		}
		if (c == '\0') {
			*why = "a NUL byte";
			goto fail;
		}
		if (fp_buf_addc(&b, c) < 0) {
			*why = "a field longer than 4096 bytes";
			goto fail;
		}
	}
fail:
	fp_buf_reset(&b);
	fp_csv_rec_free(r);
	r->line = fault ? fault : *line;
	*pos = i < len ? i : len;
	skip_line(s, len, pos, line);
	return -1;
}

/* The whole file at path into *text (caller frees) and *len; 0 or -errno. */
static int read_all(const char *path, size_t max, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct fp_buf b;
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (!f)
		return -errno;
	fp_buf_init(&b, max);
	errno = 0;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fp_buf_add(&b, chunk, n) < 0)
			rc = -EFBIG;
	if (!rc && ferror(f)) /* EISDIR for a directory */
		rc = errno ? -errno : -EIO;
	fclose(f);
	if (rc < 0) {
		fp_buf_reset(&b);
		return rc;
	}
	*text = fp_buf_steal(&b, len);
	return 0;
}

int fp_csv_load(const char *path, size_t max, fp_csv_row_fn row, void *arg)
{
	struct fp_csv_rec r = { 0 };
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0, pos = 0;
	int line = 1, got, rc;

	rc = read_all(path, max, &text, &len);
	if (rc < 0)
		return rc;
	while ((got = fp_csv_next(text, len, &pos, &line, &r, &why)) != 0) {
		rc = row(arg, &r, got < 0 ? why : NULL);
		if (rc < 0)
			break;
	}
	fp_csv_rec_free(&r);
	if (rc >= 0) /* the lines: line counts the newlines, from 1 */
		rc = len && text[len - 1] != '\n' ? line : line - 1;
	free(text);
	return rc;
}
