/* sn_collector.c - the SNMP collector at run time (net-snmp). */
#include "config.h"

#include "sn_collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "log.h"
#include "sched.h"
#include "util.h"

#define PDUS_MAX 10000 /* per poll: a walk that never ends is cut */

static const uint32_t sysuptime_oid[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };

struct sn_dev {
	struct fp_sn_collector *owner;
	const struct fp_sn_device_cfg *cfg;
	void *sess;
	struct fp_sn_state st;
	int64_t next_ns, backoff_ms;
	pthread_t thread;
	bool started;
	struct fp_complain lim;
	const char **told; /* per object (and one for none): the drop last logged */
	atomic_ullong polls, poll_errors, pdus, errors_timeout, errors_other, values_dropped,
		last_poll_ms;
	atomic_ullong wraps, resets, reboots;
};

struct fp_sn_collector {
	const struct fp_sn_config *sc;
	const struct fp_config *cfg;
	fp_push_fn push;
	void *arg;
	struct sn_dev *devs;
	size_t ndevs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
/* net-snmp's USM user list is one per process: v3 sessions are opened
 * and closed under this lock. */
static pthread_mutex_t usm_lock = PTHREAD_MUTEX_INITIALIZER;

/* net-snmp once per process: no config files, no persistent state, no
 * MIB files (OIDs are numeric), no logging of its own. */
static void lib_init(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, "/nonexistent");
	snmp_disable_log();
	/* without a handler net-snmp writes its messages to stderr */
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_EMERG);
	init_snmp("footprintd");
}

static void *collector_new(const void *cc, const struct fp_config *cfg, fp_push_fn push, void *arg)
{
	const struct fp_sn_config *sc = cc;
	struct fp_sn_collector *c = fp_xcalloc(1, sizeof(*c));
	size_t i;

	pthread_once(&lib_once, lib_init);
	c->sc = sc;
	c->cfg = cfg;
	c->push = push;
	c->arg = arg;
	c->ndevs = sc->ndevs;
	c->devs = fp_xcalloc(sc->ndevs ? sc->ndevs : 1, sizeof(*c->devs));
	for (i = 0; i < sc->ndevs; i++) {
		c->devs[i].owner = c;
		c->devs[i].cfg = &sc->devs[i];
		c->devs[i].told = fp_xcalloc(sc->devs[i].nobjs + 1, sizeof(*c->devs[i].told));
	}
	pthread_mutex_init(&c->lock, NULL);
	fp_cond_init_mono(&c->cond);
	return c;
}

static void set_v3(netsnmp_session *s, const struct fp_sn_device_cfg *d)
{
	s->securityName = d->user;
	s->securityNameLen = strlen(d->user);
	s->securityLevel = d->priv ? SNMP_SEC_LEVEL_AUTHPRIV
		: d->auth	   ? SNMP_SEC_LEVEL_AUTHNOPRIV
				   : SNMP_SEC_LEVEL_NOAUTH;
	if (d->context) {
		s->contextName = d->context;
		s->contextNameLen = strlen(d->context);
	}
	if (d->auth) {
		const oid *p = d->auth == FP_SN_AUTH_MD5 ? usmHMACMD5AuthProtocol
			: d->auth == FP_SN_AUTH_SHA	 ? usmHMACSHA1AuthProtocol
							 : usmHMAC192SHA256AuthProtocol;
		s->securityAuthProto = snmp_duplicate_objid(p, USM_AUTH_PROTO_SHA_LEN);
		s->securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
		s->securityAuthKeyLen = USM_AUTH_KU_LEN;
		generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
			    (const u_char *)d->auth_pass, strlen(d->auth_pass), s->securityAuthKey,
			    &s->securityAuthKeyLen);
	}
	if (d->priv) {
		const oid *p = d->priv == FP_SN_PRIV_DES ? usmDESPrivProtocol : usmAESPrivProtocol;
		s->securityPrivProto = snmp_duplicate_objid(p, USM_PRIV_PROTO_AES_LEN);
		s->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
		s->securityPrivKeyLen = USM_PRIV_KU_LEN;
		generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
			    (const u_char *)d->priv_pass, strlen(d->priv_pass), s->securityPrivKey,
			    &s->securityPrivKeyLen);
	}
}

