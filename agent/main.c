/* main.c - footprintd: command line, signals and the main loop.
 * Only this file exits. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "collector.h"
#include "conf.h"
#include "indicators.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/footprint/footprintd.conf"
#define RELOAD_DRAIN_MS 1000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: footprintd [-c FILE] [OPTIONS]\n"
		"Site energy and e-waste monitoring agent.\n\n"
		"  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ";\n"
		"                       without it, the embedded defaults)\n"
		"      --check-config   validate the configuration, print every problem\n"
		"                       as FILE:LINE: key: reason, exit 0 or 78\n"
		"      --test           gather once, print line protocol to stdout,\n"
		"                       write no output; exit 1 when a device produced\n"
		"                       nothing (named on stderr)\n"
		"      --test-wait SEC  with --test, listen SEC seconds for pushed data;\n"
		"                       exit 1 when a subscription got nothing\n"
		"      --once           gather once, write the outputs, exit (1 when\n"
		"                       points could not be written)\n"
		"  -v, --verbose        more detail (debug logging; with --check-config,\n"
		"                       the effective settings)\n"
		"  -V, --version        print the version and exit\n"
		"  -h, --help           print this help and exit\n\n"
		"Signals: SIGHUP reloads the configuration (a bad one is refused);\n"
		"SIGTERM and SIGINT flush the outputs and exit 0.\n"
		"Exit status: 0 done, 1 failed (start-up, --test, --once), 64 usage\n"
		"error, 78 configuration error.\n"
		"See footprintd(8) and footprintd.conf(5).\n");
}

/* Loads path (or the defaults when path is NULL) into c; prints problems.
 * test_mode is set before the plugins parse their groups. */
static int load(struct fp_config *c, const char *path, bool to_stderr_plain, bool test_mode)
{
	struct fp_cfg_errors errs = { 0 };
	size_t i;
	int rc;

	fp_config_defaults(c);
	c->test_mode = test_mode;
	rc = path ? fp_config_load(c, path, &errs) : 0;
	if (rc == 0)
		rc = fp_config_check_system(c, &errs);
	for (i = 0; i < errs.n; i++) {
		if (to_stderr_plain)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		else
			fp_log(LOG_ERR, "%s", errs.msgs[i]);
	}
	fp_cfg_errors_reset(&errs);
	if (rc < 0)
		fp_config_free(c);
	return rc;
}

static void print_settings(const struct fp_config *c)
{
	size_t i;

	printf("agent.site = \"%s\"\nagent.hostname = \"%s\"\nagent.interval = %lldms\n"
	       "agent.round_interval = %s\nagent.state_dir = \"%s\"\nagent.timezone = \"%s\"\n"
	       "agent.queue_max = %llu\nagent.self_metrics = %s\nagent.shutdown_timeout = %lldms\n",
	       c->site, c->hostname, (long long)c->interval_ms,
	       c->round_interval ? "true" : "false", c->state_dir, c->timezone,
	       (unsigned long long)c->queue_max, c->self_metrics ? "true" : "false",
	       (long long)c->shutdown_timeout_ms);
	printf("agent.timestamp_min = %lld (s since the epoch)\nagent.timestamp_ahead = %llds\n"
	       "agent.log_ratelimit_burst = %u\nagent.log_ratelimit_interval = %lldms\n",
	       (long long)c->time_window.min_s, (long long)c->time_window.ahead_s, c->log_burst,
	       (long long)c->log_interval_ms);
	for (i = 0; i < c->noutputs; i++) {
		const struct fp_output_cfg *o = &c->outputs[i];
		size_t k, nth = 0;

		for (k = 0; k < i; k++)
			nth += c->outputs[k].ops == o->ops;
		printf("outputs.%s[%zu]: name=\"%s\"", o->ops->type, nth, o->name);
		o->ops->describe(o->oc, stdout);
	}
	for (i = 0; i < c->ncollectors; i++)
		c->collectors[i].ops->describe(c->collectors[i].cc, stdout);
	fp_indicators_describe(c->indicators, stdout);
}

/* Windows align to the calendar of agent.timezone: the process's TZ.
 * Only called while no other thread runs (start-up, between the old and
 * the new agent on reload). */
