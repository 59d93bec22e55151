// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The metrics endpoint and textfile (metrics_serve.h). */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#ifndef SVA_METRICS_NO_HTTP
#include <microhttpd.h>
#endif

#include "loader.h"
#include "metrics.h"
#include "metrics_serve.h"
#include "options.h"
#include "print.h"
#include "safefile.h"
#include "session.h"

struct snapshot {
	char *text;
	size_t len;
};

struct metrics_sink {
	struct metrics_sink_opts opts;
	char address[80]; /* for messages: "127.0.0.1:9464" */
	int listen_fd; /* -1: none, or handed to the daemon */
	void *daemon; /* struct MHD_Daemon * */
	pthread_mutex_t lock; /* guards the snapshots */
	struct snapshot snap[2]; /* [enum metrics_format] */
	bool have_snapshot;
	uint64_t next_ns;
	bool file_failed; /* said once, until a write succeeds again */
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- HTTP (libmicrohttpd) ---- */

#ifndef SVA_METRICS_NO_HTTP

/* ---- the listening socket ---- */

static int listen_on(struct metrics_sink *s, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char host[64], port_s[8], msg[128];
	uint16_t port;
	int fd = -1, ret, one = 1;

	if (metrics_parse_listen(s->opts.listen, host, sizeof(host), &port, msg, sizeof(msg))) {
		snprintf(err, errlen, "--metrics '%s': %s", s->opts.listen, msg);
		return -EINVAL;
	}
	snprintf(s->address, sizeof(s->address), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
		 port);
	snprintf(port_s, sizeof(port_s), "%u", port);
	ret = getaddrinfo(host, port_s, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "--metrics %s: cannot resolve '%s': %s", s->address, host,
			 gai_strerror(ret));
		return -EINVAL;
	}
	ret = -EADDRNOTAVAIL;
	/* The first address that binds (a name may resolve to several). */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		/* A restart binds again at once (TIME_WAIT); two listeners still conflict. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, METRICS_HTTP_CONNECTIONS))
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		s->listen_fd = fd;
		return 0;
	}
	if (ret == -EADDRINUSE)
		snprintf(err, errlen, "cannot serve metrics on %s: the port is already in use (another "
			 "sva-trace or exporter?); choose another with --metrics [ADDR:]PORT", s->address);
	else if (ret == -EACCES)
		snprintf(err, errlen, "cannot serve metrics on %s: %s (a port below 1024 needs root or "
			 "CAP_NET_BIND_SERVICE)", s->address, strerror(-ret));
	else
		snprintf(err, errlen, "cannot serve metrics on %s: %s", s->address, strerror(-ret));
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     char *body, size_t len, bool allow_get)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow_get)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *msg, bool allow_get)
{
	char *body = strdup(msg);

	if (!body)
		return MHD_NO;
	return reply(conn, status, "text/plain; charset=utf-8", body, strlen(body), allow_get);
}

/* Prometheus asks for OpenMetrics first in its Accept header; anything else gets 0.0.4. */
static enum metrics_format negotiate(struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text") ?
		       METRICS_FORMAT_OPENMETRICS : METRICS_FORMAT_PROMETHEUS;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	struct metrics_sink *s = cls;
	enum metrics_format fmt;
	char *body = NULL;
	size_t len = 0;
	bool ready;

	(void)version;
	(void)upload_data;
	(void)req;
	/* A body is never read: the answer below goes out and the connection is closed. */
	*upload_data_size = 0;
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "not found: sva-trace serves GET /metrics only\n", false);
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed: GET /metrics only\n", true);
	fmt = negotiate(conn);
	pthread_mutex_lock(&s->lock);
	ready = s->have_snapshot;
	if (ready) {
		len = s->snap[fmt].len;
		body = malloc(len ? len : 1);
		if (body)
			memcpy(body, s->snap[fmt].text, len);
	}
	pthread_mutex_unlock(&s->lock);
	if (!ready)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n", false);
	if (!body)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, metrics_content_type(fmt), body, len, false);
}

static int start_daemon(struct metrics_sink *s, char *err, size_t errlen)
{
	sigset_t all, old;
	struct MHD_Daemon *d;

	/* The thread inherits this mask: signals are the tracing thread's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
			     on_request, s,
			     MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_HTTP_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_HTTP_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d) {
		snprintf(err, errlen, "cannot start the metrics server on %s (libmicrohttpd %s)",
			 s->address, MHD_get_version());
		return -EIO;
	}
	s->listen_fd = -1; /* the daemon's now: closed by MHD_stop_daemon */
	s->daemon = d;
	return 0;
}

static void stop_daemon(struct metrics_sink *s)
{
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
}

#else /* SVA_METRICS_NO_HTTP */

static int listen_on(struct metrics_sink *s, char *err, size_t errlen)
{
	(void)s;
	snprintf(err, errlen, "no HTTP support in this build");
	return -ENOTSUP;
}

static int start_daemon(struct metrics_sink *s, char *err, size_t errlen)
{
	(void)s;
	snprintf(err, errlen, "no HTTP support in this build");
	return -ENOTSUP;
}

