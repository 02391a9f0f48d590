/* report.c - the environmental report (see report.h). */
#include "config.h"

#include "report.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "util.h"

static int period(struct fp_ledger *l, struct fp_report_period *p, time_t from, time_t to)
{
	p->from = from;
	p->to = to;
	return fp_ledger_kpis(l, from, to, to, &p->s, &p->k);
}

/* ---- the basis: factors, certificates, boundaries, meters ---- */

struct basis_build {
	struct fp_report *r;
	size_t cap;
};

static void basis_cert(void *arg, const char *type, time_t from, time_t to, double kwh)
{
	struct basis_build *b = arg;
	struct fp_report_basis *x = &b->r->basis;
	struct fp_report_cert *c;

	if (to <= b->r->total.from || from >= b->r->total.to)
		return;
	fp_xgrow((void **)&x->certs, &b->cap, x->ncerts + 1, sizeof(*x->certs));
	c = &x->certs[x->ncerts++];
	snprintf(c->type, sizeof(c->type), "%s", type ? type : "");
	c->from = from;
	c->to = to;
	c->kwh = kwh;
}

static void basis_bound(void *arg, const char *qty, const char *meter, double coef)
{
	struct basis_build *b = arg;
	struct fp_report_basis *x = &b->r->basis;
	struct fp_report_bound *c;

	fp_xgrow((void **)&x->bounds, &b->cap, x->nbounds + 1, sizeof(*x->bounds));
	c = &x->bounds[x->nbounds++];
	snprintf(c->qty, sizeof(c->qty), "%s", qty ? qty : "");
	snprintf(c->meter, sizeof(c->meter), "%s", meter ? meter : "");
	c->coef = coef;
}

static void basis_meter(void *arg, const char *name, const char *role, const char *unit)
{
	struct basis_build *b = arg;
	struct fp_report_basis *x = &b->r->basis;
	struct fp_report_meter *c;

	fp_xgrow((void **)&x->meters, &b->cap, x->nmeters + 1, sizeof(*x->meters));
	c = &x->meters[x->nmeters++];
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	snprintf(c->role, sizeof(c->role), "%s", role ? role : "");
	snprintf(c->unit, sizeof(c->unit), "%s", unit ? unit : "");
}

/* The factors used for each calendar year of the period, both methods. */
static int basis_factors(struct fp_ledger *l, struct fp_report *r)
{
	static const char *const methods[] = { "location", "market" };
	struct fp_report_basis *x = &r->basis;
	time_t last = r->total.to - 1;
	struct tm a, b;
	size_t cap = 0, m;
	int y;

	if (!r->region[0])
		return 0;
	localtime_r(&r->total.from, &a);
	localtime_r(&last, &b);
	for (y = a.tm_year + 1900; y <= b.tm_year + 1900; y++)
		for (m = 0; m < 2; m++) {
			struct fp_ledger_factor f;
			int rc = fp_ledger_factor_used(l, r->region, methods[m], y, &f);
			if (rc < 0)
				return -1;
			if (rc == 0)
				continue;
			fp_xgrow((void **)&x->factors, &cap, x->nfactors + 1, sizeof(*x->factors));
			x->factors[x->nfactors].for_year = y;
			x->factors[x->nfactors++].f = f;
		}
	return 0;
}

static int basis_load(struct fp_ledger *l, struct fp_report *r)
{
	struct basis_build b = { r, 0 };

	if (basis_factors(l, r) < 0 || fp_ledger_certificates(l, basis_cert, &b) < 0)
		return -1;
	b.cap = 0;
	if (fp_ledger_boundaries(l, basis_bound, &b) < 0)
		return -1;
	b.cap = 0;
	if (fp_ledger_known_meters(l, basis_meter, &b) < 0)
		return -1;
	r->basis.loaded = true;
	return 0;
}

/* The factor of method used for year, or NULL. */
static const struct fp_ledger_factor *factor_for(const struct fp_report *r, int year,
						 const char *method)
{
	size_t i;

	for (i = 0; i < r->basis.nfactors; i++)
		if (r->basis.factors[i].for_year == year &&
		    !strcmp(r->basis.factors[i].f.method, method))
			return &r->basis.factors[i].f;
	return NULL;
}

/* The period [a, b) of the inclusive dates from and to, in the current
 * time zone, with its months (sums still empty): 0, or -1 with err. */
static int set_period(struct fp_report *r, const char *from, const char *to, char *err,
		      size_t errlen)
{
	time_t a, b, m, ms, me;
	size_t cap = 0;

	a = fp_parse_date(from);
	b = fp_parse_date(to);
	if (a < 0 || b < 0) {
		snprintf(err, errlen, "'%s' is not a date YYYY-MM-DD", a < 0 ? from : to);
		return -1;
	}
	if (b < a) {
		snprintf(err, errlen, "--to %s is before --from %s", to, from);
		return -1;
	}
	if (b - a > (time_t)100 * 366 * 86400) {
		snprintf(err, errlen, "--from %s --to %s: a report covers at most 100 years", from,
			 to);
		return -1;
	}
	fp_window_of(FP_WIN_DAY, b, &ms, &b); /* inclusive: to the end of that day */
	snprintf(r->from, sizeof(r->from), "%s", from);
	snprintf(r->to, sizeof(r->to), "%s", to);
	r->hours = (double)(b - a) / 3600;
	fp_window_of(FP_WIN_YEAR, a, &ms, &me);
	r->calendar_year = ms == a && me == b;
	snprintf(r->total.label, sizeof(r->total.label), "total");
	r->total.from = a;
	r->total.to = b;
	/* The months the period touches, clipped to it. */
	for (m = a; m < b; m = me) {
		struct fp_report_period *p;
		struct tm tm;
		fp_window_of(FP_WIN_MONTH, m, &ms, &me);
		fp_xgrow((void **)&r->months, &cap, r->nmonths + 1, sizeof(*r->months));
		p = &r->months[r->nmonths++];
		memset(p, 0, sizeof(*p));
		localtime_r(&ms, &tm);
		snprintf(p->label, sizeof(p->label), "%04d-%02d", (tm.tm_year + 1900) % 10000,
			 (tm.tm_mon + 1) % 100);
		p->from = m;
		p->to = me < b ? me : b;
	}
	return 0;
}

/* Sums that say nothing was measured. */
static void empty_period(struct fp_report_period *p)
{
	memset(&p->s, 0, sizeof(p->s));
	memset(&p->k, 0, sizeof(p->k));
	p->s.co2e_location_kg = p->s.co2e_market_kg = NAN;
}

int fp_report_build_empty(const char *site, const char *from, const char *to, struct fp_report *r,
			  char *err, size_t errlen)
{
	const char *tz = getenv("TZ");
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->site, sizeof(r->site), "%s", site);
	snprintf(r->timezone, sizeof(r->timezone), "%s", tz && *tz ? tz : "UTC");
	r->pue_category = 1;
	r->no_ledger = true;
	if (set_period(r, from, to, err, errlen) < 0) {
		fp_report_free(r);
		return -1;
	}
	empty_period(&r->total);
	for (i = 0; i < r->nmonths; i++)
		empty_period(&r->months[i]);
	return 0;
}

int fp_report_build(struct fp_ledger *l, const char *from, const char *to, struct fp_report *r,
		    char *err, size_t errlen)
{
	char buf[64];
	int64_t cat;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (fp_ledger_get_meta(l, "site", r->site, sizeof(r->site)) < 0) {
		snprintf(err, errlen, "the ledger has no site: the agent has not run with it yet");
		return -1;
	}
	if (fp_ledger_get_meta(l, "timezone", r->timezone, sizeof(r->timezone)) < 0)
		snprintf(r->timezone, sizeof(r->timezone), "UTC");
	fp_ledger_get_meta(l, "region", r->region, sizeof(r->region));
	/* written by the agent from its configuration: 1, 2 or 3 */
	r->pue_category = 1;
	if (fp_ledger_get_meta(l, "pue_category", buf, sizeof(buf)) == 0 &&
	    fp_parse_int64(buf, 1, 3, &cat) == 0)
		r->pue_category = (int)cat;
	setenv("TZ", r->timezone, 1);
	tzset();
	if (set_period(r, from, to, err, errlen) < 0) {
		fp_report_free(r);
		return -1;
	}
	if (period(l, &r->total, r->total.from, r->total.to) < 0)
		goto fail;
	if (fp_ledger_event_counts(l, r->total.from, r->total.to, &r->events) < 0)
		goto fail;
	for (i = 0; i < r->nmonths; i++)
		if (period(l, &r->months[i], r->months[i].from, r->months[i].to) < 0)
			goto fail;
	if (basis_load(l, r) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s", fp_ledger_error(l));
	fp_report_free(r);
	return -1;
}

void fp_report_free(struct fp_report *r)
{
	free(r->months);
	r->months = NULL;
	r->nmonths = 0;
	free(r->ew);
	r->ew = NULL;
	r->nrows = 0;
	free(r->ewm);
	r->ewm = NULL;
	r->newm = 0;
	free(r->basis.factors);
	free(r->basis.certs);
	free(r->basis.bounds);
	free(r->basis.meters);
	memset(&r->basis, 0, sizeof(r->basis));
}

struct ew_build {
	struct fp_report *r;
	struct fp_inventory *v;
	struct fp_categories *cats;
	size_t cap;
	int rc;
};

static void ew_add(struct ew_build *b, const char *cat)
{
	struct fp_report *r = b->r;
	struct fp_report_ew *x;
	const struct fp_category *c = cat ? fp_category_find(b->cats, cat) : NULL;
	time_t now = time(NULL), at = r->total.to < now ? r->total.to : now;
	struct tm tm;

	fp_xgrow((void **)&r->ew, &b->cap, r->nrows + 1, sizeof(*r->ew));
	x = &r->ew[r->nrows++];
	memset(x, 0, sizeof(*x));
	snprintf(x->category, sizeof(x->category), "%s", cat ? cat : "all");
	snprintf(x->desc, sizeof(x->desc), "%s", c ? c->desc : cat ? "" : "(total)");
	if (fp_inv_ewaste(b->v, b->cats, cat, r->total.from, r->total.to, at, &x->e) < 0) {
		b->rc = -1;
		return;
	}
	/* The cohort model for the calendar year the period ends in: the
	 * mass commissioned each year since 1990 through the category's
	 * Weibull (the UNU/EU mid-year pdf method). */
	{
		time_t last = r->total.to - 1;
		localtime_r(&last, &tm);
	}
	x->ewg_year = tm.tm_year + 1900;
	if (c) {
		double pom[300];
		int n = x->ewg_year - 1990 + 1;
		if (n > 0 && n <= 300 && fp_inv_pom(b->v, cat, 1990, n, pom) == 0)
			x->ewg_model_kg = fp_ewg_midyear(pom, 1990, n, x->ewg_year, c->shape,
							 c->scale);
	} else {
		size_t i;
		for (i = 0; i + 1 < r->nrows; i++)
			x->ewg_model_kg += r->ew[i].ewg_model_kg;
	}
}

static void ew_cat(void *arg, const char *cat)
{
	ew_add(arg, cat);
}

int fp_report_ewaste(struct fp_report *r, struct fp_inventory *v, char *err, size_t errlen)
{
	struct fp_categories cats;
	struct ew_build b = { r, v, &cats, 0, 0 };
	size_t i;

	if (fp_inv_get_categories(v, &cats) < 0 || fp_inv_categories(v, ew_cat, &b) < 0) {
		snprintf(err, errlen, "%s", fp_inv_error(v));
		fp_categories_free(&cats);
		return -1;
	}
	ew_add(&b, NULL);
	r->ewm = fp_xcalloc(r->nmonths + 1, sizeof(*r->ewm));
	for (i = 0; i < r->nmonths && b.rc == 0; i++) {
		struct fp_ewaste e;
		time_t now = time(NULL), at = r->months[i].to < now ? r->months[i].to : now;
		if (fp_inv_ewaste(v, &cats, NULL, r->months[i].from, r->months[i].to, at, &e) < 0) {
			b.rc = -1;
			break;
		}
		snprintf(r->ewm[i].label, sizeof(r->ewm[i].label), "%s", r->months[i].label);
		r->ewm[i].e = e;
		r->newm++;
	}
	fp_categories_free(&cats);
	if (b.rc < 0) {
		snprintf(err, errlen, "%s", fp_inv_error(v));
		return -1;
	}
	r->has_inventory = true;
	return 0;
}

/* ---- Markdown ---- */

static const char *fmt_num(char *buf, size_t n, double v, int prec)
{
	snprintf(buf, n, "%.*f", prec, v);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t n, const struct fp_ratio *r, int prec)
{
	if (!r->defined)
		return "n/a";
	return fmt_num(buf, n, r->value, prec);
}

/* A coverage: NAN in an organisation's figures, stated per site. */
static const char *fmt_pct(char *buf, size_t n, double v)
{
	if (isnan(v))
		return "per site";
	snprintf(buf, n, "%.1f %%", v * 100);
	return buf;
}

static const char *const qty_labels[FP_NQTY] = {
	"E_DC total facility energy (electricity + fuels)",
	"E_IT IT equipment energy",
	"Cooling",
	"Lighting",
	"Other",
	"Grid electricity (Scope 2 basis)",
	"On-site renewable generation consumed (E_RES-OS)",
	"E_REUSE energy reused (exported heat)",
	"Heat removed by cooling (Q_removed)",
	"Fuels (generators), as energy",
	"W_IN water input",
	"Telecom equipment energy",
	"Telecom site energy",
	"Data volume",
};

static const char *fmt_rate(char *buf, size_t n, double v)
{
	if (v < 0)
		return "n/a";
	return fmt_pct(buf, n, v);
}

/* ---- documents: the same sections in Markdown and in HTML ---- */

struct doc {
	FILE *o;
	bool html;
	int ncols; /* of the open table */
};

static void d_text(struct doc *d, const char *s)
{
	if (d->html) {
		fp_report_html_esc(d->o, s);
		return;
	}
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', d->o);
		fputc(*s, d->o);
	}
}