static int sess_open(struct sn_dev *d)
{
	const struct fp_sn_device_cfg *dc = d->cfg;
	netsnmp_session s;
	char peer[320];
	int err = 0, serr = 0;
	char *msg = NULL;

	if (d->sess)
		return 0;
	snmp_sess_init(&s);
	snprintf(peer, sizeof(peer), strchr(dc->host, ':') ? "%s:[%s]:%d" : "%s:%s:%d",
		 dc->tcp ? "tcp" : "udp", dc->host, dc->port);
	s.peername = peer;
	s.timeout = (long)dc->timeout_ms * 1000;
	s.retries = dc->retries;
	if (dc->version == 3) {
		s.version = SNMP_VERSION_3;
		set_v3(&s, dc);
	} else {
		s.version = SNMP_VERSION_2c;
		s.community = (u_char *)dc->community;
		s.community_len = strlen(dc->community);
	}
	if (dc->version == 3)
		pthread_mutex_lock(&usm_lock);
	d->sess = snmp_sess_open(&s);
	if (dc->version == 3)
		pthread_mutex_unlock(&usm_lock);
	if (s.securityAuthProto)
		free(s.securityAuthProto);
	if (s.securityPrivProto)
		free(s.securityPrivProto);
	memset(s.securityAuthKey, 0, sizeof(s.securityAuthKey));
	memset(s.securityPrivKey, 0, sizeof(s.securityPrivKey));
	if (d->sess)
		return 0;
	snmp_error(&s, &err, &serr, &msg);
	fp_complain(&d->lim, LOG_WARNING, "snmp[%s]: cannot open a session to %s: %s", dc->name,
		    dc->url, msg ? msg : "unknown error");
	free(msg);
	return -EIO;
}

/* Closes the session.  A v3 session also takes its user out of
 * net-snmp's USM list: net-snmp keeps the keys of the first session of a
 * (engine, user) and gives them to every later session of the same pair,
 * so after a reload with a corrected passphrase the old, wrong keys would
 * still be used.  Called when no other thread of the collector runs. */
static void sess_close(struct sn_dev *d)
{
	netsnmp_session *ss;
	struct usmUser *u = NULL;

	if (!d->sess)
		return;
	if (d->cfg->version != 3) {
		snmp_sess_close(d->sess);
		d->sess = NULL;
		return;
	}
	pthread_mutex_lock(&usm_lock);
	ss = snmp_sess_session(d->sess);
	if (ss && ss->securityEngineIDLen)
		u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, d->cfg->user);
	if (u) {
		usm_remove_user(u);
		usm_free_user(u);
	}
	snmp_sess_close(d->sess);
	d->sess = NULL;
	pthread_mutex_unlock(&usm_lock);
}

/* Sends req (always freed) and waits for its answer: 0 with *resp, else
 * -ETIMEDOUT, -EPROTO (an error status) or -EIO. */
static int request(struct sn_dev *d, netsnmp_pdu *req, netsnmp_pdu **resp)
{
	const char *name = d->cfg->name;
	int st;

	*resp = NULL;
	atomic_fetch_add(&d->pdus, 1);
	st = snmp_sess_synch_response(d->sess, req, resp);
	if (st == STAT_SUCCESS && (*resp)->errstat == SNMP_ERR_NOERROR)
		return 0;
	if (st == STAT_TIMEOUT) {
		atomic_fetch_add(&d->errors_timeout, 1);
		fp_complain(&d->lim, LOG_WARNING,
			    "snmp[%s]: no answer from %s within %lld ms (%d retries)%s", name,
			    d->cfg->url, (long long)d->cfg->timeout_ms, d->cfg->retries,
			    d->cfg->priv ? " (or the agent cannot decrypt the request: check the "
					   "passphrase of priv_password_file)"
					 : "");
		return -ETIMEDOUT;
	}
	atomic_fetch_add(&d->errors_other, 1);
	if (st == STAT_SUCCESS) {
		fp_complain(&d->lim, LOG_WARNING, "snmp[%s]: the agent answered %s (index %ld)",
			    name, snmp_errstring((int)(*resp)->errstat), (*resp)->errindex);
		snmp_free_pdu(*resp);
		*resp = NULL;
		return -EPROTO;
	} else {
		int err = 0, serr = 0;
		char *msg = NULL;
		snmp_sess_error(d->sess, &err, &serr, &msg);
		fp_complain(&d->lim, LOG_WARNING, "snmp[%s]: request failed: %s", name,
			    msg ? msg : "unknown error");
		free(msg);
	}
	if (*resp)
		snmp_free_pdu(*resp);
	*resp = NULL;
	return -EIO;
}

