/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the metrics go: an HTTP endpoint (GET /metrics, libmicrohttpd) and a textfile for
 * node_exporter's textfile collector, both refreshed from the tracing thread once an interval.
 *
 * The tracing thread never waits on a client: it renders a snapshot (both text formats) into
 * new buffers and swaps them in under a mutex that the HTTP thread holds only to copy one out.
 * The HTTP thread (libmicrohttpd's internal polling thread) serves at most
 * METRICS_HTTP_CONNECTIONS connections at a time, drops one idle for METRICS_HTTP_TIMEOUT_S,
 * answers GET /metrics and nothing else (404 for another path, 405 for another method).
 *
 * Privileges: metrics_sink_open() binds the socket (a port below 1024 needs
 * CAP_NET_BIND_SERVICE) before the capabilities are dropped; metrics_sink_start() starts the
 * HTTP thread after, so that it inherits the dropped set (capabilities are per thread).
 */
#ifndef SVA_METRICS_SERVE_H
#define SVA_METRICS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_HTTP_CONNECTIONS 16
#define METRICS_HTTP_TIMEOUT_S 5

struct metrics;
struct correlator;
struct session;
struct sva_loader;
struct sva_options;

struct metrics_sink_opts {
	const char *listen; /* "[ADDR:]PORT", NULL: no HTTP */
	const char *file; /* NULL: no textfile */
	uint64_t interval_ns; /* how often the snapshot and the file are refreshed */
};

struct metrics_sink;

/*
 * Binds and listens (not serving yet) and checks that the file can be written. 0, or -errno
 * with err saying what failed and naming ADDR:PORT or the file (-EADDRINUSE: port in use;
 * -ENOTSUP: this build has no HTTP support).
 */
int metrics_sink_open(struct metrics_sink **out, const struct metrics_sink_opts *opts, char *err,
		      size_t errlen);
/* Starts the HTTP thread, with every signal blocked in it. 0 or -errno with err set. */
int metrics_sink_start(struct metrics_sink *s, char *err, size_t errlen);
/* "127.0.0.1:9464", "[::1]:9464"; "" without HTTP. */
const char *metrics_sink_address(const struct metrics_sink *s);
/* Whether the HTTP endpoint exists (--metrics). */
bool metrics_sink_serves(const struct metrics_sink *s);

/*
 * When the interval has passed since the last refresh (or force): gathers the correlator's
 * gauges, the session's lost counts and the loader's look-up counters (ld may be NULL),
 * renders and publishes the snapshot and rewrites the file. A file that cannot be written is
 * said once (sva_warn) and tried again next time; a forced write says it each time. 0, or
 * -errno of the file write.
 */
int metrics_sink_update(struct metrics_sink *s, struct metrics *m, const struct correlator *c,
			const struct session *sess, const struct sva_loader *ld, uint64_t now_ns,
			bool force);

/* Stops the HTTP thread and closes the socket. NULL is fine. */
void metrics_sink_close(struct metrics_sink *s);

/* The run's fixed facts into m: version, libbpf, kernel, probe mode and attached probes. */
void metrics_describe(struct metrics *m, const struct sva_options *opts,
		      const struct sva_loader *ld, const char *kernel_release, const char *machine,
		      double start_time_s);

#endif