static void d_h(struct doc *d, int level, const char *t)
{
	if (d->html) {
		fprintf(d->o, "<h%d>", level);
		d_text(d, t);
		fprintf(d->o, "</h%d>\n", level);
	} else {
		fprintf(d->o, "\n%s %s\n", level == 2 ? "##" : "###", t);
	}
}

static void d_p(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void d_p(struct doc *d, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs(d->html ? "<p>" : "\n", d->o);
	d_text(d, buf);
	fputs(d->html ? "</p>\n" : "\n", d->o);
}

/* A table of n columns; the header cells are NULL terminated. */
static void d_table(struct doc *d, const char *const *head)
{
	int i;

	for (d->ncols = 0; head[d->ncols]; d->ncols++)
		;
	fputs(d->html ? "<div class=\"tw\"><table><tr>" : "\n|", d->o);
	for (i = 0; i < d->ncols; i++) {
		fputs(d->html ? "<th>" : " ", d->o);
		d_text(d, head[i]);
		fputs(d->html ? "</th>" : " |", d->o);
	}
	if (d->html) {
		fputs("</tr>\n", d->o);
		return;
	}
	fputs("\n|", d->o);
	for (i = 0; i < d->ncols; i++)
		fputs("---|", d->o);
	fputc('\n', d->o);
}

static bool numeric(const char *s)
{
	char *end;

	if (!*s)
		return false;
	strtod(s, &end);
	return *end == '\0' || *end == ' ';
}

static void d_row(struct doc *d, const char *const *cells)
{
	int i;

	fputs(d->html ? "<tr>" : "|", d->o);
	for (i = 0; i < d->ncols; i++) {
		const char *c = cells[i] ? cells[i] : "";
		if (d->html)
			fputs(i > 0 && numeric(c) ? "<td class=\"n\">" : "<td>", d->o);
		else
			fputc(' ', d->o);
		d_text(d, c);
		fputs(d->html ? "</td>" : " |", d->o);
	}
	fputs(d->html ? "</tr>\n" : "\n", d->o);
}

static void d_table_end(struct doc *d)
{
	if (d->html)
		fputs("</table></div>\n", d->o);
}

/* A list item (ul in HTML: open and close with d_list). */
static void d_list(struct doc *d, bool open)
{
	if (d->html)
		fputs(open ? "<ul>\n" : "</ul>\n", d->o);
	else if (open)
		fputc('\n', d->o);
}

static void d_li(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void d_li(struct doc *d, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs(d->html ? "<li>" : "- ", d->o);
	d_text(d, buf);
	fputs(d->html ? "</li>\n" : "\n", d->o);
}

/* ---- the basis ---- */

/* A local time as a date, with the time of day when it is not midnight. */
static const char *fmt_time(char *buf, size_t n, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, tm.tm_hour || tm.tm_min || tm.tm_sec ? "%Y-%m-%d %H:%M" : "%Y-%m-%d", &tm);
	return buf;
}

/* The members of quantity qty, with their signs: "+grid_in -export". */
static void members(const struct fp_report *r, const char *qty, char *buf, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < r->basis.nbounds && len < n; i++) {
		const struct fp_report_bound *b = &r->basis.bounds[i];
		double c = fabs(b->coef);
		if (strcmp(b->qty, qty) != 0)
			continue;
		if (fabs(c - 1) < 1e-12)
			len += (size_t)snprintf(buf + len, n - len, "%s%c%s", len ? " " : "",
						b->coef < 0 ? '-' : '+', b->meter);
		else
			len += (size_t)snprintf(buf + len, n - len, "%s%c%.6g x %s", len ? " " : "",
						b->coef < 0 ? '-' : '+', c, b->meter);
	}
}

static const char *const pue_points[] = {
	"",
	"at the UPS output",
	"at the PDU output",
	"at the IT equipment input",
};

static void doc_basis(const struct fp_report *r, struct doc *d)
{
	static const char *const fh[] = { "Year",      "Region", "Method", "kgCO2e/kWh",
					  "Factor of", "Source", "Set by", NULL };
	static const char *const ch[] = { "Type", "Valid from", "Valid until (exclusive)", "kWh",
					  NULL };
	static const char *const bh[] = { "Quantity", "Meters (sign, coefficient)", NULL };
	static const char *const mh[] = { "Meter", "Role", "Unit", NULL };
	const struct fp_report_basis *x = &r->basis;
	char a[64], b[64], c[64], e[64], buf[1024];
	size_t i;
	int q;

	d_h(d, 2, "Basis");
	if (!x->loaded) {
		d_p(d, "Stated in each site's report.");
		return;
	}
	d_p(d,
	    "What the figures rest on: the configuration the agent recorded in the ledger. "
	    "Keep it with the report: the regulation asks for a record of the measurement "
	    "points and devices for at least 10 years.");
	d_h(d, 3, "Emission factors (Scope 2)");
	if (!x->nfactors) {
		d_p(d, "%s",
		    r->region[0] ? "No factor for the region over the period: Scope 2 is n/a."
				 : "No grid region configured: Scope 2 is n/a.");
	} else {
		d_table(d, fh);
		for (i = 0; i < x->nfactors; i++) {
			const struct fp_ledger_factor *f = &x->factors[i].f;
			const char *cells[7];
			snprintf(a, sizeof(a), "%d", x->factors[i].for_year);
			snprintf(b, sizeof(b), "%.6g", f->kg_per_kwh);
			snprintf(c, sizeof(c), "%d", f->year);
			cells[0] = a;
			cells[1] = f->region;
			cells[2] = f->method;
			cells[3] = b;
			cells[4] = c;
			cells[5] = f->source[0] ? f->source : "(not stated)";
			cells[6] = !strcmp(f->origin, "mqtt") ? "run-time override (MQTT)"
							      : "configuration";
			d_row(d, cells);
		}
		d_table_end(d);
	}
	d_h(d, 3, "Certificates");
	if (!x->ncerts) {
		d_p(d, "No Guarantee of Origin or PPA covers the period.");
	} else {
		d_table(d, ch);
		for (i = 0; i < x->ncerts; i++) {
			const char *cells[4];
			snprintf(e, sizeof(e), "%.3f", x->certs[i].kwh);
			cells[0] = !strcmp(x->certs[i].type, "go") ? "Guarantee of Origin"
				: !strcmp(x->certs[i].type, "ppa") ? "PPA"
								   : x->certs[i].type;
			cells[1] = fmt_time(a, sizeof(a), x->certs[i].from);
			cells[2] = fmt_time(b, sizeof(b), x->certs[i].to);
			cells[3] = e;
			d_row(d, cells);
		}
		d_table_end(d);
		d_p(d,
		    "A certificate counts pro rata of its validity, matched to the metered E_DC.");
	}
	d_h(d, 3, "Boundaries");
	d_table(d, bh);
	for (q = 0; q < FP_NQTY; q++) {
		const char *cells[2];
		members(r, fp_qty_names[q], buf, sizeof(buf));
		if (!buf[0])
			continue;
		cells[0] = fp_qty_names[q];
		cells[1] = buf;
		d_row(d, cells);
	}
	d_table_end(d);
	d_h(d, 3, "Measurement points");
	d_table(d, mh);
	for (i = 0; i < x->nmeters; i++) {
		const char *cells[3] = { x->meters[i].name, x->meters[i].role, x->meters[i].unit };
		d_row(d, cells);
	}
	d_table_end(d);
	d_list(d, true);
	d_li(d, "PUE category %d: IT energy measured %s (EN 50600-4-2).", r->pue_category,
	     pue_points[r->pue_category >= 1 && r->pue_category <= 3 ? r->pue_category : 0]);
	d_li(d, "Data coverage (E_DC and E_IT measured): %s.",
	     fmt_pct(a, sizeof(a), r->total.k.coverage));
	d_list(d, false);
}

/* ---- the EU block: Delegated Regulation (EU) 2024/1364, Annexes I-III ---- */

enum eu_type { K_TEXT, K_ENUM, K_YM, K_REDUND, K_NUM, K_LIST, K_BOOL };

static const char *const eu_types[] = { "enterprise", "colocation", "co-hosting", NULL };
static const char *const eu_structures[] = { "structure", "group of structures", NULL };
static const char *const eu_metrics[] = { "installed", "rated", NULL };
static const char *const eu_wue_cats[] = { "1", "2", NULL };

