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

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_fields(int level, const char *msgid, const char *const *fields, unsigned n_fields, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!use_journal) {
		fprintf(stderr, "dtierd: %s\n", msg);
		return;
	}

	char prio[16], mid[64], *m = NULL;
	struct iovec iov[4 + 16];
	unsigned n = 0;

	if (asprintf(&m, "MESSAGE=%s", msg) < 0)
		return;
	iov[n++] = (struct iovec){ m, strlen(m) };
	snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	if (msgid) {
		snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", msgid);
		iov[n++] = (struct iovec){ mid, strlen(mid) };
	}
	iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=dtierd", strlen("SYSLOG_IDENTIFIER=dtierd") };
	for (unsigned i = 0; i < n_fields && n < sizeof(iov) / sizeof(iov[0]); i++)
		iov[n++] = (struct iovec){ (char *)fields[i], strlen(fields[i]) };
	sd_journal_sendv(iov, (int)n);
	free(m);
}