/* A net-snmp varbind as the decoder's (oidbuf holds its OID).  False
 * when its OID has more than FP_SN_OID_MAX arcs: cut, it could pass for
 * another OID, so the caller drops it. */
static bool to_vb(const netsnmp_variable_list *v, uint32_t *oidbuf, struct fp_sn_vb *vb)
{
	size_t i, n = v->name_length < FP_SN_OID_MAX ? v->name_length : FP_SN_OID_MAX;

	memset(vb, 0, sizeof(*vb));
	for (i = 0; i < n; i++)
		oidbuf[i] = (uint32_t)v->name[i];
	vb->oid = oidbuf;
	vb->n = n;
	vb->type = v->type;
	switch (v->type) {
	case ASN_INTEGER:
		vb->i = *v->val.integer;
		break;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		vb->u = (uint64_t)(unsigned long)*v->val.integer & 0xffffffffULL;
		break;
	case ASN_COUNTER64:
		vb->u = ((uint64_t)v->val.counter64->high << 32) |
			(v->val.counter64->low & 0xffffffffUL);
		break;
	case ASN_OCTET_STR:
		vb->s = (const char *)v->val.string;
		vb->slen = v->val_len;
		break;
	default:
		break;
	}
	return v->name_length <= FP_SN_OID_MAX;
}

/* A value of object k (nobjs: of none) dropped.  Logged when its reason
 * is not the one last logged for that object, so that every device's
 * every kind of bad value is told once, and a value that stays bad is
 * not told at every poll (values_dropped counts them all). */
static void dropped(struct sn_dev *d, size_t k, const struct fp_sn_vb *vb, const char *why)
{
	char o[256];

	atomic_fetch_add(&d->values_dropped, 1);
	if (k > d->cfg->nobjs)
		k = d->cfg->nobjs;
	if (d->told[k] == why)
		return;
	d->told[k] = why;
	fp_sn_oid_format(vb->oid, vb->n, o, sizeof(o));
	fp_log(LOG_WARNING, "snmp[%s]: %s: %s (value dropped)", d->cfg->name, o, why);
}