/* The keys of report.eu: what the agent cannot measure. */
static const struct eu_key {
	const char *key;
	enum eu_type type;
	const char *const *names; /* K_ENUM */
	double min, max;	  /* K_NUM */
} eu_keys[] = {
	{ "name", K_TEXT, NULL, 0, 0 },
	{ "owner", K_TEXT, NULL, 0, 0 },
	{ "operator", K_TEXT, NULL, 0, 0 },
	{ "lau_code", K_TEXT, NULL, 0, 0 },
	{ "type", K_ENUM, eu_types, 0, 0 },
	{ "structure", K_ENUM, eu_structures, 0, 0 },
	{ "mixed", K_BOOL, NULL, 0, 0 },
	{ "in_operation_since", K_YM, NULL, 0, 0 },
	{ "redundancy_electrical_hv", K_REDUND, NULL, 0, 0 },
	{ "redundancy_electrical_lv", K_REDUND, NULL, 0, 0 },
	{ "redundancy_electrical_rack", K_REDUND, NULL, 0, 0 },
	{ "redundancy_cooling_room", K_REDUND, NULL, 0, 0 },
	{ "redundancy_cooling_rack", K_REDUND, NULL, 0, 0 },
	{ "it_power_kw", K_NUM, NULL, 0, 1e9 },
	{ "it_power_metric", K_ENUM, eu_metrics, 0, 0 },
	{ "floor_area_m2", K_NUM, NULL, 0, 1e9 },
	{ "computer_room_area_m2", K_NUM, NULL, 0, 1e9 },
	{ "backup_generator_kwh", K_NUM, NULL, 0, 1e15 },
	{ "grid_functions", K_TEXT, NULL, 0, 0 },
	{ "battery_capacity_kw", K_NUM, NULL, 0, 1e9 },
	{ "water_input_m3", K_NUM, NULL, 0, 1e15 },
	{ "water_wue_category", K_ENUM, eu_wue_cats, 0, 0 },
	{ "potable_water_m3", K_NUM, NULL, 0, 1e15 },
	{ "waste_heat_reused_kwh", K_NUM, NULL, 0, 1e15 },
	{ "waste_heat_temperature_c", K_NUM, NULL, -50, 200 },
	{ "intake_air_setpoint_c", K_NUM, NULL, -50, 100 },
	{ "refrigerants", K_LIST, NULL, 0, 0 },
	{ "cooling_degree_days", K_NUM, NULL, 0, 1e6 },
	{ "onsite_renewable_kwh", K_NUM, NULL, 0, 1e15 },
	{ "ict_capacity_servers", K_NUM, NULL, 0, 1e18 },
	{ "ict_capacity_storage_pb", K_NUM, NULL, 0, 1e9 },
	{ "ict_capacity_coverage_pct", K_NUM, NULL, 0, 100 },
	{ "bandwidth_in_gb_s", K_NUM, NULL, 0, 1e9 },
	{ "bandwidth_out_gb_s", K_NUM, NULL, 0, 1e9 },
	{ "traffic_in_eb", K_NUM, NULL, 0, 1e9 },
	{ "traffic_out_eb", K_NUM, NULL, 0, 1e9 },
};
#define EU_NKEYS (sizeof(eu_keys) / sizeof(eu_keys[0]))

struct fp_report_cfg {
	char *text[EU_NKEYS]; /* NULL: not set */
	double num[EU_NKEYS];
};

static int eu_key_index(const char *key)
{
	size_t i;

	for (i = 0; i < EU_NKEYS; i++)
		if (!strcmp(eu_keys[i].key, key))
			return (int)i;
	return -1;
}

/* N-notation: N, N+1, N+2, 2N, 2N+1, 2(N+1), ... */
static bool redundancy_ok(const char *s)
{
	const char *p = s;

	if (!strncmp(p, "2(N+", 4)) {
		p += 4;
		if (*p < '1' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		return !strcmp(p, ")");
	}
	if (*p >= '2' && *p <= '9')
		p++;
	if (*p++ != 'N')
		return false;
	if (!*p)
		return true;
	if (*p++ != '+' || *p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return !*p;
}

static void eu_parse_key(struct fp_report_cfg *c, size_t i, const config_setting_t *g,
			 struct fp_cfg_errors *e)
{
	const struct eu_key *k = &eu_keys[i];
	const config_setting_t *s = config_setting_get_member(g, k->key);
	char *str = NULL;
	double v;
	bool b;
	int n;

	if (!s)
		return;
	switch (k->type) {
	case K_TEXT:
		if (fp_cfg_get_string(e, g, k->key, &str) > 0 && !str[0])
			fp_cfg_report(e, g, k->key, "must not be empty");
		break;
	case K_ENUM:
		if (fp_cfg_get_enum(e, g, k->key, k->names, &n) > 0)
			str = fp_xstrdup(k->names[n]);
		break;
	case K_YM:
		if (fp_cfg_get_string(e, g, k->key, &str) > 0) {
			int y, m;
			char end;
			if (strlen(str) != 7 || sscanf(str, "%4d-%2d%c", &y, &m, &end) != 2 ||
			    y < 1950 || m < 1 || m > 12) {
				fp_cfg_report(e, g, k->key, "'%s' is not a month YYYY-MM", str);
				free(str);
				str = NULL;
			}
		}
		break;
	case K_REDUND:
		if (fp_cfg_get_string(e, g, k->key, &str) > 0 && !redundancy_ok(str)) {
			fp_cfg_report(e, g, k->key,
				      "'%s' is not a redundancy level against N (N, N+1, 2N, 2N+1, "
				      "2(N+1), ...)",
				      str);
			free(str);
			str = NULL;
		}
		break;
	case K_NUM:
		if (fp_cfg_get_float(e, g, k->key, k->min, k->max, &v) > 0) {
			c->num[i] = v;
			str = fp_xasprintf("%.10g", v);
		}
		break;
	case K_BOOL:
		if (fp_cfg_get_bool(e, g, k->key, &b) > 0)
			str = fp_xstrdup(b ? "yes" : "no");
		break;
	case K_LIST:
		if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			fp_cfg_get_string(e, g, k->key, &str);
		} else if (config_setting_is_aggregate(s)) {
			int j, len = config_setting_length(s);
			for (j = 0; j < len; j++) {
				const char *x = config_setting_get_string_elem(s, j);
				char *t;
				if (!x || !*x) {
					fp_cfg_report(e, g, k->key, "element %d: expected a name",
						      j);
					continue;
				}
				t = str ? fp_xasprintf("%s, %s", str, x) : fp_xstrdup(x);
				free(str);
				str = t;
			}
		} else {
			fp_cfg_report(e, g, k->key, "expected a name or a list of names");
		}
		break;
	}
	free(c->text[i]);
	c->text[i] = str;
}

struct fp_report_cfg *fp_report_cfg_parse(const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const top[] = { "eu", NULL };
	const char *keys[EU_NKEYS + 1];
	struct fp_report_cfg *c = fp_xcalloc(1, sizeof(*c));
	const config_setting_t *eu;
	size_t i;

	if (!g)
		return c;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
				  fp_cfg_type_name(config_setting_type(g)));
		return c;
	}
	fp_cfg_check_keys(e, g, top);
	if (!(eu = config_setting_get_member(g, "eu")))
		return c;
	if (config_setting_type(eu) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, eu, NULL, "expected a group { ... }, got %s",
				  fp_cfg_type_name(config_setting_type(eu)));
		return c;
	}
	for (i = 0; i < EU_NKEYS; i++)
		keys[i] = eu_keys[i].key;
	keys[EU_NKEYS] = NULL;
	fp_cfg_check_keys(e, eu, keys);
	for (i = 0; i < EU_NKEYS; i++)
		eu_parse_key(c, i, eu, e);
	return c;
}

void fp_report_cfg_free(struct fp_report_cfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < EU_NKEYS; i++)
		free(c->text[i]);
	free(c);
}

/* Where an item's value comes from. */
enum eu_src { S_CFG, S_QTY, S_GO, S_PPA, S_RESTOT };

/* The items of Annexes I and II, as the regulation lists them (symbols
 * and units from its text; the extra statements it asks for have no
 * symbol). */
static const struct eu_item {
	const char *annex, *ref, *item, *symbol, *unit, *key;
	enum eu_src src;
	enum fp_qty qty;
} eu_items[] = {
	{ "I", "1(a)", "Data centre name", "", "text", "name", S_CFG, 0 },
	{ "I", "1(b)", "Owner: name and contact details", "", "text", "owner", S_CFG, 0 },
	{ "I", "1(b)", "Operator: name and contact details", "", "text", "operator", S_CFG, 0 },
	{ "I", "1(c)", "Location: Local Administrative Unit code", "", "LAU code", "lau_code",
	  S_CFG, 0 },
	{ "I", "1(d)", "Type of data centre", "", "enterprise, colocation or co-hosting", "type",
	  S_CFG, 0 },
	{ "I", "1(d)", "Structure", "", "structure or group of structures", "structure", S_CFG, 0 },
	{ "I", "1(d)", "Colocation also offering co-hosting, or the reverse", "", "yes or no",
	  "mixed", S_CFG, 0 },
	{ "I", "1(e)", "Year and month of entry into operation", "", "YYYY-MM",
	  "in_operation_since", S_CFG, 0 },
	{ "I", "2(a)", "Electrical infrastructure redundancy at high voltage level", "",
	  "N-notation", "redundancy_electrical_hv", S_CFG, 0 },
	{ "I", "2(a)", "Electrical infrastructure redundancy at low voltage level (line-up)", "",
	  "N-notation", "redundancy_electrical_lv", S_CFG, 0 },
	{ "I", "2(a)", "Electrical infrastructure redundancy at rack level", "", "N-notation",
	  "redundancy_electrical_rack", S_CFG, 0 },
	{ "I", "2(b)", "Cooling infrastructure redundancy at room level", "", "N-notation",
	  "redundancy_cooling_room", S_CFG, 0 },
	{ "I", "2(b)", "Cooling infrastructure redundancy at rack level", "", "N-notation",
	  "redundancy_cooling_rack", S_CFG, 0 },
	{ "II", "1(a)", "Installed information technology power demand", "PDIT", "kW",
	  "it_power_kw", S_CFG, 0 },
	{ "II", "1(a)", "Metric used for PDIT", "", "installed or rated", "it_power_metric", S_CFG,
	  0 },
	{ "II", "1(b)", "Total floor area", "SDC", "m²", "floor_area_m2", S_CFG, 0 },
	{ "II", "1(c)", "Computer room floor area", "SCR", "m²", "computer_room_area_m2", S_CFG,
	  0 },
	{ "II", "1(d)", "Total energy consumption", "EDC", "kWh", NULL, S_QTY, FP_Q_FACILITY },
	{ "II", "1(d)", "Energy from back-up generators", "EDC-BG", "kWh", "backup_generator_kwh",
	  S_QTY, FP_Q_FUEL },
	{ "II", "1(e)", "IT equipment energy consumption", "EIT", "kWh", NULL, S_QTY, FP_Q_IT },
	{ "II", "1(f)", "Electrical grid functions", "", "information", "grid_functions", S_CFG,
	  0 },
	{ "II", "1(g)", "Average battery capacity", "CBtG", "kW", "battery_capacity_kw", S_CFG, 0 },
	{ "II", "1(h)", "Total water input", "WIN", "m³", "water_input_m3", S_QTY, FP_Q_WATER },
	{ "II", "1(h)", "WUE category used for WIN (EN 50600-4-9)", "", "1 or 2",
	  "water_wue_category", S_CFG, 0 },
	{ "II", "1(i)", "Total potable water input", "WIN-POT", "m³", "potable_water_m3", S_CFG,
	  0 },
	{ "II", "1(j)", "Waste heat reused", "EREUSE", "kWh", "waste_heat_reused_kwh", S_QTY,
	  FP_Q_REUSE },
	{ "II", "1(k)", "Average waste heat temperature", "TWH", "°C", "waste_heat_temperature_c",
	  S_CFG, 0 },
	{ "II", "1(l)", "Average setpoint IT equipment intake air temperature", "TIN", "°C",
	  "intake_air_setpoint_c", S_CFG, 0 },
	{ "II", "1(m)", "Types of refrigerants", "", "list of names", "refrigerants", S_CFG, 0 },
	{ "II", "1(n)", "Cooling degree days", "CDD", "degree-days", "cooling_degree_days", S_CFG,
	  0 },
	{ "II", "1(o)", "Total renewable energy consumption", "ERES-TOT", "kWh", NULL, S_RESTOT,
	  0 },
	{ "II", "1(p)", "Renewable energy from Guarantees of Origin", "ERES-GOO", "kWh", NULL, S_GO,
	  0 },
	{ "II", "1(q)", "Renewable energy from Power Purchasing Agreements", "ERES-PPA", "kWh",
	  NULL, S_PPA, 0 },
	{ "II", "1(r)", "On-site renewable energy", "ERES-OS", "kWh", "onsite_renewable_kwh", S_QTY,
	  FP_Q_RENEWABLE_ONSITE },
	{ "II", "2(a)", "ICT capacity for servers", "CSERV", "no unit stated",
	  "ict_capacity_servers", S_CFG, 0 },
	{ "II", "2(b)", "ICT capacity for storage equipment", "CSTOR", "PB",
	  "ict_capacity_storage_pb", S_CFG, 0 },
	{ "II", "2", "Computer room floor area the ICT capacity covers", "", "%",
	  "ict_capacity_coverage_pct", S_CFG, 0 },
	{ "II", "3(a)", "Incoming traffic bandwidth", "BIN", "GB/s", "bandwidth_in_gb_s", S_CFG,
	  0 },
	{ "II", "3(b)", "Outgoing traffic bandwidth", "BOUT", "GB/s", "bandwidth_out_gb_s", S_CFG,
	  0 },
	{ "II", "3(c)", "Incoming data traffic", "TIN", "EB", "traffic_in_eb", S_CFG, 0 },
	{ "II", "3(d)", "Outgoing data traffic", "TOUT", "EB", "traffic_out_eb", S_CFG, 0 },
};
#define EU_NITEMS (sizeof(eu_items) / sizeof(eu_items[0]))