static void stop_daemon(struct metrics_sink *s)
{
	(void)s;
}

#endif

int metrics_sink_open(struct metrics_sink **out, const struct metrics_sink_opts *opts, char *err,
		      size_t errlen)
{
	struct metrics_sink *s;
	int ret;

	*out = NULL;
#ifdef SVA_METRICS_NO_HTTP
	if (opts->listen) {
		snprintf(err, errlen, "--metrics: this sva-trace was built without HTTP support (the "
			 "static build: Debian ships no static p11-kit or libunistring, which "
			 "libmicrohttpd's GnuTLS needs); use the dynamic build, or --metrics-file "
			 "with node_exporter's textfile collector");
		return -ENOTSUP;
	}
#endif
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->opts = *opts;
	s->listen_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (opts->file) {
		char msg[512];

		ret = safefile_check(opts->file, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "--metrics-file: %s", msg);
			metrics_sink_close(s);
			return ret;
		}
	}
	if (opts->listen) {
		ret = listen_on(s, err, errlen);
		if (ret) {
			metrics_sink_close(s);
			return ret;
		}
	}
	*out = s;
	return 0;
}

int metrics_sink_start(struct metrics_sink *s, char *err, size_t errlen)
{
	if (s->listen_fd < 0)
		return 0;
	return start_daemon(s, err, errlen);
}

const char *metrics_sink_address(const struct metrics_sink *s)
{
	return s->address;
}

bool metrics_sink_serves(const struct metrics_sink *s)
{
	return s && s->opts.listen;
}

int metrics_sink_update(struct metrics_sink *s, struct metrics *m, const struct correlator *c,
			const struct session *sess, const struct sva_loader *ld, uint64_t now_ns,
			bool force)
{
	struct snapshot fresh[2] = {}, old[2];
	double now_s = (double)(wall_ns() / 1000000) / 1000.0; /* milliseconds are enough */
	char msg[512];
	int ret = 0;

	if (!s || (!force && now_ns < s->next_ns))
		return 0;
	s->next_ns = now_ns + s->opts.interval_ns;
	metrics_gather(m, c);
	if (sess)
		metrics_set_lost(m, session_lost(sess), sess->bad_records);
	if (ld && sva_loader_loaded(ld)) {
		struct lookup_row *rows = NULL;
		uint64_t totals[SVA_LOOKUP__MAX] = {};
		int nr = sva_loader_read_lookups(ld, &rows);

		for (int i = 0; i < nr; i++)
			for (int k = 0; k < SVA_LOOKUP__MAX; k++)
				totals[k] += rows[i].n[k];
		free(rows);
		metrics_set_lookups(m, totals);
	}
	if (metrics_render(m, METRICS_FORMAT_PROMETHEUS, now_s, &fresh[0].text, &fresh[0].len))
		return -ENOMEM;
	if (s->opts.file) {
		ret = safefile_write_mode(s->opts.file, fresh[0].text, fresh[0].len, 0644, msg,
					  sizeof(msg));
		/* said once while it fails, and at the last (forced) write, which is not retried */
		if (ret && (!s->file_failed || force))
			sva_warn("--metrics-file: %s%s", msg,
				 force ? "" : "; trying again every interval");
		else if (!ret && s->file_failed)
			sva_warn("--metrics-file: written again");
		s->file_failed = ret != 0;
	}
	if (!s->opts.listen) {
		free(fresh[0].text);
		return ret;
	}
	if (metrics_render(m, METRICS_FORMAT_OPENMETRICS, now_s, &fresh[1].text, &fresh[1].len)) {
		free(fresh[0].text);
		return -ENOMEM;
	}
	/* The HTTP thread holds the lock only to copy a snapshot out: a swap, then free. */
	pthread_mutex_lock(&s->lock);
	memcpy(old, s->snap, sizeof(old));
	memcpy(s->snap, fresh, sizeof(fresh));
	s->have_snapshot = true;
	pthread_mutex_unlock(&s->lock);
	free(old[0].text);
	free(old[1].text);
	return ret;
}

void metrics_sink_close(struct metrics_sink *s)
{
	if (!s)
		return;
	stop_daemon(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s->snap[0].text);
	free(s->snap[1].text);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void metrics_describe(struct metrics *m, const struct sva_options *opts,
		      const struct sva_loader *ld, const char *kernel_release, const char *machine,
		      double start_time_s)
{
	struct metrics_info info = {
		.version = sva_trace_version,
		.libbpf = libbpf_version_string(),
		.start_time_s = start_time_s,
	};

	if (ld && sva_loader_loaded(ld)) {
		info.kernel_release = kernel_release;
		info.machine = machine;
		info.probe_mode = probe_mode_name(opts->probe_mode);
		for (int i = 0; i < ld->nr_probes && info.nr_probes < METRICS_MAX_PROBES; i++) {
			const struct probe_state *ps = &ld->probes[i];

			if (ps->attached)
				info.probes[info.nr_probes++] = (struct metrics_probe){
					ps->spec->func, attach_mode_name(ps)
				};
		}
	}
	metrics_set_info(m, &info);
}
