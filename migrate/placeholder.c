/*
 * placeholder.c - expanding ${...} in migrations and seeds (see placeholder.h).
 *
 * UUIDs come from libuuid: version 1 (time and node, as Sequelize's
 * UUIDV1) by default, version 4 (random) or version 7 (Unix milliseconds,
 * then random; RFC 9562) with uuid_version in [migrate]. libuuid 2.38 has
 * no v7, so it is built here from the clock and libuuid's random bytes,
 * with a counter in rand_a so the UUIDs of one run sort in the order made.
 */
#define _POSIX_C_SOURCE 200809L
#include "placeholder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

#include "util.h"

int placeholder_any(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end && (p = memchr(p, '$', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && p[1] == '{')
			return 1;
		p++;
	}
	return 0;
}

static void uuid_v7(struct placeholders *ph, uuid_t u)
{
	struct timespec ts;
	uint64_t ms;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	uuid_generate_random(u);
	if (ms <= ph->v7_ms) {
		/* the same millisecond (or a clock step back): count on, so order holds */
		ms = ph->v7_ms;
		if (++ph->v7_seq > 0xfff) {
			ms++;
			ph->v7_seq = 0;
		}
	} else {
		ph->v7_seq = (unsigned)(u[6] & 0x07) << 8 | u[7]; /* a random start, room to count */
	}
	ph->v7_ms = ms;
	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | ((ph->v7_seq >> 8) & 0x0f));
	u[7] = (unsigned char)(ph->v7_seq & 0xff);
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
}

void placeholder_new_uuid(struct placeholders *ph, char out[37])
{
	uuid_t u;

	switch (ph->uuid_version) {
	case 4:
		uuid_generate_random(u);
		break;
	case 7:
		uuid_v7(ph, u);
		break;
	default:
		uuid_generate_time(u);
		break;
	}
	uuid_unparse_lower(u, out);
}

static const char *uuid_for(struct placeholders *ph, const char *key, size_t n)
{
	struct placeholder_uuid *e;
	size_t i;

	for (i = 0; i < ph->nuuids; i++)
		if (strlen(ph->uuids[i].key) == n && memcmp(ph->uuids[i].key, key, n) == 0)
			return ph->uuids[i].uuid;
	xgrow(&ph->uuids, &ph->cap, ph->nuuids + 1, sizeof(*ph->uuids));
	e = &ph->uuids[ph->nuuids++];
	e->key = xstrndup(key, n);
	placeholder_new_uuid(ph, e->uuid);
	return e->uuid;
}

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
}

static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!name_char(s[i], i == 0))
			return 0;
	return 1;
}

static void known_list(const struct placeholders *ph, char *buf, size_t len)
{
	size_t i, k;

	k = (size_t)snprintf(buf, len, "env, driver, uuid:KEY");
	for (i = 0; i < ph->n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, ", %s", ph->names[i]);
}

char *placeholder_expand(struct placeholders *ph, const char *s, size_t len, size_t *out_len,
			 int line, int *errline, char *msg, size_t msglen)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s, *end = s + len;
	char known[512];

	while (p < end) {
		const char *dollar = memchr(p, '$', (size_t)(end - p)), *body, *close;
		const char *val = NULL;
		size_t n, i;

		if (!dollar) {
			strbuf_add(&sb, p, (size_t)(end - p));
			break;
		}
		strbuf_add(&sb, p, (size_t)(dollar - p));
		for (; p < dollar; p++)
			if (*p == '\n')
				line++;
		if (dollar + 2 < end && dollar[1] == '$' && dollar[2] == '{') {
			strbuf_addstr(&sb, "${");
			p = dollar + 3;
			continue;
		}
		if (dollar + 1 >= end || dollar[1] != '{') {
			strbuf_addch(&sb, '$');
			p = dollar + 1;
			continue;
		}
		body = dollar + 2;
		for (close = body; close < end && *close != '}' && *close != '\n'; close++)
			;
		*errline = line;
		if (close >= end || *close != '}') {
			snprintf(msg, msglen, "'${' without a closing '}' (write $${ for a literal ${)");
			goto fail;
		}
		n = (size_t)(close - body);
		if (n > 5 && strncmp(body, "uuid:", 5) == 0 && valid_name(body + 5, n - 5)) {
			val = uuid_for(ph, body + 5, n - 5);
		} else if (n == 3 && strncmp(body, "env", 3) == 0) {
			val = ph->env;
		} else if (n == 6 && strncmp(body, "driver", 6) == 0) {
			val = ph->driver;
		} else {
			/* [placeholders] names: iniparser keeps keys lowercase, so compare without case */
			for (i = 0; i < ph->n && !val; i++) {
				if (strlen(ph->names[i]) != n || strncasecmp(ph->names[i], body, n) != 0)
					continue;
				if (!ph->values[i]) {
					snprintf(msg, msglen,
						 "placeholder '${%.*s}': its value in [placeholders] names an unset environment variable",
						 (int)n, body);
					goto fail;
				}
				val = ph->values[i];
			}
		}
		if (!val) {
			known_list(ph, known, sizeof(known));
			snprintf(msg, msglen, "unknown placeholder '${%.*s}' (known: %s; $${ is a literal ${)",
				 (int)(n > 60 ? 60 : n), body, known);
			goto fail;
		}
		strbuf_addstr(&sb, val);
		p = close + 1;
	}
	if (out_len)
		*out_len = sb.len;
	return strbuf_detach(&sb);
fail:
	strbuf_release(&sb);
	return NULL;
}

void placeholders_release(struct placeholders *ph)
{
	size_t i;

	for (i = 0; i < ph->nuuids; i++)
		free(ph->uuids[i].key);
	free(ph->uuids);
	ph->uuids = NULL;
	ph->nuuids = ph->cap = 0;
}