/* An item's value as the report states it. */
struct eu_val {
	const char *from; /* "metered", "ledger", "computed", "configuration"; NULL: to complete */
	bool num;
	double v;
	char text[512];
};

static void eu_num(struct eu_val *x, const char *from, double v)
{
	x->from = from;
	x->num = true;
	x->v = v;
	snprintf(x->text, sizeof(x->text), "%.1f", v);
}

static void eu_resolve(const struct fp_report *r, struct eu_val vals[EU_NITEMS])
{
	const struct fp_window_sums *s = &r->total.s;
	const struct fp_report_cfg *c = r->cfg;
	size_t i, os = 0;
	bool ledger = r->basis.loaded;

	memset(vals, 0, EU_NITEMS * sizeof(*vals));
	for (i = 0; i < EU_NITEMS; i++) {
		const struct eu_item *it = &eu_items[i];
		struct eu_val *x = &vals[i];
		int k = it->key ? eu_key_index(it->key) : -1;
		if (it->src == S_QTY && s->q[it->qty].present)
			eu_num(x, "metered", s->q[it->qty].value);
		else if (it->src == S_GO && ledger)
			eu_num(x, "certificates", s->go_kwh);
		else if (it->src == S_PPA && ledger)
			eu_num(x, "certificates", s->ppa_kwh);
		if (!x->from && c && k >= 0 && c->text[k]) {
			x->from = "configuration";
			x->num = eu_keys[k].type == K_NUM;
			x->v = c->num[k];
			snprintf(x->text, sizeof(x->text), "%s", c->text[k]);
		}
		if (it->qty == FP_Q_RENEWABLE_ONSITE && it->src == S_QTY)
			os = i;
	}
	/* ERES-TOT: the sum of ERES-GOO, ERES-PPA and ERES-OS. */
	for (i = 0; i < EU_NITEMS; i++)
		if (eu_items[i].src == S_RESTOT && ledger && vals[os].from)
			eu_num(&vals[i], "computed", s->go_kwh + s->ppa_kwh + vals[os].v);
}

/* The value of the item of symbol sym (NULL unless numeric and known). */
static const struct eu_val *eu_get(const struct eu_val *vals, const char *sym)
{
	size_t i;

	for (i = 0; i < EU_NITEMS; i++)
		if (!strcmp(eu_items[i].symbol, sym))
			return vals[i].from && vals[i].num ? &vals[i] : NULL;
	return NULL;
}

/* Annex III, from the Annex II values: PUE, WUE, ERF, REF. */
static const struct {
	const char *name, *formula, *num, *den, *unit;
	double scale; /* of the denominator: EIT in MWh for WUE */
} eu_iii[] = {
	{ "PUE", "EDC / EIT", "EDC", "EIT", "-", 1 },
	{ "WUE", "WIN / EIT (EIT in MWh)", "WIN", "EIT", "m³/MWh", 1e-3 },
	{ "ERF", "EREUSE / EDC", "EREUSE", "EDC", "-", 1 },
	{ "REF", "ERES-TOT / EDC", "ERES-TOT", "EDC", "-", 1 },
};

static bool eu_ratio(const struct eu_val *vals, size_t i, double *out)
{
	const struct eu_val *n = eu_get(vals, eu_iii[i].num), *d = eu_get(vals, eu_iii[i].den);

	if (!n || !d || d->v * eu_iii[i].scale <= 0)
		return false;
	*out = n->v / (d->v * eu_iii[i].scale);
	return true;
}

/* How to complete an item: its config key, or the quantity to meter. */
static void eu_hint(const struct eu_item *it, char *buf, size_t n)
{
	if (it->key && it->src == S_QTY)
		snprintf(buf, n, "meter indicators.%s or set report.eu.%s", fp_qty_names[it->qty],
			 it->key);
	else if (it->key)
		snprintf(buf, n, "set report.eu.%s", it->key);
	else if (it->src == S_QTY)
		snprintf(buf, n, "meter indicators.%s", fp_qty_names[it->qty]);
	else
		snprintf(buf, n, "from the site's ledger");
}

static void doc_eu(const struct fp_report *r, struct doc *d)
{
	static const char *const head[] = {
		"Annex", "Item", "Symbol", "Value", "Unit", "From", NULL
	};
	static const char *const h3[] = { "Indicator", "Formula", "Value", "Unit", NULL };
	struct eu_val vals[EU_NITEMS];
	char ref[32], b[64], hint[160];
	size_t i, missing = 0;

	eu_resolve(r, vals);
	d_h(d, 2, "EU Delegated Regulation 2024/1364 (Annexes I to III)");
	d_p(d,
	    "The information and key performance indicators of Annexes I and II, with the "
	    "symbols and units of the regulation's text; the Annex III indicators computed from "
	    "them.%s",
	    r->calendar_year ? ""
			     : " The regulation reports a whole calendar year; this period "
			       "is not one.");
	d_table(d, head);
	for (i = 0; i < EU_NITEMS; i++) {
		const struct eu_item *it = &eu_items[i];
		const char *cells[6];
		snprintf(ref, sizeof(ref), "%s %s", it->annex, it->ref);
		cells[0] = ref;
		cells[1] = it->item;
		cells[2] = it->symbol;
		cells[3] = vals[i].from ? vals[i].text : "to complete";
		cells[4] = it->unit;
		cells[5] = vals[i].from ? vals[i].from : "";
		d_row(d, cells);
		missing += !vals[i].from;
	}
	d_table_end(d);
	d_table(d, h3);
	for (i = 0; i < sizeof(eu_iii) / sizeof(eu_iii[0]); i++) {
		double v;
		const char *cells[4] = { eu_iii[i].name, eu_iii[i].formula,
					 eu_ratio(vals, i, &v) ? fmt_num(b, sizeof(b), v, 3)
							       : "n/a",
					 eu_iii[i].unit };
		d_row(d, cells);
	}
	d_table_end(d);
	if (!missing) {
		d_p(d, "Every item is stated.");
		return;
	}
	d_h(d, 3, "To complete");
	d_p(d,
	    "%zu items the agent cannot measure are not configured: set them in the report.eu "
	    "group of footprintd.conf (footprintd.conf(5)) or complete them by hand.",
	    missing);
	d_list(d, true);
	for (i = 0; i < EU_NITEMS; i++) {
		if (vals[i].from)
			continue;
		eu_hint(&eu_items[i], hint, sizeof(hint));
		d_li(d, "Annex %s %s %s%s%s (%s): %s", eu_items[i].annex, eu_items[i].ref,
		     eu_items[i].item, eu_items[i].symbol[0] ? ", " : "", eu_items[i].symbol,
		     eu_items[i].unit, hint);
	}
	d_list(d, false);
}

/* The indicators of the report, by name and label (data quality), with
 * the quantities of their numerator and denominator when a term is one
 * quantity (times mul: WUE's litres, EE's joules), else -1. */
static const struct {
	const char *name, *label;
	size_t off;
	int num_q, den_q;
	double num_mul, den_mul;
} ratio_list[] = {
	{ "pue", "PUE", offsetof(struct fp_kpis, pue), FP_Q_FACILITY, FP_Q_IT, 1, 1 },
	{ "dcie", "DCiE", offsetof(struct fp_kpis, dcie), FP_Q_IT, FP_Q_FACILITY, 1, 1 },
	{ "ref", "REF", offsetof(struct fp_kpis, ref), -1, FP_Q_FACILITY, 1, 1 },
	{ "erf", "ERF", offsetof(struct fp_kpis, erf), FP_Q_REUSE, FP_Q_FACILITY, 1, 1 },
	{ "ere", "ERE", offsetof(struct fp_kpis, ere), -1, FP_Q_IT, 1, 1 },
	{ "cer", "CER", offsetof(struct fp_kpis, cer), FP_Q_COOLING_HEAT, FP_Q_COOLING, 1, 1 },
	{ "wue_l_per_kwh", "WUE", offsetof(struct fp_kpis, wue_l_per_kwh), FP_Q_WATER, FP_Q_IT,
	  1000, 1 },
	{ "cue_location", "CUE (location)", offsetof(struct fp_kpis, cue_location), -1, FP_Q_IT, 1,
	  1 },
	{ "cue_market", "CUE (market)", offsetof(struct fp_kpis, cue_market), -1, FP_Q_IT, 1, 1 },
	{ "see", "SEE", offsetof(struct fp_kpis, see), FP_Q_TELECOM_EQUIPMENT, FP_Q_TELECOM_SITE, 1,
	  1 },
	{ "ee_bit_per_j", "EE (bit/J)", offsetof(struct fp_kpis, ee_bit_per_j), FP_Q_DATA_VOLUME,
	  FP_Q_TELECOM_SITE, 1, FP_J_PER_KWH },
};

/* What ratio i leaves out of its quantity q (its numerator's when num,
 * else its denominator's): the quantity's total over the period less the
 * part the ratio relates, in the quantity's unit; NAN when the term is not
 * one quantity. */
static double left_out(const struct fp_report *r, const struct fp_ratio *x, size_t i, bool num)
{
	int q = num ? ratio_list[i].num_q : ratio_list[i].den_q;
	double used = num ? x->num / ratio_list[i].num_mul : x->den / ratio_list[i].den_mul;
	double d;

	if (q < 0)
		return NAN;
	d = r->total.s.q[q].value - used;
	return fabs(d) < 1e-9 * fmax(1, fabs(used)) ? 0 : d;
}

/* Ratio i of k when it is defined over only part of the period (the part
 * where all its terms are measured), else NULL. */
static const struct fp_ratio *partial_ratio(const struct fp_kpis *k, size_t i)
{
	const struct fp_ratio *r = (const struct fp_ratio *)((const char *)k + ratio_list[i].off);

	return r->defined && !isnan(r->coverage) && r->coverage < 1 - 1e-9 ? r : NULL;
}

/* " (left out: 3 m3 of water, 20 kWh of it)": what ratio i's terms
 * measured while another term was not. */
static void put_left_out(FILE *o, const struct fp_report *r, const struct fp_ratio *x, size_t i)
{
	const char *sep = " (left out: ";
	char b[64];
	int j;

	for (j = 0; j < 2; j++) {
		double v = left_out(r, x, i, j == 0);
		int q = j == 0 ? ratio_list[i].num_q : ratio_list[i].den_q;
		if (isnan(v) || v <= 0)
			continue;
		fprintf(o, "%s%s %s of %s", sep, fmt_num(b, sizeof(b), v, 3), fp_qty_units[q],
			fp_qty_names[q]);
		sep = ", ";
	}
	if (*sep == ',')
		fputc(')', o);
}

/* The indicators computed over part of the period, with that part and
 * what each left out. */
