/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging for the daemon (lib/ does not log). Under journald (stderr is the
 * journal stream, $JOURNAL_STREAM) each line is a structured entry with
 * PRIORITY, optional MESSAGE_ID and DTIERD_* fields; otherwise
 * "dtierd: message" on stderr. */

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

/* Fixed MESSAGE_IDs of key events (catalog: systemd/dtierd.catalog). */
#define MSGID_STARTED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d301"
#define MSGID_TARGET_REACHED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d302"
#define MSGID_TARGET_LOST "5c3a6e2f0b7d4e1d9a4f8c2b71e0d303"
#define MSGID_CONFIG_REJECTED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d304"
#define MSGID_FOREIGN_DAMON "5c3a6e2f0b7d4e1d9a4f8c2b71e0d305"
#define MSGID_KERNEL_FEATURE "5c3a6e2f0b7d4e1d9a4f8c2b71e0d306"
#define MSGID_STOPPED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d307"
#define MSGID_TARGET_CLAMPED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d308"
#define MSGID_KDAMOND_STOPPED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d309"
#define MSGID_GIVING_UP "5c3a6e2f0b7d4e1d9a4f8c2b71e0d30a"
#define MSGID_RELOAD_ACCEPTED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d30b"
#define MSGID_RELOAD_REJECTED "5c3a6e2f0b7d4e1d9a4f8c2b71e0d30c"

/* One extra journal field: KEY=value (a number), or KEY=str if str is set. */
typedef struct LogField {
	const char *key;
	long long value;
	const char *str;
} LogField;

/* The field list argument pair of log_fields():
 *   log_fields(LOG_NOTICE, MSGID_X, FIELDS({ "DTIERD_NODE", 1 }), "...", ...) */
#define FIELDS(...) ((const LogField[]){ __VA_ARGS__ }), \
	(sizeof((const LogField[]){ __VA_ARGS__ }) / sizeof(LogField))
#define NO_FIELDS NULL, 0

/* Sees every entry log_fields() lets through (after the level check), with
 * the formatted message, besides the usual output: for tests, which cannot
 * read what went to the journal. */
typedef void (*LogSink)(void *userdata, int level, const char *msgid, const LogField *f, size_t n,
			const char *msg);

void log_open(void);
/* Installs SINK (NULL: none). */
void log_set_sink(LogSink sink, void *userdata);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs FMT at LEVEL with MESSAGE_ID MSGID (or NULL) and the N extra journal
 * fields F. */
void log_fields(int level, const char *msgid, const LogField *f, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define log_error(...) log_fields(LOG_ERR, NULL, NO_FIELDS, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, NULL, NO_FIELDS, __VA_ARGS__)
#define log_notice(...) log_fields(LOG_NOTICE, NULL, NO_FIELDS, __VA_ARGS__)
#define log_info(...) log_fields(LOG_INFO, NULL, NO_FIELDS, __VA_ARGS__)
#define log_debug(...) log_fields(LOG_DEBUG, NULL, NO_FIELDS, __VA_ARGS__)
