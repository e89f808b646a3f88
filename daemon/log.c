/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static bool use_journal;
static int max_level = LOG_INFO;
static LogSink sink;
static void *sink_data;

/* systemd sets $JOURNAL_STREAM to "dev:ino" of the stream it connected to
 * our stderr; if stderr is still that stream, log natively to the journal. */
void log_open(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	use_journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
		      st.st_dev == dev && st.st_ino == ino;
}

void log_set_sink(LogSink s, void *userdata)
{
	sink = s;
	sink_data = userdata;
}

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_fields(int level, const char *msgid, const LogField *f, size_t n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sink)
		sink(sink_data, level, msgid, f, n, msg);

	if (!use_journal) {
		fprintf(stderr, "dtierd: %s\n", msg);
		return;
	}

	/* MESSAGE, PRIORITY, MESSAGE_ID, SYSLOG_IDENTIFIER, then the fields. */
	enum { FIXED = 4, MAX_FIELDS = 8 };
	char fixed[FIXED][1100], extra[MAX_FIELDS][640];
	struct iovec iov[FIXED + MAX_FIELDS];
	unsigned k = 0;

	snprintf(fixed[k], sizeof(fixed[k]), "MESSAGE=%s", msg), k++;
	snprintf(fixed[k], sizeof(fixed[k]), "PRIORITY=%d", level), k++;
	snprintf(fixed[k], sizeof(fixed[k]), "SYSLOG_IDENTIFIER=dtierd"), k++;
	if (msgid)
		snprintf(fixed[k], sizeof(fixed[k]), "MESSAGE_ID=%s", msgid), k++;
	for (unsigned i = 0; i < k; i++)
		iov[i] = (struct iovec){ fixed[i], strlen(fixed[i]) };
	for (size_t i = 0; i < n && i < MAX_FIELDS; i++) {
		if (f[i].str)
			snprintf(extra[i], sizeof(extra[i]), "%s=%s", f[i].key, f[i].str);
		else
			snprintf(extra[i], sizeof(extra[i]), "%s=%lld", f[i].key, f[i].value);
		iov[k++] = (struct iovec){ extra[i], strlen(extra[i]) };
	}
	sd_journal_sendv(iov, (int)k);
}