static void put_partial(FILE *o, const char *pre, const char *post, const struct fp_report *r)
{
	const struct fp_ratio *x;
	const char *sep = "";
	char b[64];
	size_t i;

	for (i = 0; i < sizeof(ratio_list) / sizeof(ratio_list[0]); i++) {
		if (!(x = partial_ratio(&r->total.k, i)))
			continue;
		if (!*sep)
			fprintf(o,
				"%sIndicators over part of the period (where all their terms are "
				"measured): ",
				pre);
		fprintf(o, "%s%s over %s", sep, ratio_list[i].label,
			fmt_pct(b, sizeof(b), x->coverage));
		put_left_out(o, r, x, i);
		sep = ", ";
	}
	if (*sep)
		fputs(post, o);
}

/* The energy the PUE leaves out: measured while the other term was not. */
static void put_unmatched(FILE *o, const char *pre, const char *post, const struct fp_report *r)
{
	const struct fp_kpis *k = &r->total.k;
	const struct fp_window_sums *s = &r->total.s;
	char a[64], b[64];

	fprintf(o,
		"%sPUE and DCiE over the part of the period where both E_DC and E_IT are measured; "
		"left out: %s kWh of E_DC, %s kWh of E_IT%s",
		pre, fmt_num(a, sizeof(a), s->q[FP_Q_FACILITY].value - k->pue.num, 3),
		fmt_num(b, sizeof(b), s->q[FP_Q_IT].value - k->pue.den, 3), post);
}

void fp_report_md_head(const struct fp_report *r, FILE *o)
{
	char b1[64];

	fprintf(o, "# Environmental report: %s\n\n", r->site);
	fprintf(o, "Period: %s to %s inclusive (%.0f hours, time zone %s)%s.  \n", r->from, r->to,
		r->hours, r->timezone,
		r->calendar_year ? ", a calendar year"
				 : "; not a calendar year: the ratios are interim figures");
	if (r->no_ledger) {
		fputc('\n', o);
		return;
	}
	fprintf(o, "PUE category: %d. Grid region: %s. Data coverage: %s.\n\n", r->pue_category,
		r->region[0] ? r->region : "(none configured)",
		fmt_pct(b1, sizeof(b1), r->total.k.coverage));
}

static void ewaste_chart(const struct fp_report *r, FILE *o);

/* The e-waste section: installed base and flows, end of life, ages and
 * projections (three tables that fit a page), then the methodology. */
static void doc_ewaste(const struct fp_report *r, struct doc *d)
{
	static const char *const h1[] = { "Category",
					  "Installed units",
					  "Installed kg",
					  "Commissioned kg",
					  "Decommissioned kg",
					  "Disposed kg",
					  NULL };
	static const char *const h2[] = { "Category",
					  "Reused kg",
					  "Refurbished kg",
					  "Recycled kg (documented)",
					  "Documented rate",
					  "Reuse rate",
					  NULL };
	static const char *const h3[] = { "Category",
					  "Past expected life (units)",
					  "Mean age (years)",
					  "Projected e-waste, next 12 months (kg)",
					  "Embodied CO2e amortised (kg)",
					  "Modelled e-waste generated (kg, year)",
					  NULL };
	char b[8][64], cat[160];
	size_t i;

	d_h(d, 2, "E-waste and device lifecycle");
	if (!r->has_inventory) {
		d_p(d, "No inventory in this state directory.");
		return;
	}
	d_p(d,
	    "Installed base, ages and projections at the end of the period (or now); flows "
	    "during the period.");
	if (d->html)
		ewaste_chart(r, d->o);
	d_table(d, h1);
	for (i = 0; i < r->nrows; i++) {
		const struct fp_ewaste *e = &r->ew[i].e;
		const char *c[6] = { cat,
				     fmt_num(b[0], 64, e->installed_units, 0),
				     fmt_num(b[1], 64, e->installed_kg, 1),
				     fmt_num(b[2], 64, e->commissioned_kg, 1),
				     fmt_num(b[3], 64, e->decommissioned_kg, 1),
				     fmt_num(b[4], 64, e->disposed_kg, 1) };
		snprintf(cat, sizeof(cat), "%s %s", r->ew[i].category, r->ew[i].desc);
		d_row(d, c);
	}
	d_table_end(d);
	d_table(d, h2);
	for (i = 0; i < r->nrows; i++) {
		const struct fp_ewaste *e = &r->ew[i].e;
		char rec[160];
		const char *c[6] = { r->ew[i].category,
				     fmt_num(b[0], 64, e->reused_kg, 1),
				     fmt_num(b[1], 64, e->refurbished_kg, 1),
				     rec,
				     fmt_rate(b[4], 64, e->documented_rate),
				     fmt_rate(b[5], 64, e->reuse_rate) };
		snprintf(rec, sizeof(rec), "%s (%s)", fmt_num(b[2], 64, e->recycled_kg, 1),
			 fmt_num(b[3], 64, e->recycled_documented_kg, 1));
		d_row(d, c);
	}
	d_table_end(d);
	d_table(d, h3);
	for (i = 0; i < r->nrows; i++) {
		const struct fp_ewaste *e = &r->ew[i].e;
		char ewg[96];
		const char *c[6] = {
			r->ew[i].category,
			fmt_num(b[0], 64, e->beyond_lifespan_units, 0),
			isnan(e->mean_age_y) ? "per site" : fmt_num(b[1], 64, e->mean_age_y, 2),
			fmt_num(b[2], 64, e->projected_kg_12m, 1),
			fmt_num(b[3], 64, e->embodied_co2e_kg, 1),
			ewg,
		};
		snprintf(ewg, sizeof(ewg), "%s (%d)", fmt_num(b[4], 64, r->ew[i].ewg_model_kg, 1),
			 r->ew[i].ewg_year);
		d_row(d, c);
	}
	d_table_end(d);
	d_p(d,
	    "Documented rate = recycled with a named treatment facility / decommissioned; "
	    "reuse rate = (reused + refurbished) / decommissioned (n/a when nothing was "
	    "decommissioned). The projection sums mass x P(retire within a year | age) over the "
	    "installed base; the model is the UNU/EU cohort estimate from the commissioning "
	    "history (README).");
}

static const char *na_num(char *buf, size_t n, bool defined, double v, int prec, const char *undef)
{
	return defined ? fmt_num(buf, n, v, prec) : undef;
}

static void doc_indicators(const struct fp_report *r, struct doc *d)
{
	static const char *const head[] = { "Indicator", "Value", "Unit", "Coverage", NULL };
	static const struct {
		const char *name, *unit;
		size_t off;
		int prec;
	} rows[] = {
		{ "DCiE = E_IT / E_DC", "-", offsetof(struct fp_kpis, dcie), 4 },
		{ "REF = E_REN / E_DC", "-", offsetof(struct fp_kpis, ref), 4 },
		{ "ERF = E_REUSE / E_DC", "-", offsetof(struct fp_kpis, erf), 4 },
		{ "ERE = (E_DC - E_REUSE) / E_IT", "-", offsetof(struct fp_kpis, ere), 4 },
		{ "CER = Q_removed / E_cooling", "-", offsetof(struct fp_kpis, cer), 4 },
		{ "WUE = W_IN / E_IT", "L/kWh", offsetof(struct fp_kpis, wue_l_per_kwh), 4 },
		{ "CUE (location-based)", "kgCO2e/kWh", offsetof(struct fp_kpis, cue_location), 4 },
		{ "CUE (market-based)", "kgCO2e/kWh", offsetof(struct fp_kpis, cue_market), 4 },
		{ "SEE = E_telecom_equipment / E_site", "-", offsetof(struct fp_kpis, see), 4 },
		{ "EE = data volume / site energy", "bit/J", offsetof(struct fp_kpis, ee_bit_per_j),
		  1 },
	};
	const struct fp_kpis *k = &r->total.k;
	char name[32], b1[64], b2[64];
	size_t i;

	d_h(d, 2, "Indicators");
	d_table(d, head);
	for (i = 0; i <= sizeof(rows) / sizeof(rows[0]); i++) {
		const struct fp_ratio *x = i
			? (const struct fp_ratio *)((const char *)k + rows[i - 1].off)
			: &k->pue;
		const char *c[4];
		snprintf(name, sizeof(name), "PUE%d = E_DC / E_IT", r->pue_category);
		c[0] = i ? rows[i - 1].name : name;
		c[1] = fmt_ratio(b1, sizeof(b1), x, i ? rows[i - 1].prec : 4);
		c[2] = i ? rows[i - 1].unit : "-";
		c[3] = x->defined ? fmt_pct(b2, sizeof(b2), x->coverage) : "";
		d_row(d, c);
	}
	d_table_end(d);
	d_p(d, "A ratio whose denominator is zero or not metered is n/a, never 0.");
	if (k->pue.defined && k->pue.value < 1)
		d_p(d,
		    "Data quality: PUE < 1 (E_DC < E_IT): a metering or boundary error; the value "
		    "is reported as computed, not clamped.");
}

static void doc_energy(const struct fp_report *r, struct doc *d)
{
	static const char *const head[] = { "Quantity", "Amount", "Unit", "Coverage", NULL };
	static const char *const rh[] = { "Source", "kWh", NULL };
	static const char *const sh[] = { "Method", "kgCO2e", NULL };
	const struct fp_kpis *k = &r->total.k;
	const struct fp_window_sums *s = &r->total.s;
	char b1[64], b2[64];
	int q;

	d_h(d, 2, "Energy and water");
	d_table(d, head);
	for (q = 0; q < FP_NQTY; q++) {
		const struct fp_qsum *x = &s->q[q];
		const char *c[4] = { qty_labels[q], fmt_num(b1, sizeof(b1), x->value, 3),
				     fp_qty_units[q], fmt_pct(b2, sizeof(b2), x->coverage) };
		if (!x->present)
			continue;
		d_row(d, c);
		if (x->estimated != 0) {
			const char *e[4] = { "of which estimated",
					     fmt_num(b1, sizeof(b1), x->estimated, 3),
					     fp_qty_units[q], "" };
			d_row(d, e);
		}
	}
	d_table_end(d);
	d_h(d, 2, "Renewable energy");
	d_table(d, rh);
	{
		const char *c1[2] = { "On-site generation consumed",
				      fmt_num(b1, sizeof(b1), s->q[FP_Q_RENEWABLE_ONSITE].value,
					      3) };
		const char *c2[2] = { "Guarantees of Origin (GO)",
				      fmt_num(b2, sizeof(b2), s->go_kwh, 3) };
		d_row(d, c1);
		d_row(d, c2);
	}
	{
		const char *c3[2] = { "Power purchase agreements (PPA)",
				      fmt_num(b1, sizeof(b1), s->ppa_kwh, 3) };
		const char *c4[2] = { "E_REN total", fmt_num(b2, sizeof(b2), k->e_ren_kwh, 3) };
		d_row(d, c3);
		d_row(d, c4);
	}
	d_table_end(d);
	if (k->ref_capped)
		d_p(d,
		    "Certified and on-site renewable energy exceed E_DC: REF is capped at 1 "
		    "(over-procurement is not consumption).");
	d_h(d, 2, "Scope 2 emissions (GHG Protocol)");
	d_table(d, sh);
	{
		const char *c1[2] = { "Location-based",
				      na_num(b1, sizeof(b1), k->co2e_location_defined,
					     k->co2e_location_kg, 1,
					     "n/a (no grid meter or no factor)") };
		const char *c2[2] = { "Market-based",
				      na_num(b2, sizeof(b2), k->co2e_market_defined,
					     k->co2e_market_kg, 1,
					     "n/a (no grid meter or no factor)") };
		d_row(d, c1);
		d_row(d, c2);
	}
	d_table_end(d);
}