static void apply_timezone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int run_loop(struct fp_config **cfgp, const char *path)
{
	struct fp_agent *a;
	sigset_t set;
	int64_t wd_ns = fp_notify_watchdog_ns(), wd_next;
	char status[200];

	a = fp_agent_new(*cfgp, false);
	if (!a || fp_agent_start(a, false) < 0) {
		fp_agent_free(a);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	fp_log(LOG_INFO, "agent: started (site %s, interval %lldms, %zu outputs)", (*cfgp)->site,
	       (long long)(*cfgp)->interval_ms, a->noutputs);
	fp_notify("READY=1\nSTATUS=started");
	wd_next = fp_mono_ns() + wd_ns;
	for (;;) {
		int64_t next = fp_agent_run_due(a), now = fp_mono_ns(), wait;
		struct timespec ts;
		int sig;

		if (wd_ns && now >= wd_next) {
			fp_agent_status(a, status, sizeof(status));
			fp_notify("WATCHDOG=1\nSTATUS=%s", status);
			wd_next = now + wd_ns;
		}
		if (wd_ns && wd_next < next)
			next = wd_next;
		wait = next - now;
		if (wait < 0)
			wait = 0;
		if (wait > 1000000000LL)
			wait = 1000000000LL;
		ts.tv_sec = (time_t)(wait / 1000000000LL);
		ts.tv_nsec = (long)(wait % 1000000000LL);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig < 0)
			continue; /* EAGAIN: timeout; EINTR */
		if (sig == SIGHUP) {
			struct fp_config *nc = fp_xcalloc(1, sizeof(*nc));
			struct fp_agent *na;

			fp_notify("RELOADING=1");
			fp_log(LOG_NOTICE, "agent: SIGHUP: reloading %s",
			       path ? path : "(defaults)");
			if (load(nc, path, false, false) < 0) {
				fp_log(LOG_ERR,
				       "agent: the new configuration has errors; "
				       "keeping the running one");
				free(nc);
				fp_notify("READY=1\nSTATUS=reload refused: configuration errors");
				continue;
			}
			fp_log_set_level(nc->log_level);
			/* The outputs of both configs may share files and spools:
			 * the old ones stop first (briefly: a spool keeps what is
			 * not delivered), then the new ones start; if they cannot,
			 * the old configuration is started again. */
			fp_agent_stop(a, RELOAD_DRAIN_MS);
			fp_agent_free(a);
			apply_timezone(nc->timezone);
			na = fp_agent_new(nc, false);
			if (na && fp_agent_start(na, false) < 0) {
				fp_agent_free(na);
				na = NULL;
			}
			if (!na) {
				fp_log(LOG_ERR,
				       "agent: the new configuration cannot start; "
				       "going back to the running one");
				fp_config_free(nc);
				free(nc);
				fp_log_set_level((*cfgp)->log_level);
				apply_timezone((*cfgp)->timezone);
				a = fp_agent_new(*cfgp, false);
				if (!a || fp_agent_start(a, false) < 0) {
					fp_log(LOG_CRIT,
					       "agent: the previous configuration cannot "
					       "start again either; exiting");
					return 1;
				}
				fp_notify("READY=1\nSTATUS=reload refused: start-up failed");
				continue;
			}
			fp_config_free(*cfgp);
			free(*cfgp);
			*cfgp = nc;
			a = na;
			fp_log(LOG_NOTICE, "agent: configuration reloaded");
			fp_notify("READY=1\nSTATUS=configuration reloaded");
			continue;
		}
		fp_log(LOG_INFO, "agent: %s: flushing and stopping", strsignal(sig));
		fp_notify("STOPPING=1");
		break;
	}
	fp_agent_free(a);
	fp_log(LOG_INFO, "agent: stopped");
	return 0;
}

struct options {
	const char *path;
	bool check, test, once;
	int64_t test_wait;
	int verbose;
};

/* Reads the command line into o: -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 256, OPT_TEST, OPT_TEST_WAIT, OPT_ONCE };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "test", no_argument, NULL, OPT_TEST },
		{ "test-wait", required_argument, NULL, OPT_TEST_WAIT },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->path = optarg;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case OPT_TEST:
			o->test = true;
			break;
		case OPT_TEST_WAIT:
			if (fp_parse_int64(optarg, 0, 86400, &o->test_wait) < 0) {
				fprintf(stderr,
					"footprintd: --test-wait: '%s' is not a number of "
					"seconds (0-86400)\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("footprintd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'footprintd --help'.\n");
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "footprintd: unexpected argument '%s'\nTry 'footprintd --help'.\n",
			argv[optind]);
		return EX_USAGE;
	}
	if ((o->check + o->test + o->once) > 1) {
		fprintf(stderr,
			"footprintd: --check-config, --test and --once exclude each other\n");
		return EX_USAGE;
	}
	if (o->test_wait > 0 && !o->test) {
		fprintf(stderr, "footprintd: --test-wait goes with --test\n");
		return EX_USAGE;
	}
	if (!o->path && access(DEFAULT_CONFIG, F_OK) == 0)
		o->path = DEFAULT_CONFIG;
	return -1;
}

/* The points the outputs of a stopped agent had to drop. */
static int64_t points_lost(struct fp_agent *a, const struct fp_config *cfg)
{
	struct fp_batch b;
	int64_t lost = 0;
	size_t i;

	fp_batch_init(&b);
	for (i = 0; i < a->noutputs; i++) {
		const struct fp_field *f;
		fp_output_metrics(a->outputs[i], &b, cfg->site, cfg->hostname, 0);
		f = fp_point_field(&b.pts[b.n - 1], "points_dropped");
		if (f && f->type == FP_INT)
			lost += f->v.i;
	}
	fp_batch_reset(&b);
	return lost;
}

