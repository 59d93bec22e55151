// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-top: a live view of SVA bonds, PASID attachments, refcounts and fault
 * rates. Same loader and correlator as sva-trace; the frame model is top.c.
 */
#include <argp.h>
#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>


#include "correlate.h"
#include "decode.h"
#include "kernel.h"
#include "filter.h"
#include "loader.h"
#include "options.h"
#include "print.h"
#include "session.h"
#include "state.h"
#include "top.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

struct top_opts {
	struct sva_options trace; /* filters and probe settings for the loader */
	uint64_t interval_ns;
	bool batch;
	uint64_t iterations; /* 0: until q / interrupted */
	bool json;
	const char *replay_path;
	double speed; /* replay: 1 = real time, 0 = as fast as possible */
	enum top_col sort;
	bool sort_desc;
};

struct top {
	struct top_opts o;
	struct sva_loader ld;
	struct sva_state state; /* what was bound at start (state.h) */
	struct sva_state resync; /* the last re-sync's read ('s') */
	char status[160]; /* the last re-sync's outcome, on the status line */
	struct sva_filter shown; /* what is shown (--pid --comm --dev --pasid) */
	struct correlator *corr;
	struct session sess;
	struct top_state st;
	struct top_frame all; /* as built */
	struct top_frame frame; /* as shown: filtered and sorted */
	struct ptrhash ptrs;
	struct fmt_opts fmt;
	char kernel[80];
	char probes[160];
	uint64_t frames;
	int out_errno; /* a frame stdout refused (EPIPE: its reader went away) */
	bool tui;
	bool paused;
	char filter[64];
	int selected;
	enum { VIEW_LIST, VIEW_DETAIL, VIEW_FINDINGS, VIEW_HELP } view;
	uint64_t detail_handle;
	/* replay */
	uint64_t t0_ns, next_frame_ns, wall0_ns;
	bool replay_started;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- command line ---- */

static const char doc[] =
	"A live view of IOMMU SVA bonds, PASID attachments, refcounts and fault rates.\n"
	"\n"
	"USAGE: sva-top [OPTIONS]\n"
	"\n"
	"EXAMPLES:\n"
	"    sva-top                          # full screen, refreshed every second\n"
	"    sva-top -d 0.5 -s lookups        # faster, busiest PASIDs first\n"
	"    sva-top -b -n 5                  # 5 plain-text frames, no terminal needed\n"
	"    sva-top -b -n 3 --json           # one JSON object per frame\n"
	"    sva-top --replay capture.jsonl --speed 10\n"
	"\n"
	"KEYS: < > sort column, r reverse, / filter, space pause, Enter details,\n"
	"      f findings, s re-sync with the kernel, h or ? help, q quit";

enum {
	OPT_REPLAY = 2000, /* clear of the shared options' keys (options.c) */
	OPT_SPEED,
};

static const struct argp_option options[] = {
	{ "delay", 'd', "SECONDS", 0, "Refresh interval (default 1, at least 0.1)", 0 },
	{ "batch", 'b', NULL, 0, "Plain text frames on stdout, no terminal needed", 0 },
	{ "iterations", 'n', "COUNT", 0, "Stop after COUNT frames", 0 },
	{ "json", 'j', NULL, 0, "With -b: one JSON object per frame", 0 },
	{ "sort", 's', "COLUMN", 0,
	  "Sort by pasid, dev, group, pid, comm, type, users, age, lookups or errors (default pasid)", 0 },
	{ "replay", OPT_REPLAY, "FILE", 0, "Show a capture written by sva-trace --json", 0 },
	{ "speed", OPT_SPEED, "FACTOR", 0,
	  "Replay speed: 1 real time (default), 10 ten times faster, 0 as fast as possible", 0 },
	/* --pid --comm --dev --pasid, --raw-pointers --ring-size, --probe-mode --btf: sva_shared_argp */
	{ NULL, 0, NULL, 0, "Tracing:", 2 },
	{ NULL, 0, NULL, 0, "Probes:", PROBES_GROUP },
	{},
};

__attribute__((format(printf, 1, 2))) static int top_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sva_warn("%s\nTry 'sva-top --help' for more information.", msg);
	return EINVAL;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct top_opts *o = state->input;
	static const char *const cols[COL__MAX] = { "pasid", "dev", "group", "pid", "comm",
						    "type", "users", "age", "lookups", "errors" };
	uint64_t v;
	char *end;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->trace;
		state->name = (char *)"sva-top";
		break;
	case 'd':
		if (parse_seconds(arg, 100000000ull, 3600000000000ull, &o->interval_ns))
			return top_usage("invalid --delay '%s': expected seconds from 0.1 to 3600", arg);
		break;
	case 'b':
		o->batch = true;
		break;
	case 'n':
		if (parse_u64(arg, 1, UINT32_MAX, &o->iterations))
			return top_usage("invalid --iterations '%s': expected a count from 1 to "
					 "4294967295", arg);
		break;
	case 'j':
		o->json = true;
		break;
	case 's':
		for (v = 0; v < COL__MAX; v++)
			if (!strcmp(arg, cols[v]))
				break;
		if (v == COL__MAX)
			return top_usage("invalid --sort '%s': expected pasid, dev, group, pid, comm, type, users, age, lookups or errors", arg);
		o->sort = (enum top_col)v;
		o->sort_desc = v == COL_LOOKUPS || v == COL_ERRORS || v == COL_AGE || v == COL_USERS;
		break;
	case OPT_REPLAY:
		o->replay_path = arg;
		break;
	case OPT_SPEED:
		errno = 0;
		o->speed = strtod(arg, &end);
		/* digits and a point: strtod also takes blanks, hex, exponents, "nan" (not < 0) */
		if (!isdigit((unsigned char)*arg) || strspn(arg, "0123456789.") != strlen(arg) ||
		    errno || *end || !(o->speed >= 0 && o->speed <= 1e6))
			return top_usage("invalid --speed '%s': expected a factor from 0 to 1000000", arg);
		break;
	case ARGP_KEY_ARG:
		return top_usage("unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- terminal ---- */

static void tui_start(struct top *t)
{
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(0);
	t->tui = true;
}

static void tui_stop(struct top *t)
{
	if (t->tui)
		endwin();
	t->tui = false;
}

static void draw_list(struct top *t)
{
	char lines[3][TOP_HEADER_LEN], row[512], hdr[256];
	int rows, cols, y;

	getmaxyx(stdscr, rows, cols);
	top_header_format(&t->frame, t->kernel, t->probes, lines);
	for (int i = 0; i < 3; i++)
		mvaddnstr(i, 0, lines[i], cols);
	snprintf(hdr, sizeof(hdr), "%s", top_row_header());
	attron(A_REVERSE);
	mvaddnstr(4, 0, hdr, cols);
	for (int x = (int)strlen(hdr); x < cols; x++)
		addch(' ');
	attroff(A_REVERSE);
	if (t->selected >= (int)t->frame.nr_rows)
		t->selected = t->frame.nr_rows ? (int)t->frame.nr_rows - 1 : 0;
	y = 5;
	for (size_t i = 0; i < t->frame.nr_rows && y < rows - 1; i++, y++) {
		top_row_format(&t->frame.rows[i], row, sizeof(row));
		if ((int)i == t->selected)
			attron(A_BOLD | A_UNDERLINE);
		mvaddnstr(y, 0, row, cols);
		if ((int)i == t->selected)
			attroff(A_BOLD | A_UNDERLINE);
	}
	snprintf(row, sizeof(row), "sort: %s%s  filter: %s%s  %zu rows  %s(h: help)",
		 top_col_name(t->o.sort), t->o.sort_desc ? " desc" : "",
		 t->filter[0] ? t->filter : "-", t->paused ? "  PAUSED" : "", t->frame.nr_rows,
		 t->status);
	attron(A_REVERSE);
	mvaddnstr(rows - 1, 0, row, cols);
	attroff(A_REVERSE);
}

static void draw_detail(struct top *t)
{
	const struct bond *b = correlator_find_bond(t->corr, t->detail_handle);
	char line[512], dev[4 * SVA_DEV_NAME_LEN + 1], comm[4 * SVA_COMM_LEN + 1];
	int rows, cols, y = 0;

	getmaxyx(stdscr, rows, cols);
	if (!b) {
		mvaddnstr(0, 0, "This row is not a live bond (an attachment, or the bond ended). "
				"Enter or q: back", cols);
		return;
	}
	sva_text_escape(dev, sizeof(dev), b->dev_name, SVA_DEV_NAME_LEN);
	sva_text_escape(comm, sizeof(comm), b->owner_comm, SVA_COMM_LEN);
	snprintf(line, sizeof(line), "bond: device %s group %d PASID %u, owner %s/%u%s, users %" PRId64
		 ", %" PRIu64 " binds, %" PRIu64 " unbinds%s%s",
		 dev, b->group_id, b->pasid, comm, b->owner_pid, b->owner_exit_ns ? " (exited)" : "",
		 b->expected_users, b->nr_binds, b->nr_unbinds,
		 b->unknown_origin ? ", bound before tracing" : "", b->uncertain ? ", uncertain" : "");
	mvaddnstr(y++, 0, line, cols);
	mvaddnstr(y++, 0, "history (first 8, last 24):", cols);
	attron(A_REVERSE);
	mvaddnstr(y++, 0, "SEQ        TIME(s)     OP      PID     USERS", cols);
	attroff(A_REVERSE);
	for (uint32_t i = 0; i < bond_steps_kept(b) && y < rows - 1; i++) {
		struct bond_step s = bond_step_at(b, i);

		snprintf(line, sizeof(line), "%-10" PRIu64 " %-11.6f %-7s %-7u %d", s.seq,
			 s.ts_ns >= t->fmt.t0_ns ? (double)(s.ts_ns - t->fmt.t0_ns) / 1e9 : 0.0,
			 s.type == SVA_REC_BIND ? "bind" : "unbind", s.tgid, s.users_after);
		mvaddnstr(y++, 0, line, cols);
	}
	attron(A_REVERSE);
	mvaddnstr(rows - 1, 0, "detail view - Enter or q: back", cols);
	attroff(A_REVERSE);
}

static void draw_findings(struct top *t)
{
	int rows, cols, y = 1;

	getmaxyx(stdscr, rows, cols);
	mvaddnstr(0, 0, "findings, retractions (RESOLVED) and failed operations (FAILED), most recent last:",
		  cols);
	if (!t->st.nr_notes)
		mvaddnstr(y++, 0, "  none so far", cols);
	for (unsigned int i = t->st.nr_notes > (unsigned int)(rows - 2) ?
				      t->st.nr_notes - (unsigned int)(rows - 2) : 0;
	     i < t->st.nr_notes && y < rows - 1; i++)
		mvaddnstr(y++, 0, top_state_note(&t->st, i)->text, cols);
	attron(A_REVERSE);
	mvaddnstr(rows - 1, 0, "findings - f, Enter or q: back", cols);
	attroff(A_REVERSE);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"sva-top keys",
		"",
		"  < >      sort by the previous / next column",
		"  r        reverse the sort order",
		"  /        filter rows by text (empty: no filter)",
		"  space    pause / resume the display",
		"  Up Down  select a row",
		"  Enter    details of the selected bond: its bind/unbind history",
		"  f        the findings so far, RESOLVED: leaks a later unbind retracted, and",
		"           FAILED: binds, attaches and PASID allocations that failed, with the",
		"           kernel function that returned the error first (its cause)",
		"  s        re-sync: read the kernel's SVA state again, correct the rows, count",
		"           the differences (bonds or attachments whose records were lost)",
		"  h ?      this help",
		"  q        quit (or back, from a view)",
		"",
		"FLAGS: LEAK? owner exited and still bound; LEAK: leak finding; MISMATCH: a",
		"type-mismatch or cross-mm finding on this PASID; UNCERTAIN: events were lost.",
	};
	int cols = getmaxx(stdscr);

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		mvaddnstr((int)i, 0, lines[i], cols);
}

static void tui_draw(struct top *t)
{
	erase();
	switch (t->view) {
	case VIEW_LIST: draw_list(t); break;
	case VIEW_DETAIL: draw_detail(t); break;
	case VIEW_FINDINGS: draw_findings(t); break;
	case VIEW_HELP: draw_help(); break;
	}
	refresh();
}

static void prompt_filter(struct top *t)
{
	int rows = getmaxy(stdscr);
	char buf[sizeof(t->filter)] = "";

	move(rows - 1, 0);
	clrtoeol();
	addstr("filter: ");
	echo();
	curs_set(1);
	timeout(-1);
	getnstr(buf, sizeof(buf) - 1);
	timeout(0);
	curs_set(0);
	noecho();
	snprintf(t->filter, sizeof(t->filter), "%s", buf);
	t->selected = 0;
}

static void resync(struct top *t);

/* Returns true when the user asked to quit. */
static bool tui_key(struct top *t, int ch)
{
	if (t->view != VIEW_LIST) {
		if (ch == 'q' || ch == '\n' || ch == KEY_ENTER || ch == 27 ||
		    (t->view == VIEW_FINDINGS && ch == 'f') || (t->view == VIEW_HELP && (ch == 'h' || ch == '?')))
			t->view = VIEW_LIST;
		return false;
	}
	switch (ch) {
	case 'q':
		return true;
	case '<':
		t->o.sort = (enum top_col)((t->o.sort + COL__MAX - 1) % COL__MAX);
		break;
	case '>':
		t->o.sort = (enum top_col)((t->o.sort + 1) % COL__MAX);
		break;
	case 'r':
		t->o.sort_desc = !t->o.sort_desc;
		break;
	case '/':
		prompt_filter(t);
		break;
	case ' ':
		t->paused = !t->paused;
		break;
	case KEY_UP:
		if (t->selected > 0)
			t->selected--;
		break;
	case KEY_DOWN:
		if (t->selected + 1 < (int)t->frame.nr_rows)
			t->selected++;
		break;
	case '\n':
	case KEY_ENTER:
		if (t->selected < (int)t->frame.nr_rows) {
			t->detail_handle = t->frame.rows[t->selected].handle;
			t->view = VIEW_DETAIL;
		}
		break;
	case 'f':
		t->view = VIEW_FINDINGS;
		break;
	case 's':
		resync(t);
		break;
	case 'h':
	case '?':
		t->view = VIEW_HELP;
		break;
	default:
		break;
	}
	return false;
}

/* Sorting and filtering apply to the frame as it is shown. */
static void arrange(struct top *t)
{
	struct top_row *rows = t->frame.rows;
	size_t cap = t->frame.cap_rows;

	if (cap < t->all.nr_rows) {
		rows = realloc(rows, (t->all.nr_rows ? t->all.nr_rows : 1) * sizeof(*rows));
		if (!rows)
			return;
		cap = t->all.nr_rows;
	}
	t->frame = t->all;
	t->frame.rows = rows;
	/* t->frame.notes is t->all's: freed with it */
	t->frame.cap_rows = cap;
	if (t->all.nr_rows) /* rows is NULL in a frame without any (memcpy must not see it) */
		memcpy(rows, t->all.rows, t->all.nr_rows * sizeof(*rows));
	top_frame_filter(&t->frame, t->filter);
	top_frame_sort(&t->frame, t->o.sort, t->o.sort_desc);
}

/* Handles pending keys; with wait_ns > 0 waits that long for them. */
static void tui_poll(struct top *t, uint64_t wait_ns)
{
	uint64_t until = mono_ns() + wait_ns;
	int ch;

	for (;;) {
		timeout(wait_ns ? 20 : 0);
		ch = getch();
		if (ch == KEY_RESIZE) {
			tui_draw(t);
		} else if (ch != ERR) {
			if (tui_key(t, ch))
				exiting = 1;
			/* re-sort and redraw the current frame at once */
			arrange(t);
			tui_draw(t);
		}
		if (exiting || !wait_ns || mono_ns() >= until)
			break;
	}
	timeout(0);
}

static void show_frame(struct top *t, uint64_t now_ns)
{
	struct json_writer w;

	if (t->paused && t->tui)
		return;
	top_frame_build(&t->st, &t->all, now_ns);
	arrange(t);
	t->frames++;
	if (t->tui) {
		tui_draw(t);
		return;
	}
	if (t->o.json) {
		jw_init(&w);
		top_frame_json(&w, &t->frame, t->kernel, t->probes, &t->fmt);
		if (!jw_finish(&w))
			printf("%s\n", w.buf);
		jw_free(&w);
	} else {
		top_frame_print(stdout, &t->frame, t->kernel, t->probes);
	}
	if (fflush(stdout) == EOF) {
		t->out_errno = errno;
		exiting = 1;
	}
}

static bool done(const struct top *t)
{
	return exiting || (t->o.iterations && t->frames >= t->o.iterations);
}

/* ---- events ---- */

static void on_finding(const struct finding *f, void *ctx)
{
	struct top *t = ctx;

	if (sva_filter_finding(&t->shown, f))
		top_state_finding(&t->st, f, &t->fmt);
}

/* A leak retracted by a later unbind: shown when the leak was (same subject). */
static void on_resolved(const struct resolution *r, void *ctx)
{
	struct top *t = ctx;

	if (sva_filter_resolution(&t->shown, r))
		top_state_resolved(&t->st, r, &t->fmt);
}

/* Each record in seq order, as the session lets it out (it then goes to the correlator). */
static void on_event(const struct sva_event *ev, void *ctx)
{
	struct top *t = ctx;

	if (sva_filter_event(&t->shown, ev))
		top_state_event(&t->st, ev, &t->fmt);
}

/* The header's "lost" is the correlator's count; uncertain rows follow from it. */
static void on_lost(uint64_t count, uint64_t total, uint64_t ts_ns, enum session_loss_source src,
		    void *ctx)
{
	struct top *t = ctx;

	(void)count;
	(void)ts_ns;
	(void)src;
	t->st.lost = total;
}

static void on_bad_record(const char *err, uint64_t nr_bad, void *ctx)
{
	struct top *t = ctx;

	/* Not over the full screen view; batch mode says it once. */
	if (nr_bad == 1 && !t->tui)
		sva_warn("dropping bad record: %s", err);
}

/* ---- replay ---- */

/* The capture's start (once: session_replay, which told the correlator about exit_mmap). */
static void replay_start(const struct replay_start *st, void *ctx)
{
	struct top *t = ctx;
	uint64_t ts_ns = st->ts_ns;
	char seed[64];

	/* A capture made with --raw-pointers: hashed as sva-trace --replay hashes it (run.c). */
	if (st->raw_pointers && !t->o.trace.raw_pointers) {
		snprintf(seed, sizeof(seed), "sva-trace replay %" PRIu64, ts_ns);
		ptrhash_free(&t->ptrs);
		ptrhash_init_seed(&t->ptrs, seed);
	}
	t->replay_started = true;
	t->t0_ns = ts_ns;
	t->fmt.t0_ns = ts_ns;
	t->st.prev_ns = ts_ns;
	t->next_frame_ns = ts_ns + t->o.interval_ns;
	t->wall0_ns = mono_ns();
}

/* Frames fall on capture-time interval boundaries, whatever the speed. */
static void replay_frames_until(struct top *t, uint64_t ts_ns)
{
	while (!done(t) && ts_ns >= t->next_frame_ns) {
		show_frame(t, t->next_frame_ns);
		t->next_frame_ns += t->o.interval_ns;
	}
}

/* Each record before the session takes it: frames due before it, then the pace. */
static bool replay_record(const struct sva_event *ev, void *ctx)
{
	struct top *t = ctx;

	if (done(t))
		return false;
	replay_frames_until(t, ev->ts_ns);
	if (t->o.speed > 0 && ev->ts_ns > t->t0_ns) {
		double wait = (double)(ev->ts_ns - t->t0_ns) / t->o.speed;
		uint64_t due = UINT64_MAX, now = mono_ns();

		/* A slow speed over a long capture may wait past what uint64_t holds: no cast. */
		if (wait < 4e18) /* ns: 126 years */
			due = t->wall0_ns + (uint64_t)wait;
		if (due > now) {
			if (t->tui)
				tui_poll(t, due - now);
			else
				nanosleep(&(struct timespec){ (time_t)((due - now) / 1000000000ull),
							      (long)((due - now) % 1000000000ull) },
					  NULL);
		}
	} else if (t->tui) {
		tui_poll(t, 0);
	}
	return true;
}

static void replay_end(uint64_t ts_ns, void *ctx)
{
	struct top *t = ctx;

	/* an EBUSY still waiting for its holder's record: none comes (sva-trace's summary too) */
	correlator_end_of_records(t->corr);
	if (t->replay_started)
		replay_frames_until(t, ts_ns);
}

/* A capture's state records: the correlator starts from them, as the live run's did. */
static void replay_state(const struct sva_state_rec *rec, uint64_t seq, uint64_t ts_ns, void *ctx)
{
	struct top *t = ctx;

	if (t->state.ended)
		return;
	if (!sva_state_add_replayed(&t->state, rec, seq, ts_ns))
		return;
	sva_state_seed(&t->state, t->corr, NULL, NULL);
}

static int run_replay(struct top *t)
{
	const struct session_replay_ops ops = {
		.on_start = replay_start,
		.on_record = replay_record,
		.on_end = replay_end,
		.on_state = replay_state,
		.ctx = t,
	};
	char err[512];
	FILE *f = strcmp(t->o.replay_path, "-") ? fopen(t->o.replay_path, "re") : stdin;
	int ret;

	snprintf(t->kernel, sizeof(t->kernel), "(replay)");
	t->st.lookups_from_events = true;
	snprintf(t->probes, sizeof(t->probes), "replay of %s", t->o.replay_path);
	if (!f) {
		sva_warn("cannot open the capture '%s': %s", t->o.replay_path, strerror(errno));
		return 2;
	}
	if (!t->o.batch)
		tui_start(t);
	ret = session_replay(&t->sess, f, t->o.replay_path, &ops, NULL, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (!ret)
		session_flush(&t->sess);
	if (ret) {
		tui_stop(t);
		sva_warn("replay: %s", err);
		return 2;
	}
	/* The end of the capture: one last frame, then (full screen) wait for q. */
	if (!done(t) && t->replay_started)
		show_frame(t, t->next_frame_ns);
	while (t->tui && !exiting) {
		tui_poll(t, 200000000ull);
	}
	tui_stop(t);
	return 0;
}

/* ---- live ---- */

static bool state_remember(uint32_t tgid, uint64_t mm, void *ctx)
{
	struct top *t = ctx;

	return sva_loader_remember_owner(&t->ld, tgid, mm);
}

/* 's': the kernel's state again, compared with the model and corrected (state.h). */
static void resync(struct top *t)
{
	struct state_race race;
	size_t diffs;
	int err;

	if (t->o.replay_path || !sva_loader_loaded(&t->ld)) {
		snprintf(t->status, sizeof(t->status), "re-sync: live only  ");
		return;
	}
	/* One read: a read that raced binds or unbinds is not compared (session.h). */
	err = session_read_state(&t->sess, &t->ld, t->o.trace.btf_path, &t->resync, 1, &race);
	if (err) {
		snprintf(t->status, sizeof(t->status), err == -EAGAIN ?
			 "re-sync: state changed during the read, press s again  " :
			 "re-sync: the state cannot be read  ");
		return;
	}
	session_skip_to(&t->sess, t->resync.seq);
	if (t->resync.end.flags & (SVA_STATE_NO_PASID_ARRAY | SVA_STATE_NO_GROUP_LIST |
				   SVA_STATE_TRUNCATED)) {
		snprintf(t->status, sizeof(t->status), "re-sync: bonds not readable here  ");
		return;
	}
	diffs = sva_state_resync(&t->resync, t->corr, state_remember, t, NULL, NULL);
	snprintf(t->status, sizeof(t->status), "re-sync: %zu difference%s  ", diffs,
		 diffs == 1 ? "" : "s");
}

/* Reads the kernel's SVA state and seeds the correlator; a failure was said (print.h). */
static void read_state(struct top *t)
{
	uint64_t in_flight;

	t->state.err = session_read_start_state(&t->ld, t->o.trace.btf_path, &t->state, &in_flight);
	if (!t->state.err && t->state.ended)
		sva_state_seed(&t->state, t->corr, state_remember, t);
}

static int run_live(struct top *t)
{
	struct lookup_row *rows;
	struct utsname u;
	uint64_t next, now;
	int err, n, len = 0;

	if (check_privileges())
		return 2;
	{
		struct sva_loader_opts lopts;

		sva_loader_opts_from(&lopts, &t->o.trace);
		err = sva_loader_start(&t->ld, &lopts);
	}
	if (err)
		return 2;
	if (!t->ld.nr_sva_attached) {
		sva_warn("none of the SVA/PASID functions could be traced on this kernel; "
			 "'sva-trace --check' says why for each");
		return 2; /* this kernel's: an environment error, as sva-trace's */
	}
	uname(&u);
	snprintf(t->kernel, sizeof(t->kernel), "%s", u.release);
	for (int i = 0; i < t->ld.nr_probes; i++) {
		const struct probe_state *ps = &t->ld.probes[i];

		if (ps->attached && ps->spec->sva)
			len += snprintf(t->probes + len, sizeof(t->probes) - (size_t)len, "%s%s",
					len ? "," : "", attach_mode_name(ps));
		if (len >= (int)sizeof(t->probes))
			break;
	}
	/* Several probes share a mode: say "6 attached (fexit,fentry,...)" compactly. */
	{
		char modes[160];

		snprintf(modes, sizeof(modes), "%d SVA probes attached (%s)", t->ld.nr_sva_attached,
			 strstr(t->probes, "kprobe") ? "kprobe" : "fentry/fexit");
		snprintf(t->probes, sizeof(t->probes), "%s", modes);
	}
	err = session_open_ring(&t->sess, &t->ld);
	if (err) {
		sva_warn("cannot map the ring buffer: %s", strerror(-err));
		return 2;
	}
	/* What is bound already: the rows of the first frame (state.h). */
	read_state(t);
	/* Attached and mapped: reading the ring and the maps needs no privilege (privdrop.h). */
	{
		char kept[64];

		session_drop_privileges(&t->sess, NULL, kept, sizeof(kept));
	}
	t->fmt.t0_ns = mono_ns();
	t->st.prev_ns = t->fmt.t0_ns;
	if (!t->o.batch)
		tui_start(t);
	next = t->fmt.t0_ns + t->o.interval_ns;
	while (!done(t)) {
		/* Records in seq order, loss accounted, the correlator's clock (session.h). */
		if (session_poll(&t->sess, 20) < 0)
			break;
		now = mono_ns();
		if (now >= next) {
			/* Hot-path counters: read the per-CPU map once per interval. */
			n = sva_loader_read_lookups(&t->ld, &rows);
			top_state_lookups(&t->st, rows, n);
			free(rows);
			show_frame(t, now);
			next += t->o.interval_ns;
			if (next < now)
				next = now + t->o.interval_ns;
		}
		if (t->tui)
			tui_poll(t, 0);
	}
	tui_stop(t);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp_child children[] = { { &sva_shared_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { .options = options, .parser = parse_arg, .doc = doc,
					  .children = children };
	struct correlator_opts copts = { .on_finding = on_finding, .on_resolved = on_resolved,
					 .leak_grace_ns = 2000000000ull };
	struct session_ops sops = { .on_event = on_event, .on_lost = on_lost,
				    .on_bad_record = on_bad_record };
	struct sigaction sa = { .sa_handler = on_signal };
	struct top *t = calloc(1, sizeof(*t));
	int err, lost;

	sva_print_set_prefix("sva-top: ");
	if (!t) {
		sva_warn("out of memory");
		return 1;
	}
	t->o.interval_ns = 1000000000ull;
	t->o.speed = 1.0;
	sva_options_defaults(&t->o.trace);
	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, &t->o)) {
		free(t);
		return 2;
	}
	if (t->o.json && !t->o.batch) {
		sva_warn("--json needs -b (batch mode): the full screen view has no JSON");
		free(t);
		return 2;
	}
	if (!t->o.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		sva_warn("the full screen view needs a terminal; use -b for plain text frames (with "
			 "-n COUNT to stop)");
		free(t);
		return 2;
	}
	sva_filter_from(&t->shown, &t->o.trace);
	copts.ctx = t;
	t->corr = correlator_new(&copts);
	sops.ctx = t;
	if (!t->corr || top_state_init(&t->st, t->corr) ||
	    session_init(&t->sess, t->corr, &sops, !t->o.replay_path)) {
		sva_warn("out of memory");
		return 1;
	}
	if (sva_filter_active(&t->shown))
		t->st.filter = &t->shown;
	ptrhash_init(&t->ptrs, t->o.trace.raw_pointers || t->o.replay_path);
	t->fmt.ptrs = &t->ptrs;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* the terminal went away: end as on q */
	signal(SIGPIPE, SIG_IGN);

	err = t->o.replay_path ? run_replay(t) : run_live(t);

	tui_stop(t);
	/* Frames stdout did not take are lost: exit 1 (a reader that went away is no error). */
	lost = sva_stdout_error(t->out_errno);
	if (lost) {
		sva_warn("writing to stdout failed: %s; frames are missing", strerror(lost));
		if (!err)
			err = 1;
	}
	session_free(&t->sess);
	sva_state_free(&t->state);
	sva_state_free(&t->resync);
	sva_loader_free(&t->ld);
	t->frame.notes = NULL; /* t->all's */
	top_frame_free(&t->frame);
	top_frame_free(&t->all);
	top_state_free(&t->st);
	correlator_free(t->corr);
	ptrhash_free(&t->ptrs);
	free(t);
	return err;
}