static void doc_months(const struct fp_report *r, struct doc *d)
{
	static const char *const head[] = {
		"Month",     "E_DC kWh",     "E_IT kWh",     "PUE",	 "REF",
		"WUE L/kWh", "CO2e loc. kg", "CO2e mkt. kg", "Coverage", NULL,
	};
	char b[9][64];
	size_t i;

	d_h(d, 2, "Monthly breakdown");
	d_table(d, head);
	for (i = 0; i < r->nmonths; i++) {
		const struct fp_report_period *p = &r->months[i];
		const char *c[9] = {
			p->label,
			na_num(b[1], 64, p->s.q[FP_Q_FACILITY].present, p->s.q[FP_Q_FACILITY].value,
			       1, "n/a"),
			na_num(b[2], 64, p->s.q[FP_Q_IT].present, p->s.q[FP_Q_IT].value, 1, "n/a"),
			fmt_ratio(b[3], 64, &p->k.pue, 4),
			fmt_ratio(b[4], 64, &p->k.ref, 4),
			fmt_ratio(b[5], 64, &p->k.wue_l_per_kwh, 4),
			na_num(b[6], 64, p->k.co2e_location_defined, p->k.co2e_location_kg, 1,
			       "n/a"),
			na_num(b[7], 64, p->k.co2e_market_defined, p->k.co2e_market_kg, 1, "n/a"),
			fmt_pct(b[8], 64, p->k.coverage),
		};
		d_row(d, c);
	}
	d_table_end(d);
}

static void doc_quality(const struct fp_report *r, struct doc *d)
{
	const struct fp_kpis *k = &r->total.k;
	const char *pre = d->html ? "<li>" : "- ", *post = d->html ? "</li>" : "\n";
	char b1[64];

	d_h(d, 2, "Data quality");
	d_list(d, true);
	d_li(d, "Coverage (E_DC and E_IT): %s", fmt_pct(b1, sizeof(b1), k->coverage));
	d_li(d, "Meter resets or replacements: %ld", r->events.resets);
	d_li(d, "Counter wraps: %ld", r->events.wraps);
	d_li(d, "Gaps longer than max_gap (missing): %ld", r->events.gaps);
	if (k->pue.defined)
		put_unmatched(d->o, pre, post, r);
	put_partial(d->o, pre, post, r);
	d_list(d, false);
}

/* Every section after the head, in Markdown or HTML. */
static void doc_body(const struct fp_report *r, struct doc *d)
{
	if (r->no_ledger) {
		d_p(d,
		    "No energy ledger in this state directory (the agent has not measured "
		    "energy here): the report holds the e-waste part only.");
		doc_ewaste(r, d);
		return;
	}
	doc_indicators(r, d);
	doc_energy(r, d);
	doc_months(r, d);
	doc_eu(r, d);
	doc_ewaste(r, d);
	doc_basis(r, d);
	doc_quality(r, d);
}

void fp_report_md_body(const struct fp_report *r, FILE *o)
{
	struct doc d = { o, false, 0 };

	doc_body(r, &d);
}

/* ---- JSON ---- */

/* A coverage, null when stated per site (NAN). */
static json_object *jcov(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

static json_object *jratio(const struct fp_ratio *r)
{
	json_object *o;

	if (!r->defined)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "value", json_object_new_double(r->value));
	json_object_object_add(o, "coverage", jcov(r->coverage));
	/* the amounts it relates: over the part where both are measured */
	json_object_object_add(o, "numerator", json_object_new_double(r->num));
	json_object_object_add(o, "denominator", json_object_new_double(r->den));
	return o;
}

static json_object *jnum_or_null(bool defined, double v)
{
	return defined ? json_object_new_double(v) : NULL;
}

static json_object *jperiod(const struct fp_report_period *p)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object(),
		    *ind = json_object_new_object(), *ren = json_object_new_object(),
		    *s2 = json_object_new_object();
	const struct fp_kpis *k = &p->k;
	int q;

	for (q = 0; q < FP_NQTY; q++) {
		const struct fp_qsum *s = &p->s.q[q];
		json_object *x;
		if (!s->present)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "value", json_object_new_double(s->value));
		json_object_object_add(x, "unit", json_object_new_string(fp_qty_units[q]));
		json_object_object_add(x, "estimated", json_object_new_double(s->estimated));
		json_object_object_add(x, "coverage", jcov(s->coverage));
		json_object_object_add(e, fp_qty_names[q], x);
	}
	json_object_object_add(o, "energy", e);
	json_object_object_add(ind, "pue", jratio(&k->pue));
	json_object_object_add(ind, "dcie", jratio(&k->dcie));
	json_object_object_add(ind, "ref", jratio(&k->ref));
	json_object_object_add(ind, "erf", jratio(&k->erf));
	json_object_object_add(ind, "ere", jratio(&k->ere));
	json_object_object_add(ind, "cer", jratio(&k->cer));
	json_object_object_add(ind, "wue_l_per_kwh", jratio(&k->wue_l_per_kwh));
	json_object_object_add(ind, "cue_location", jratio(&k->cue_location));
	json_object_object_add(ind, "cue_market", jratio(&k->cue_market));
	json_object_object_add(ind, "see", jratio(&k->see));
	json_object_object_add(ind, "ee_bit_per_j", jratio(&k->ee_bit_per_j));
	json_object_object_add(o, "indicators", ind);
	json_object_object_add(ren, "total_kwh", json_object_new_double(k->e_ren_kwh));
	json_object_object_add(ren, "go_kwh", json_object_new_double(p->s.go_kwh));
	json_object_object_add(ren, "ppa_kwh", json_object_new_double(p->s.ppa_kwh));
	json_object_object_add(ren, "onsite_kwh",
			       json_object_new_double(p->s.q[FP_Q_RENEWABLE_ONSITE].value));
	json_object_object_add(ren, "capped", json_object_new_boolean(k->ref_capped));
	json_object_object_add(o, "renewable", ren);
	json_object_object_add(s2, "location_kg",
			       jnum_or_null(k->co2e_location_defined, k->co2e_location_kg));
	json_object_object_add(s2, "market_kg",
			       jnum_or_null(k->co2e_market_defined, k->co2e_market_kg));
	json_object_object_add(o, "scope2", s2);
	json_object_object_add(o, "coverage", jcov(k->coverage));
	return o;
}

static json_object *jew(const struct fp_ewaste *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "installed_units", json_object_new_double(e->installed_units));
	json_object_object_add(o, "installed_kg", json_object_new_double(e->installed_kg));
	json_object_object_add(o, "commissioned_kg", json_object_new_double(e->commissioned_kg));
	json_object_object_add(o, "decommissioned_kg",
			       json_object_new_double(e->decommissioned_kg));
	json_object_object_add(o, "reused_kg", json_object_new_double(e->reused_kg));
	json_object_object_add(o, "refurbished_kg", json_object_new_double(e->refurbished_kg));
	json_object_object_add(o, "recycled_kg", json_object_new_double(e->recycled_kg));
	json_object_object_add(o, "recycled_documented_kg",
			       json_object_new_double(e->recycled_documented_kg));
	json_object_object_add(o, "disposed_kg", json_object_new_double(e->disposed_kg));
	json_object_object_add(o, "documented_rate",
			       jnum_or_null(e->documented_rate >= 0, e->documented_rate));
	json_object_object_add(o, "reuse_rate", jnum_or_null(e->reuse_rate >= 0, e->reuse_rate));
	json_object_object_add(o, "beyond_lifespan_units",
			       json_object_new_double(e->beyond_lifespan_units));
	json_object_object_add(o, "mean_age_y", jnum_or_null(!isnan(e->mean_age_y), e->mean_age_y));
	json_object_object_add(o, "projected_kg_12m", json_object_new_double(e->projected_kg_12m));
	json_object_object_add(o, "embodied_co2e_kg", json_object_new_double(e->embodied_co2e_kg));
	return o;
}

static json_object *jewaste(const struct fp_report *r)
{
	json_object *o = json_object_new_object(), *cats = json_object_new_array(),
		    *months = json_object_new_array();
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		json_object *c = jew(&r->ew[i].e);
		json_object_object_add(c, "category", json_object_new_string(r->ew[i].category));
		json_object_object_add(c, "description", json_object_new_string(r->ew[i].desc));
		json_object_object_add(c, "ewg_model_year", json_object_new_int(r->ew[i].ewg_year));
		json_object_object_add(c, "ewg_model_kg",
				       json_object_new_double(r->ew[i].ewg_model_kg));
		json_object_array_add(cats, c);
	}
	for (i = 0; i < r->newm; i++) {
		json_object *m = jew(&r->ewm[i].e);
		json_object_object_add(m, "month", json_object_new_string(r->ewm[i].label));
		json_object_array_add(months, m);
	}
	json_object_object_add(o, "categories", cats);
	json_object_object_add(o, "months", months);
	return o;
}

static const char *iso_utc(char *buf, size_t n, time_t t)
{
	return fp_time_fmt_rfc3339(buf, n, t);
}

static json_object *jbasis(const struct fp_report *r)
{
	const struct fp_report_basis *x = &r->basis;
	json_object *o = json_object_new_object(), *fa = json_object_new_array(),
		    *ca = json_object_new_array(), *bo = json_object_new_object(),
		    *ma = json_object_new_array();
	char a[64];
	size_t i;

	for (i = 0; i < x->nfactors; i++) {
		const struct fp_ledger_factor *f = &x->factors[i].f;
		json_object *j = json_object_new_object();
		json_object_object_add(j, "year", json_object_new_int(x->factors[i].for_year));
		json_object_object_add(j, "region", json_object_new_string(f->region));
		json_object_object_add(j, "method", json_object_new_string(f->method));
		json_object_object_add(j, "kg_co2e_per_kwh", json_object_new_double(f->kg_per_kwh));
		json_object_object_add(j, "factor_year", json_object_new_int(f->year));
		json_object_object_add(j, "source",
				       f->source[0] ? json_object_new_string(f->source) : NULL);
		json_object_object_add(j, "origin", json_object_new_string(f->origin));
		json_object_array_add(fa, j);
	}
	for (i = 0; i < x->ncerts; i++) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "type", json_object_new_string(x->certs[i].type));
		json_object_object_add(
			j, "from", json_object_new_string(iso_utc(a, sizeof(a), x->certs[i].from)));
		json_object_object_add(
			j, "to", json_object_new_string(iso_utc(a, sizeof(a), x->certs[i].to)));
		json_object_object_add(j, "kwh", json_object_new_double(x->certs[i].kwh));
		json_object_array_add(ca, j);
	}
	for (i = 0; i < x->nbounds; i++) {
		json_object *l, *m = json_object_new_object();
		if (!json_object_object_get_ex(bo, x->bounds[i].qty, &l)) {
			l = json_object_new_array();
			json_object_object_add(bo, x->bounds[i].qty, l);
		}
		json_object_object_add(m, "meter", json_object_new_string(x->bounds[i].meter));
		json_object_object_add(m, "coef", json_object_new_double(x->bounds[i].coef));
		json_object_array_add(l, m);
	}
	for (i = 0; i < x->nmeters; i++) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "name", json_object_new_string(x->meters[i].name));
		json_object_object_add(m, "role", json_object_new_string(x->meters[i].role));
		json_object_object_add(m, "unit", json_object_new_string(x->meters[i].unit));
		json_object_array_add(ma, m);
	}
	json_object_object_add(o, "factors", fa);
	json_object_object_add(o, "certificates", ca);
	json_object_object_add(o, "boundaries", bo);
	json_object_object_add(o, "meters", ma);
	json_object_object_add(o, "pue_category", json_object_new_int(r->pue_category));
	json_object_object_add(o, "coverage", jcov(r->total.k.coverage));
	return o;
}

/* The keys of the first EU block, kept (fields are only ever added):
 * the same amounts under their former names; no symbol is recalled now. */