/* --test: the devices of the collectors that gather that produced
 * nothing in this gather (their status_failed self-metric counts a poll
 * that read nothing), each named on stderr.  Returns their number. */
static size_t silent_devices(struct fp_agent *a, const struct fp_config *cfg)
{
	struct fp_batch b;
	size_t i, k, n = 0;

	fp_batch_init(&b);
	for (i = 0; i < a->ncollectors; i++) {
		const struct fp_collector_ops *ops = a->collectors[i].ops;
		if (!ops->gather || !ops->status_failed)
			continue;
		fp_batch_reset(&b);
		ops->metrics(a->collectors[i].inst, &b, cfg->site, cfg->hostname, 0);
		for (k = 0; k < b.n; k++) {
			const struct fp_field *f = fp_point_field(&b.pts[k], ops->status_failed);
			const char *who = fp_point_tag_value(&b.pts[k], "component");
			if (!f || f->type != FP_INT || f->v.i <= 0)
				continue;
			n++;
			fprintf(stderr,
				"footprintd: --test: %s produced nothing (see the warnings "
				"above)\n",
				who ? who : ops->group);
		}
	}
	fp_batch_reset(&b);
	return n;
}

/* --test --test-wait: the sources of the collectors that push (an MQTT
 * subscription) that gave nothing while it listened, each named on stderr
 * by its collector.  Returns the number that make --test fail. */
static size_t silent_sources(struct fp_agent *a, int64_t waited_s)
{
	size_t i, n = 0;

	for (i = 0; i < a->ncollectors; i++) {
		const struct fp_collector_ops *ops = a->collectors[i].ops;
		if (!ops->gather && ops->test_silent)
			n += ops->test_silent(a->collectors[i].inst, stderr, waited_s);
	}
	return n;
}

/* --test (gather once, print) and --once (gather once, write, drain). */
static int run_once(struct fp_config *cfg, const struct options *o, const sigset_t *set)
{
	int64_t test_wait = o->test_wait;
	struct fp_agent *a = fp_agent_new(cfg, o->test);
	struct fp_batch b;
	bool listened = false;
	int rc = 0;

	if (!a)
		return 1;
	if (test_wait > 0 && fp_agent_start(a, true) == 0) {
		/* Push collectors print what arrives meanwhile. */
		struct timespec ts = { (time_t)test_wait, 0 };
		if (sigtimedwait(set, NULL, &ts) > 0)
			test_wait = 0;
		fp_agent_stop(a, 0);
		listened = test_wait > 0; /* the whole window, not cut by a signal */
	}
	fp_batch_init(&b);
	fp_agent_gather(a, &b);
	fp_agent_dispatch(a, &b);
	fp_batch_reset(&b);
	if (o->test && silent_devices(a, cfg) > 0)
		rc = 1;
	if (listened && silent_sources(a, test_wait) > 0)
		rc = 1;
	/* after the dispatch: they count the points just printed or sent */
	fp_agent_self_metrics(a, &b);
	fp_agent_dispatch(a, &b);
	fp_batch_reset(&b);
	if (o->once) {
		/* Drained (or given up at shutdown_timeout): exit 1 when an
		 * output dropped points (a spooled point is kept). */
		int64_t lost;
		fp_agent_stop(a, cfg->shutdown_timeout_ms);
		lost = points_lost(a, cfg);
		if (lost > 0) {
			fp_log(LOG_ERR, "--once: %lld points could not be written",
			       (long long)lost);
			rc = 1;
		}
	}
	fp_agent_free(a);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct fp_config *cfg;
	sigset_t set;
	int rc;

	fp_log_init(LOG_INFO);
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	cfg = fp_xcalloc(1, sizeof(*cfg));
	if (load(cfg, o.path, o.check, o.test) < 0) {
		free(cfg);
		if (!o.check)
			fp_log(LOG_ERR, "agent: not started: the configuration has errors");
		return EX_CONFIG;
	}
	fp_log_set_level(o.verbose ? LOG_DEBUG : cfg->log_level);
	if (o.check) {
		if (o.verbose)
			print_settings(cfg);
		printf("%s: configuration OK\n", o.path ? o.path : "(embedded defaults)");
		fp_config_free(cfg);
		free(cfg);
		return 0;
	}
	if (!o.path)
		fp_log(LOG_NOTICE, "agent: no configuration file, using the embedded defaults");

	apply_timezone(cfg->timezone);
	/* Signals are taken synchronously by the main loop; every thread
	 * created from here on inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (o.test || o.once)
		rc = run_once(cfg, &o, &set);
	else
		rc = run_loop(&cfg, o.path);
	fp_config_free(cfg);
	free(cfg);
	return rc;
}