static void add_oid(netsnmp_pdu *pdu, const uint32_t *a, size_t n)
{
	oid o[FP_SN_OID_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		o[i] = a[i];
	snmp_add_null_var(pdu, o, n);
}

/* The GETs of the scalars (and sysUpTime.0). */
static int get_scalars(struct sn_dev *d, struct fp_sn_poll *p)
{
	const struct fp_sn_device_cfg *dc = d->cfg;
	size_t i = 0, k, inpdu;
	bool up = dc->counters;

	while (up || i < dc->nobjs) {
		netsnmp_pdu *req = snmp_pdu_create(SNMP_MSG_GET), *resp;
		netsnmp_variable_list *v;
		int rc;
		inpdu = 0;
		if (up) {
			add_oid(req, sysuptime_oid, 9);
			inpdu++;
			up = false;
		}
		for (; i < dc->nobjs && inpdu < (size_t)dc->max_varbinds; i++)
			if (!dc->objs[i].index) {
				add_oid(req, dc->objs[i].oid.a, dc->objs[i].oid.n);
				inpdu++;
			}
		if (!inpdu) {
			snmp_free_pdu(req);
			break;
		}
		if ((rc = request(d, req, &resp)) < 0)
			return rc;
		for (v = resp->variables; v; v = v->next_variable) {
			uint32_t ob[FP_SN_OID_MAX];
			struct fp_sn_vb vb;
			const char *why;
			int m;
			if (!to_vb(v, ob, &vb)) {
				dropped(d, dc->nobjs, &vb, "an OID of more than 64 arcs");
				continue;
			}
			if (!fp_sn_oid_cmp(vb.oid, vb.n, sysuptime_oid, 9)) {
				if (vb.type == FP_SN_ASN_TIMETICKS)
					fp_sn_poll_uptime(p, (uint32_t)vb.u);
				continue;
			}
			m = fp_sn_match(dc->objs, dc->nobjs, vb.oid, vb.n);
			k = m < 0 ? dc->nobjs : (size_t)m;
			if (fp_sn_poll_add(p, k, &vb, &why) < 0)
				dropped(d, k, &vb, why);
		}
		snmp_free_pdu(resp);
	}
	return 0;
}

struct column {
	size_t obj;
	uint32_t cur[FP_SN_OID_MAX];
	size_t n;
	int rows;
	bool done;
};

/* Reads one GETBULK answer into the columns; returns how many remain. */
static size_t walk_answer(struct sn_dev *d, struct fp_sn_poll *p, struct column *cols, size_t nc,
			  const size_t *act, size_t na, netsnmp_pdu *resp)
{
	const struct fp_sn_device_cfg *dc = d->cfg;
	netsnmp_variable_list *v;
	size_t i = 0, j, left = 0;

	for (v = resp->variables; v; v = v->next_variable, i++) {
		struct column *c = &cols[act[i % na]];
		const struct fp_sn_object *o = &dc->objs[c->obj];
		uint32_t ob[FP_SN_OID_MAX];
		struct fp_sn_vb vb;
		const char *why;
		if (c->done)
			continue;
		if (!to_vb(v, ob, &vb)) {
			dropped(d, c->obj, &vb,
				"an OID of more than 64 arcs: rest of the column ignored");
			fp_sn_poll_incomplete(p, c->obj);
			c->done = true;
			continue;
		}
		if (vb.type == FP_SN_ENDOFMIBVIEW || !fp_sn_oid_under(&o->oid, vb.oid, vb.n)) {
			c->done = true;
			continue;
		}
		if (fp_sn_oid_cmp(vb.oid, vb.n, c->cur, c->n) <= 0) {
			FP_LOG_LIMITED("snmp walk", LOG_WARNING,
				       "snmp[%s]: the agent's walk does not advance (column of "
				       "line %d): rest of the column ignored",
				       dc->name, o->line);
			fp_sn_poll_incomplete(p, c->obj);
			c->done = true;
			continue;
		}
		if (c->rows >= dc->max_rows) { /* a row past the last one allowed */
			FP_LOG_LIMITED(
				"snmp rows", LOG_WARNING,
				"snmp[%s]: the column of line %d has more than max_rows = %d "
				"rows: the rest is ignored",
				dc->name, o->line, dc->max_rows);
			fp_sn_poll_incomplete(p, c->obj);
			c->done = true;
			continue;
		}
		memcpy(c->cur, vb.oid, vb.n * sizeof(*vb.oid));
		c->n = vb.n;
		c->rows++;
		if (fp_sn_poll_add(p, c->obj, &vb, &why) < 0)
			dropped(d, c->obj, &vb, why);
	}
	if (i == 0)
		for (j = 0; j < na; j++)
			cols[act[j]].done = true;
	for (j = 0; j < nc; j++)
		left += !cols[j].done;
	return left;
}

/* One GETBULK walk of up to max_varbinds columns together. */
static int walk(struct sn_dev *d, struct fp_sn_poll *p, struct column *cols, size_t nc,
		size_t *budget)
{
	size_t *act = fp_xcalloc(nc, sizeof(*act)), na, j;
	int rc = 0;

	for (;;) {
		netsnmp_pdu *req, *resp;
		for (na = 0, j = 0; j < nc; j++)
			if (!cols[j].done)
				act[na++] = j;
		if (!na)
			break;
		if (!(*budget)--) {
			for (j = 0; j < na; j++)
				fp_sn_poll_incomplete(p, cols[act[j]].obj);
			break;
		}
		req = snmp_pdu_create(SNMP_MSG_GETBULK);
		req->non_repeaters = 0;
		req->max_repetitions = d->cfg->max_reps;
		for (j = 0; j < na; j++)
			add_oid(req, cols[act[j]].cur, cols[act[j]].n);
		if ((rc = request(d, req, &resp)) < 0) {
			for (j = 0; j < na; j++)
				fp_sn_poll_incomplete(p, cols[act[j]].obj);
			break;
		}
		walk_answer(d, p, cols, nc, act, na, resp);
		snmp_free_pdu(resp);
	}
	free(act);
	return rc;
}

static int walk_columns(struct sn_dev *d, struct fp_sn_poll *p)
{
	const struct fp_sn_device_cfg *dc = d->cfg;
	struct column *cols = fp_xcalloc(dc->nobjs ? dc->nobjs : 1, sizeof(*cols));
	size_t nc = 0, i, budget = PDUS_MAX;
	int rc = 0;

	for (i = 0; i < dc->nobjs; i++) {
		if (!dc->objs[i].index)
			continue;
		cols[nc].obj = i;
		memcpy(cols[nc].cur, dc->objs[i].oid.a, dc->objs[i].oid.n * sizeof(uint32_t));
		cols[nc].n = dc->objs[i].oid.n;
		nc++;
	}
	for (i = 0; i < nc && rc == 0; i += (size_t)dc->max_varbinds) {
		size_t m = nc - i < (size_t)dc->max_varbinds ? nc - i : (size_t)dc->max_varbinds;
		rc = walk(d, p, cols + i, m, &budget);
	}
	free(cols);
	return rc;
}

/* Polls one device; appends its points to out.  Returns true if it
 * answered. */
static bool poll_dev(struct sn_dev *d, struct fp_batch *out)
{
	const struct fp_sn_device_cfg *dc = d->cfg;
	int64_t t0 = fp_mono_ns(), ts = fp_real_ns();
	struct fp_sn_poll *p;
	struct fp_sn_devinfo di = { d->owner->cfg->site, dc->name, dc->role,
				    dc->channel_role,	 dc->tags, dc->ntags };
	int rc;

	atomic_fetch_add(&d->polls, 1);
	if (sess_open(d) < 0) {
		atomic_fetch_add(&d->poll_errors, 1);
		return false;
	}
	p = fp_sn_poll_new(dc->objs, dc->nobjs);
	rc = get_scalars(d, p);
	if (rc == 0)
		rc = walk_columns(d, p);
	else
		for (size_t k = 0; k < dc->nobjs; k++)
			fp_sn_poll_incomplete(p, k);
	fp_sn_poll_points(p, &d->st, &di, ts, t0, out);
	fp_sn_poll_free(p);
	atomic_store(&d->wraps, d->st.wraps);
	atomic_store(&d->resets, d->st.resets);
	atomic_store(&d->reboots, d->st.reboots);
	if (rc == 0)
		fp_release(&d->lim, LOG_NOTICE, "snmp[%s]: %s answers again", dc->name, dc->url);
	else
		atomic_fetch_add(&d->poll_errors, 1);
	atomic_store(&d->last_poll_ms, (unsigned long long)((fp_mono_ns() - t0) / 1000000));
	return rc == 0;
}

static void schedule(struct fp_sn_collector *c, struct sn_dev *d, bool ok)
{
	int64_t iv = d->cfg->interval_ms, now = fp_mono_ns();

	if (ok) {
		d->backoff_ms = 0;
		d->next_ns = fp_sched_deadline(now, fp_real_ns(), iv * 1000000LL,
					       c->cfg->round_interval);
		return;
	}
	d->backoff_ms = d->backoff_ms ? d->backoff_ms * 2 : iv;
	if (d->backoff_ms > 4 * iv)
		d->backoff_ms = 4 * iv;
	d->next_ns = now + d->backoff_ms * 1000000LL;
}

static void *dev_thread(void *arg)
{
	struct sn_dev *d = arg;
	struct fp_sn_collector *c = d->owner;

	d->next_ns = fp_sched_deadline(fp_mono_ns(), fp_real_ns(), d->cfg->interval_ms * 1000000LL,
				       c->cfg->round_interval);
	for (;;) {
		struct timespec dl;
		struct fp_batch b;
		bool stop, ok;

		dl.tv_sec = (time_t)(d->next_ns / 1000000000LL);
		dl.tv_nsec = (long)(d->next_ns % 1000000000LL);
		pthread_mutex_lock(&c->lock);
		while (!c->stopping && fp_mono_ns() < d->next_ns)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
				break;
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		fp_batch_init(&b);
		ok = poll_dev(d, &b);
		if (b.n)
			c->push(c->arg, &b);
		fp_batch_reset(&b);
		schedule(c, d, ok);
	}
	return NULL; /* the session is closed by collector_free */
}

static int collector_start(void *inst)
{
	struct fp_sn_collector *c = inst;
	size_t i;

	for (i = 0; i < c->ndevs; i++) {
		int rc = -pthread_create(&c->devs[i].thread, NULL, dev_thread, &c->devs[i]);
		if (rc < 0) {
			fp_log(LOG_ERR, "snmp[%s]: cannot start a thread: %s", c->devs[i].cfg->name,
			       strerror(-rc));
			return rc;
		}
		c->devs[i].started = true;
	}
	return 0;
}

static void collector_gather(void *inst, struct fp_batch *out)
{
	struct fp_sn_collector *c = inst;
	size_t i;

	for (i = 0; i < c->ndevs; i++) {
		poll_dev(&c->devs[i], out);
		sess_close(&c->devs[i]);
	}
}

static void collector_stop(void *inst)
{
	struct fp_sn_collector *c = inst;
	size_t i;

	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < c->ndevs; i++) {
		if (c->devs[i].started)
			pthread_join(c->devs[i].thread, NULL);
		c->devs[i].started = false;
	}
}