static void jeu_v1(const struct fp_report *r, json_object *eu)
{
	const struct fp_kpis *k = &r->total.k;
	const struct fp_window_sums *s = &r->total.s;

	json_object_object_add(eu, "E_DC_kWh", json_object_new_double(s->q[FP_Q_FACILITY].value));
	json_object_object_add(eu, "E_IT_kWh", json_object_new_double(s->q[FP_Q_IT].value));
	json_object_object_add(eu, "E_BG_kWh", json_object_new_double(s->q[FP_Q_FUEL].value));
	json_object_object_add(eu, "W_IN_m3", json_object_new_double(s->q[FP_Q_WATER].value));
	json_object_object_add(eu, "E_REUSE_kWh", json_object_new_double(s->q[FP_Q_REUSE].value));
	json_object_object_add(eu, "E_RES_TOT_kWh", json_object_new_double(k->e_ren_kwh));
	json_object_object_add(eu, "E_RES_GO_kWh", json_object_new_double(s->go_kwh));
	json_object_object_add(eu, "E_RES_PPA_kWh", json_object_new_double(s->ppa_kwh));
	json_object_object_add(eu, "E_RES_OS_kWh",
			       json_object_new_double(s->q[FP_Q_RENEWABLE_ONSITE].value));
	json_object_object_add(eu, "PUE", jnum_or_null(k->pue.defined, k->pue.value));
	json_object_object_add(eu, "WUE_L_per_kWh",
			       jnum_or_null(k->wue_l_per_kwh.defined, k->wue_l_per_kwh.value));
	json_object_object_add(eu, "ERF", jnum_or_null(k->erf.defined, k->erf.value));
	json_object_object_add(eu, "REF", jnum_or_null(k->ref.defined, k->ref.value));
	json_object_object_add(eu, "recalled_symbols", json_object_new_string(""));
}

static json_object *jeu(const struct fp_report *r)
{
	json_object *o = json_object_new_object(), *items = json_object_new_array(),
		    *iii = json_object_new_object(), *todo = json_object_new_array();
	struct eu_val vals[EU_NITEMS];
	char hint[160];
	size_t i;

	eu_resolve(r, vals);
	for (i = 0; i < EU_NITEMS; i++) {
		const struct eu_item *it = &eu_items[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "annex", json_object_new_string(it->annex));
		json_object_object_add(x, "ref", json_object_new_string(it->ref));
		json_object_object_add(x, "item", json_object_new_string(it->item));
		json_object_object_add(x, "symbol",
				       it->symbol[0] ? json_object_new_string(it->symbol) : NULL);
		json_object_object_add(x, "unit", json_object_new_string(it->unit));
		json_object_object_add(x, "key", it->key ? json_object_new_string(it->key) : NULL);
		json_object_object_add(x, "value",
				       !vals[i].from ? NULL
					       : vals[i].num
					       ? json_object_new_double(vals[i].v)
					       : json_object_new_string(vals[i].text));
		json_object_object_add(x, "from",
				       vals[i].from ? json_object_new_string(vals[i].from) : NULL);
		json_object_array_add(items, x);
		if (!vals[i].from) {
			eu_hint(it, hint, sizeof(hint));
			x = json_object_new_object();
			json_object_object_add(x, "annex", json_object_new_string(it->annex));
			json_object_object_add(x, "ref", json_object_new_string(it->ref));
			json_object_object_add(x, "item", json_object_new_string(it->item));
			json_object_object_add(x, "how", json_object_new_string(hint));
			json_object_array_add(todo, x);
		}
	}
	for (i = 0; i < sizeof(eu_iii) / sizeof(eu_iii[0]); i++) {
		double v;
		json_object_object_add(iii, eu_iii[i].name,
				       eu_ratio(vals, i, &v) ? json_object_new_double(v) : NULL);
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "annex_iii", iii);
	json_object_object_add(o, "to_complete", todo);
	json_object_object_add(o, "calendar_year", json_object_new_boolean(r->calendar_year));
	jeu_v1(r, o);
	return o;
}

/* The data-quality section: coverage, meter events, what the ratios
 * left out (measured while another of their terms was not). */
static json_object *jquality(const struct fp_report *r)
{
	json_object *dq = json_object_new_object(), *part = json_object_new_object(),
		    *left = json_object_new_object();
	const struct fp_window_sums *s = &r->total.s;
	const struct fp_kpis *k = &r->total.k;
	size_t i;

	json_object_object_add(dq, "coverage", jcov(k->coverage));
	json_object_object_add(dq, "resets", json_object_new_int64(r->events.resets));
	json_object_object_add(dq, "wraps", json_object_new_int64(r->events.wraps));
	json_object_object_add(dq, "gaps", json_object_new_int64(r->events.gaps));
	json_object_object_add(
		dq, "unmatched_e_dc_kwh",
		jnum_or_null(k->pue.defined, s->q[FP_Q_FACILITY].value - k->pue.num));
	json_object_object_add(dq, "unmatched_e_it_kwh",
			       jnum_or_null(k->pue.defined, s->q[FP_Q_IT].value - k->pue.den));
	for (i = 0; i < sizeof(ratio_list) / sizeof(ratio_list[0]); i++) {
		const struct fp_ratio *x = partial_ratio(k, i);
		json_object *lo;
		int j;
		if (!x)
			continue;
		json_object_object_add(part, ratio_list[i].name,
				       json_object_new_double(x->coverage));
		lo = json_object_new_object();
		for (j = 0; j < 2; j++) {
			double v = left_out(r, x, i, j == 0);
			if (!isnan(v))
				json_object_object_add(lo,
						       fp_qty_names[j == 0 ? ratio_list[i].num_q
									   : ratio_list[i].den_q],
						       json_object_new_double(v));
		}
		json_object_object_add(left, ratio_list[i].name, lo);
	}
	json_object_object_add(dq, "partial_coverage", part);
	json_object_object_add(dq, "left_out", left);
	json_object_object_add(dq, "pue_below_1",
			       json_object_new_boolean(k->pue.defined && k->pue.value < 1));
	return dq;
}

json_object *fp_report_json(const struct fp_report *r)
{
	json_object *o = json_object_new_object(), *months = json_object_new_array(), *eu;
	size_t i;

	json_object_object_add(o, "schema", json_object_new_string("footprint.report/1"));
	json_object_object_add(o, "site", json_object_new_string(r->site));
	json_object_object_add(o, "from", json_object_new_string(r->from));
	json_object_object_add(o, "to", json_object_new_string(r->to));
	json_object_object_add(o, "timezone", json_object_new_string(r->timezone));
	json_object_object_add(o, "hours", json_object_new_double(r->hours));
	json_object_object_add(o, "calendar_year", json_object_new_boolean(r->calendar_year));
	json_object_object_add(o, "pue_category", json_object_new_int(r->pue_category));
	json_object_object_add(o, "region",
			       r->region[0] ? json_object_new_string(r->region) : NULL);
	json_object_object_add(o, "total", jperiod(&r->total));
	for (i = 0; i < r->nmonths; i++) {
		json_object *m = jperiod(&r->months[i]);
		json_object_object_add(m, "month", json_object_new_string(r->months[i].label));
		json_object_array_add(months, m);
	}
	json_object_object_add(o, "months", months);
	json_object_object_add(o, "data_quality", jquality(r));
	eu = jeu(r);
	json_object_object_add(o, "eu_2024_1364", eu);
	json_object_object_add(o, "ewaste", r->has_inventory ? jewaste(r) : NULL);
	json_object_object_add(o, "basis", r->basis.loaded ? jbasis(r) : NULL);
	json_object_object_add(o, "ledger", json_object_new_boolean(!r->no_ledger));
	return o;
}

void fp_report_json_put(json_object *o, FILE *out)
{
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- CSV ---- */

static void csv_cell(FILE *o, bool defined, double v)
{
	if (defined)
		fprintf(o, ",%.10g", v);
	else
		fputc(',', o);
}

/* A text cell, quoted when it holds a comma, a quote or a line break. */
static void csv_str(FILE *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, o);
		return;
	}
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', o);
		fputc(*s, o);
	}
	fputc('"', o);
}

#define CSV_EW_COLS 14

/* One row; with inv, the e-waste cells too (empty when ew is NULL, so
 * that every row has the header's columns). */
/* The factor of method for the calendar year period p lies in (NULL when
 * it spans several years or has none). */
static const struct fp_ledger_factor *
period_factor(const struct fp_report *r, const struct fp_report_period *p, const char *method)
{
	time_t last = p->to - 1;
	struct tm a, b;

	localtime_r(&p->from, &a);
	localtime_r(&last, &b);
	return a.tm_year == b.tm_year ? factor_for(r, a.tm_year + 1900, method) : NULL;
}

static void csv_row(FILE *o, const char *site, const struct fp_report *r,
		    const struct fp_report_period *p, bool inv, const struct fp_ewaste *ew)
{
	const struct fp_ledger_factor *fl = period_factor(r, p, "location"),
				      *fm = period_factor(r, p, "market");
	const struct fp_window_sums *s = &p->s;
	const struct fp_kpis *k = &p->k;

	if (site) {
		csv_str(o, site);
		fputc(',', o);
	}
	fputs(p->label, o);
	csv_cell(o, s->q[FP_Q_FACILITY].present, s->q[FP_Q_FACILITY].value);
	csv_cell(o, s->q[FP_Q_IT].present, s->q[FP_Q_IT].value);
	csv_cell(o, k->pue.defined, k->pue.value);
	csv_cell(o, k->dcie.defined, k->dcie.value);
	csv_cell(o, k->ref.defined, k->ref.value);
	csv_cell(o, k->erf.defined, k->erf.value);
	csv_cell(o, k->wue_l_per_kwh.defined, k->wue_l_per_kwh.value);
	csv_cell(o, k->cue_location.defined, k->cue_location.value);
	csv_cell(o, k->co2e_location_defined, k->co2e_location_kg);
	csv_cell(o, k->co2e_market_defined, k->co2e_market_kg);
	csv_cell(o, true, k->e_ren_kwh);
	csv_cell(o, s->q[FP_Q_WATER].present, s->q[FP_Q_WATER].value);
	csv_cell(o, s->q[FP_Q_REUSE].present, s->q[FP_Q_REUSE].value);
	csv_cell(o, !isnan(k->coverage), k->coverage);
	csv_cell(o, fl != NULL, fl ? fl->kg_per_kwh : 0);
	csv_cell(o, fm != NULL, fm ? fm->kg_per_kwh : 0);
	csv_cell(o, r->basis.loaded, s->go_kwh);
	csv_cell(o, r->basis.loaded, s->ppa_kwh);
	if (ew) {
		csv_cell(o, true, ew->installed_units);
		csv_cell(o, true, ew->installed_kg);
		csv_cell(o, true, ew->commissioned_kg);
		csv_cell(o, true, ew->decommissioned_kg);
		csv_cell(o, true, ew->reused_kg + ew->refurbished_kg);
		csv_cell(o, true, ew->recycled_kg);
		csv_cell(o, true, ew->recycled_documented_kg);
		csv_cell(o, true, ew->disposed_kg);
		csv_cell(o, ew->documented_rate >= 0, ew->documented_rate);
		csv_cell(o, ew->reuse_rate >= 0, ew->reuse_rate);
		csv_cell(o, true, ew->projected_kg_12m);
		csv_cell(o, true, ew->embodied_co2e_kg);
		csv_cell(o, true, ew->beyond_lifespan_units);
		csv_cell(o, !isnan(ew->mean_age_y), ew->mean_age_y);
	} else if (inv) {
		int i;
		for (i = 0; i < CSV_EW_COLS; i++)
			csv_cell(o, false, 0);
	}
	fputc('\n', o);
}

void fp_report_csv_header(FILE *o, bool site, bool inv)
{
	if (site)
		fputs("site,", o);
	fputs("period,e_dc_kwh,e_it_kwh,pue,dcie,ref,erf,wue_l_per_kwh,cue_location,"
	      "co2e_location_kg,co2e_market_kg,e_ren_kwh,water_m3,e_reuse_kwh,coverage,"
	      "factor_location_kg_per_kwh,factor_market_kg_per_kwh,go_kwh,ppa_kwh",
	      o);
	if (inv)
		fputs(",installed_units,installed_kg,commissioned_kg,decommissioned_kg,reused_kg,"
		      "recycled_kg,recycled_documented_kg,disposed_kg,documented_rate,reuse_rate,"
		      "projected_kg_12m,embodied_co2e_kg,beyond_lifespan_units,mean_age_y",
		      o);
	fputc('\n', o);
}