static void collector_metrics(void *inst, struct fp_batch *b, const char *site, const char *host,
			      int64_t ts_ns)
{
	struct fp_sn_collector *c = inst;
	size_t i;

	for (i = 0; i < c->ndevs; i++) {
		struct sn_dev *d = &c->devs[i];
		struct fp_point *p = fp_batch_self(b, ts_ns, site, host, "snmp/%s", d->cfg->name);
		fp_point_int(p, "polls", (int64_t)atomic_load(&d->polls));
		fp_point_int(p, "poll_errors", (int64_t)atomic_load(&d->poll_errors));
		fp_point_int(p, "requests", (int64_t)atomic_load(&d->pdus));
		fp_point_int(p, "errors_timeout", (int64_t)atomic_load(&d->errors_timeout));
		fp_point_int(p, "errors_other", (int64_t)atomic_load(&d->errors_other));
		fp_point_int(p, "values_dropped", (int64_t)atomic_load(&d->values_dropped));
		fp_point_int(p, "counter_wraps", (int64_t)atomic_load(&d->wraps));
		fp_point_int(p, "counter_resets", (int64_t)atomic_load(&d->resets));
		fp_point_int(p, "reboots", (int64_t)atomic_load(&d->reboots));
		fp_point_int(p, "last_poll_ms", (int64_t)atomic_load(&d->last_poll_ms));
	}
}

static void collector_free(void *inst)
{
	struct fp_sn_collector *c = inst;
	size_t i;

	if (!c)
		return;
	collector_stop(c);
	for (i = 0; i < c->ndevs; i++) {
		sess_close(&c->devs[i]);
		fp_sn_state_free(&c->devs[i].st);
		free(c->devs[i].told);
	}
	free(c->devs);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

const struct fp_collector_ops fp_snmp_collector = {
	.group = "snmp",
	.parse = fp_sn_config_parse,
	.free_config = fp_sn_config_free,
	.describe = fp_sn_config_describe,
	.create = collector_new,
	.start = collector_start,
	.gather = collector_gather,
	.stop = collector_stop,
	.metrics = collector_metrics,
	.destroy = collector_free,
	.status_field = "polls",
	.status_what = "SNMP polls",
	.status_failed = "poll_errors",
};