void fp_report_csv_rows(const struct fp_report *r, FILE *o, const char *site, bool inv)
{
	size_t i;

	for (i = 0; i < r->nmonths; i++)
		csv_row(o, site, r, &r->months[i], inv,
			r->has_inventory && i < r->newm ? &r->ewm[i].e : NULL);
	csv_row(o, site, r, &r->total, inv,
		r->has_inventory && r->nrows ? &r->ew[r->nrows - 1].e : NULL);
}

/* ---- HTML: one self-contained file, inline CSS and SVG, no script ---- */

void fp_report_html_esc(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", o);
			break;
		case '<':
			fputs("&lt;", o);
			break;
		case '>':
			fputs("&gt;", o);
			break;
		case '"':
			fputs("&quot;", o);
			break;
		case '\'':
			fputs("&#39;", o);
			break;
		default:
			fputc(*s, o);
		}
	}
}

struct series {
	const char *name, *color;
	double v[400];
	bool defined[400];
};

/* A step of 1, 2 or 5 times a power of ten giving about five gridlines. */
static double nice_step(double max)
{
	double raw = max / 5, p = pow(10, floor(log10(raw))), m = raw / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* A bar chart over the months: gridlines, a labelled value axis (unit)
 * and month axis, a legend; with stacked, the series stack. */
static void svg_bars(FILE *o, const char *title, const char *unit, const struct fp_report *r,
		     const struct series *sr, size_t ns, bool stacked)
{
	const double W = 900, H = 320, L = 78, R = 12, T = 40, B = 78;
	size_t n = r->nmonths < 400 ? r->nmonths : 400, i, j, every;
	double max = 0, step, top, bw, y, ph = H - T - B;

	for (i = 0; i < n; i++) {
		double t = 0;
		for (j = 0; j < ns; j++)
			if (sr[j].defined[i])
				t = stacked ? t + fmax(sr[j].v[i], 0) : fmax(t, sr[j].v[i]);
		max = fmax(max, t);
	}
	if (!(max > 0) || !isfinite(max))
		max = 1;
	step = nice_step(max);
	top = ceil(max / step - 1e-9) * step;
	fprintf(o,
		"<figure><svg role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
		"preserveAspectRatio=\"xMinYMin meet\"><title>",
		W, H);
	fp_report_html_esc(o, title);
	fprintf(o, "</title><text x=\"%.0f\" y=\"20\" class=\"t\">", L);
	fp_report_html_esc(o, title);
	fputs("</text>", o);
	/* gridlines and the value axis */
	for (y = 0; y <= top + step / 2; y += step) {
		double py = H - B - y / top * ph;
		fprintf(o,
			"<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" class=\"g\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" class=\"l\" text-anchor=\"end\">%.6g</text>",
			L, py, W - R, py, L - 6, py + 4, y);
	}
	fprintf(o,
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>"
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>",
		L, T, L, H - B, L, H - B, W - R, H - B);
	fprintf(o,
		"<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"16\" class=\"at\" "
		"text-anchor=\"middle\">",
		-(T + ph / 2));
	fp_report_html_esc(o, unit);
	fprintf(o,
		"</text><text x=\"%.1f\" y=\"%.0f\" class=\"at\" text-anchor=\"middle\">Month</text>",
		L + (W - L - R) / 2, H - B + 40);
	bw = (W - L - R) / (double)(n ? n : 1);
	every = n > 24 ? (n + 11) / 12 : 1;
	for (i = 0; i < n; i++) {
		double base = H - B, gx = L + bw * (double)i + bw * 0.15, w = bw * 0.7;
		for (j = 0; j < ns; j++) {
			double h, bwj = stacked ? w : w / (double)ns, x;
			if (!sr[j].defined[i])
				continue;
			h = fmax(sr[j].v[i], 0) / top * ph;
			x = stacked ? gx : gx + bwj * (double)j;
			fprintf(o,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>%s %s: %.6g</title></rect>",
				x, (stacked ? base : H - B) - h, bwj, h, sr[j].color,
				r->months[i].label, sr[j].name, sr[j].v[i]);
			if (stacked)
				base -= h;
		}
		if (i % every == 0)
			fprintf(o,
				"<text x=\"%.1f\" y=\"%.0f\" class=\"l\" "
				"text-anchor=\"middle\">%s</text>",
				gx + w / 2, H - B + 18, r->months[i].label);
	}
	for (j = 0; j < ns; j++)
		fprintf(o,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.0f\" class=\"l\">%s</text>",
			L + 170 * (double)j, H - 20, sr[j].color, L + 18 + 170 * (double)j, H - 10,
			sr[j].name);
	fputs("</svg></figure>\n", o);
}

static void ewaste_chart(const struct fp_report *r, FILE *o)
{
	struct series *sr = fp_xcalloc(2, sizeof(*sr));
	size_t i, n = r->newm < 400 ? r->newm : 400;

	sr[0].name = "commissioned";
	sr[0].color = "#3465a4";
	sr[1].name = "decommissioned";
	sr[1].color = "#cc0000";
	for (i = 0; i < n; i++) {
		sr[0].v[i] = r->ewm[i].e.commissioned_kg;
		sr[1].v[i] = r->ewm[i].e.decommissioned_kg;
		sr[0].defined[i] = sr[1].defined[i] = true;
	}
	svg_bars(o, "Commissioned and decommissioned equipment by month", "kg", r, sr, 2, false);
	free(sr);
}

/* One ratio per month as a series. */
static void ratio_series(const struct fp_report *r, struct series *x, const char *name,
			 const char *color, size_t off)
{
	size_t i, n = r->nmonths < 400 ? r->nmonths : 400;

	memset(x, 0, sizeof(*x));
	x->name = name;
	x->color = color;
	for (i = 0; i < n; i++) {
		const struct fp_ratio *q = (const struct fp_ratio *)((const char *)&r->months[i].k +
								     off);
		x->v[i] = q->value;
		x->defined[i] = q->defined;
	}
}

/* The charts over the months: PUE, energy by role, renewable share,
 * Scope 2 emissions, WUE. */
static void html_charts(const struct fp_report *r, FILE *o)
{
	static const enum fp_qty qs[] = { FP_Q_IT, FP_Q_COOLING, FP_Q_LIGHTING, FP_Q_OTHER };
	static const char *const col[] = { "#3465a4", "#73d216", "#c4a000", "#888a85" };
	struct series *sr = fp_xcalloc(4, sizeof(*sr));
	size_t i, j, n = r->nmonths < 400 ? r->nmonths : 400;

	ratio_series(r, sr, "PUE", "#3465a4", offsetof(struct fp_kpis, pue));
	svg_bars(o, "PUE by month", "PUE (-)", r, sr, 1, false);
	memset(sr, 0, 4 * sizeof(*sr));
	for (j = 0; j < 4; j++) {
		sr[j].name = fp_qty_names[qs[j]];
		sr[j].color = col[j];
		for (i = 0; i < n; i++) {
			sr[j].v[i] = r->months[i].s.q[qs[j]].value;
			sr[j].defined[i] = r->months[i].s.q[qs[j]].present;
		}
	}
	svg_bars(o, "Energy by role and month", "energy (kWh)", r, sr, 4, true);
	ratio_series(r, sr, "REF", "#4e9a06", offsetof(struct fp_kpis, ref));
	svg_bars(o, "Renewable energy factor by month", "REF (share of E_DC)", r, sr, 1, false);
	memset(sr, 0, 2 * sizeof(*sr));
	sr[0].name = "location-based";
	sr[0].color = "#75507b";
	sr[1].name = "market-based";
	sr[1].color = "#f57900";
	for (i = 0; i < n; i++) {
		sr[0].v[i] = r->months[i].k.co2e_location_kg;
		sr[0].defined[i] = r->months[i].k.co2e_location_defined;
		sr[1].v[i] = r->months[i].k.co2e_market_kg;
		sr[1].defined[i] = r->months[i].k.co2e_market_defined;
	}
	svg_bars(o, "Scope 2 emissions by month", "CO2e (kg)", r, sr, 2, false);
	ratio_series(r, sr, "WUE", "#204a87", offsetof(struct fp_kpis, wue_l_per_kwh));
	svg_bars(o, "Water usage effectiveness by month", "WUE (L/kWh)", r, sr, 1, false);
	free(sr);
}

void fp_report_html_head(const struct fp_report *r, FILE *o)
{
	const struct fp_kpis *k = &r->total.k;
	char b1[64];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>Environmental report: ",
	      o);
	fp_report_html_esc(o, r->site);
	fputs("</title>\n<style>\n"
	      "*{box-sizing:border-box}\n"
	      "body{font-family:sans-serif;margin:2em auto;padding:0 1em;max-width:72em;color:#222;"
	      "line-height:1.35}\n"
	      ".tw{max-width:100%}\n"
	      "table{border-collapse:collapse;margin:1em 0;max-width:100%}\n"
	      "td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;"
	      "overflow-wrap:break-word}\n"
	      "th{background:#eee;text-align:left}"
	      ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	      "svg{display:block;max-width:100%;height:auto}\n"
	      ".t{font-size:15px;font-weight:bold}.l{font-size:12px}.at{font-size:13px}"
	      ".ax{stroke:#444}.g{stroke:#ddd}\n"
	      ".warn{background:#fee;border:1px solid #c00;padding:.5em}figure{margin:1em 0}\n"
	      "@page{size:A4;margin:15mm}\n"
	      "@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt}"
	      "h2{break-after:avoid}h3{break-after:avoid}"
	      "table,figure,tr{break-inside:avoid}td,th{padding:.15em .35em}"
	      "svg{max-height:80mm}}\n"
	      "</style></head><body>\n<h1>Environmental report: ",
	      o);
	fp_report_html_esc(o, r->site);
	fprintf(o, "</h1>\n<p>Period %s to %s inclusive (%.0f hours, time zone ", r->from, r->to,
		r->hours);
	fp_report_html_esc(o, r->timezone);
	fprintf(o, ")%s.",
		r->calendar_year ? ", a calendar year"
				 : "; not a calendar year: the ratios are interim figures");
	if (!r->no_ledger) {
		fprintf(o, " PUE category %d. Grid region ", r->pue_category);
		fp_report_html_esc(o, r->region[0] ? r->region : "(none configured)");
		fprintf(o, ". Data coverage %s.", fmt_pct(b1, sizeof(b1), k->coverage));
	}
	fputs("</p>\n", o);
	if (k->pue.defined && k->pue.value < 1)
		fputs("<p class=\"warn\">Data quality: PUE &lt; 1 (E_DC &lt; E_IT), a metering or "
		      "boundary error; reported as computed, not clamped.</p>\n",
		      o);
}

void fp_report_html_body(const struct fp_report *r, FILE *o)
{
	struct doc d = { o, true, 0 };

	if (!r->no_ledger)
		html_charts(r, o);
	doc_body(r, &d);
	fputs("</body></html>\n", o);
}

int fp_report_print(const struct fp_report *r, enum fp_report_format f, FILE *out)
{
	switch (f) {
	case FP_REPORT_MD:
		fp_report_md_head(r, out);
		fp_report_md_body(r, out);
		break;
	case FP_REPORT_JSON:
		fp_report_json_put(fp_report_json(r), out);
		break;
	case FP_REPORT_CSV:
		fp_report_csv_header(out, false, r->has_inventory);
		fp_report_csv_rows(r, out, NULL, r->has_inventory);
		break;
	case FP_REPORT_HTML:
		fp_report_html_head(r, out);
		fp_report_html_body(r, out);
		break;
	default:
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
