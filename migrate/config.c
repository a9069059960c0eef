/*
 * config.c - loading settings (see config.h).
 *
 * Divisions: URL parsing and display; ${VAR} expansion; finding the line of
 * a key (iniparser does not keep line numbers, so errors re-read the file);
 * loading and resolving.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "layout.h"
#include "util.h"

/* ---- URLs ------------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *w = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*w++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

void db_url_release(struct db_url *u)
{
	free(u->driver);
	free(u->user);
	free(u->password);
	free(u->host);
	free(u->database);
	free(u->socket);
	free(u->sslmode);
	free(u->ssl_ca);
	free(u->ssl_cert);
	free(u->ssl_key);
	free(u->options);
	memset(u, 0, sizeof(*u));
}

static int url_fail(char *errbuf, size_t errlen, const char *fmt, ...) MIGRATE_PRINTF(3, 4);
static int url_fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_port(const char *s, size_t n, int *out)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_seconds(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 86400 * 365)
		return -1;
	*out = (int)v;
	return 0;
}

/* The query string: ?key=value&key=value */
static int url_query(const char *q, struct db_url *u, char *errbuf, size_t errlen)
{
	static const char *const known = "sslmode, socket, host, port, ssl_ca, ssl_cert, ssl_key, options, connect_timeout";

	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		char *key, *val;
		char **slot = NULL;

		if (n == 0) {
			q += 1;
			continue;
		}
		if (!eq)
			return url_fail(errbuf, errlen, "URL parameter '%.*s' has no value (write key=value)", (int)n, q);
		key = xstrndup(q, (size_t)(eq - q));
		val = url_decode(eq + 1, (size_t)(q + n - eq - 1));
		if (!val) {
			url_fail(errbuf, errlen, "URL parameter '%s' has a bad %% escape", key);
			free(key);
			return -1;
		}
		if (strcmp(key, "sslmode") == 0)
			slot = &u->sslmode;
		else if (strcmp(key, "socket") == 0)
			slot = &u->socket;
		else if (strcmp(key, "host") == 0)
			slot = &u->host;
		else if (strcmp(key, "ssl_ca") == 0)
			slot = &u->ssl_ca;
		else if (strcmp(key, "ssl_cert") == 0)
			slot = &u->ssl_cert;
		else if (strcmp(key, "ssl_key") == 0)
			slot = &u->ssl_key;
		else if (strcmp(key, "options") == 0)
			slot = &u->options;
		else if (strcmp(key, "port") == 0) {
			if (parse_port(val, strlen(val), &u->port)) {
				url_fail(errbuf, errlen, "URL parameter port='%s' is not a number from 1 to 65535", val);
				free(key);
				free(val);
				return -1;
			}
		} else if (strcmp(key, "connect_timeout") == 0) {
			if (parse_seconds(val, &u->connect_timeout)) {
				url_fail(errbuf, errlen, "URL parameter connect_timeout='%s' is not a number of seconds", val);
				free(key);
				free(val);
				return -1;
			}
		} else {
			url_fail(errbuf, errlen, "unknown URL parameter '%s' (known: %s)", key, known);
			free(key);
			free(val);
			return -1;
		}
		if (slot) {
			free(*slot);
			*slot = val;
		} else {
			free(val);
		}
		free(key);
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

static int url_sqlite(const char *rest, struct db_url *u, char *errbuf, size_t errlen)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);

	u->driver = xstrdup("sqlite");
	if (n >= 2 && rest[0] == '/' && rest[1] == '/') {
		/* sqlite:///absolute/path.db: an empty authority, then the path */
		if (n < 3 || rest[2] != '/')
			return url_fail(errbuf, errlen,
					"SQLite URL takes no host: write sqlite:relative/path.db or sqlite:///absolute/path.db");
		rest += 2;
		n -= 2;
	}
	if (n == 0)
		return url_fail(errbuf, errlen, "SQLite URL names no database file (write sqlite:path/to/file.db)");
	u->database = url_decode(rest, n);
	if (!u->database)
		return url_fail(errbuf, errlen, "SQLite URL has a bad %% escape in its path");
	if (q && url_query(q + 1, u, errbuf, errlen))
		return -1;
	return 0;
}

int url_parse(const char *url, struct db_url *out, char *errbuf, size_t errlen)
{
	const char *colon, *p, *auth_end, *at, *hostp, *hostend, *portp = NULL;
	const char *path_end;
	size_t scheme_len;
	char scheme[16];
	int r = -1;

	memset(out, 0, sizeof(*out));
	colon = strchr(url, ':');
	if (!colon || colon == url || (size_t)(colon - url) >= sizeof(scheme))
		return url_fail(errbuf, errlen,
				"not a database URL (expected postgres://, mysql://, mariadb:// or sqlite:)");
	scheme_len = (size_t)(colon - url);
	memcpy(scheme, url, scheme_len);
	scheme[scheme_len] = '\0';
	for (p = scheme; *p; p++)
		scheme[p - scheme] = (char)tolower((unsigned char)*p);

	if (strcmp(scheme, "sqlite") == 0 || strcmp(scheme, "sqlite3") == 0) {
		r = url_sqlite(colon + 1, out, errbuf, errlen);
		goto done;
	}
	if (strcmp(scheme, "postgres") == 0 || strcmp(scheme, "postgresql") == 0)
		out->driver = xstrdup("postgres");
	else if (strcmp(scheme, "mysql") == 0 || strcmp(scheme, "mariadb") == 0)
		out->driver = xstrdup("mysql");
	else {
		url_fail(errbuf, errlen,
			 "unknown URL scheme '%s:' (expected postgres://, postgresql://, mysql://, mariadb:// or sqlite:)",
			 scheme);
		goto done;
	}
	if (strncmp(colon, "://", 3) != 0) {
		url_fail(errbuf, errlen, "a %s URL starts %s://", scheme, scheme);
		goto done;
	}
	p = colon + 3;
	/*
	 * user:password@ ends at the last @ before any query string, so a
	 * password holding an unencoded @, / or : still parses, and no part of
	 * it is ever taken for a host, port or path (and echoed in a message).
	 */
	at = NULL;
	for (hostp = p; *hostp && *hostp != '?'; hostp++)
		if (*hostp == '@')
			at = hostp;
	/*
	 * An @ after the ? means a ? in the user name or password: the query
	 * string would hold part of the password, and its errors quote it.
	 */
	if (*hostp == '?' && strchr(hostp, '@')) {
		url_fail(errbuf, errlen,
			 "the URL has an '@' after its '?': percent-encode '?' as %%3F and '@' as %%40 in the user name and password");
		goto done;
	}
	auth_end = (at ? at + 1 : p) + strcspn(at ? at + 1 : p, "/?");
	if (at) {
		const char *pc = memchr(p, ':', (size_t)(at - p));
		const char *uend = pc ? pc : at;
		out->user = url_decode(p, (size_t)(uend - p));
		if (!out->user) {
			url_fail(errbuf, errlen, "the URL's user name has a bad %% escape");
			goto done;
		}
		if (pc) {
			out->password = url_decode(pc + 1, (size_t)(at - pc - 1));
			if (!out->password) {
				url_fail(errbuf, errlen, "the URL's password has a bad %% escape (percent-encode it)");
				goto done;
			}
		}
		if (!out->user[0]) {
			free(out->user);
			out->user = NULL;
		}
		hostp = at + 1;
	} else {
		hostp = p;
	}
	/* host, [v6], :port */
	if (*hostp == '[') {
		hostend = memchr(hostp, ']', (size_t)(auth_end - hostp));
		if (!hostend) {
			url_fail(errbuf, errlen, "the URL's IPv6 host has no closing ']'");
			goto done;
		}
		out->host = xstrndup(hostp + 1, (size_t)(hostend - hostp - 1));
		hostend++;
		if (hostend < auth_end) {
			if (*hostend != ':') {
				url_fail(errbuf, errlen, "unexpected text after the URL's IPv6 host");
				goto done;
			}
			portp = hostend + 1;
		}
	} else {
		const char *pc = memchr(hostp, ':', (size_t)(auth_end - hostp));
		hostend = pc ? pc : auth_end;
		if (hostend > hostp) {
			out->host = url_decode(hostp, (size_t)(hostend - hostp));
			if (!out->host) {
				url_fail(errbuf, errlen, "the URL's host has a bad %% escape");
				goto done;
			}
		}
		if (pc)
			portp = pc + 1;
	}
	if (portp && parse_port(portp, (size_t)(auth_end - portp), &out->port)) {
		/* not echoed: with a mistyped URL it could be part of a password */
		url_fail(errbuf, errlen, "the URL's port is not a number from 1 to 65535 (percent-encode special characters in the password)");
		goto done;
	}
	/* /database */
	p = auth_end;
	if (*p == '/') {
		p++;
		path_end = p + strcspn(p, "?");
		if (path_end > p) {
			out->database = url_decode(p, (size_t)(path_end - p));
			if (!out->database) {
				url_fail(errbuf, errlen, "the URL's database name has a bad %% escape");
				goto done;
			}
		}
		p = path_end;
	}
	if (*p == '?' && url_query(p + 1, out, errbuf, errlen))
		goto done;
	r = 0;
done:
	if (r)
		db_url_release(out);
	return r;
}

static void add_encoded(struct strbuf *sb, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c) || (keep && strchr(keep, c))) {
			strbuf_addch(sb, (char)c);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[c >> 4]);
			strbuf_addch(sb, hex[c & 15]);
		}
	}
}

char *db_url_display(const struct db_url *u)
{
	return db_url_format(u, URL_PASSWORD_MASK);
}

char *db_url_format(const struct db_url *u, enum url_password pw)
{
	struct strbuf sb = STRBUF_INIT;
	char sep = '?';

	if (!u->driver)
		return xstrdup("(none)");
	if (strcmp(u->driver, "sqlite") == 0) {
		strbuf_addf(&sb, "sqlite:%s%s", u->database && u->database[0] == '/' ? "//" : "",
			    u->database ? u->database : "");
		return strbuf_detach(&sb);
	}
	strbuf_addf(&sb, "%s://", u->driver);
	if (u->user)
		add_encoded(&sb, u->user, NULL);
	if (u->password && pw == URL_PASSWORD_SHOW) {
		strbuf_addch(&sb, ':');
		add_encoded(&sb, u->password, NULL);
	} else if (u->password && pw == URL_PASSWORD_MASK) {
		strbuf_addstr(&sb, ":****");
	}
	if (u->user || (u->password && pw != URL_PASSWORD_OMIT))
		strbuf_addch(&sb, '@');
	if (u->host && strchr(u->host, ':'))
		strbuf_addf(&sb, "[%s]", u->host);
	else if (u->host && u->host[0] != '/')
		add_encoded(&sb, u->host, NULL);
	if (u->port)
		strbuf_addf(&sb, ":%d", u->port);
	strbuf_addch(&sb, '/');
	if (u->database)
		add_encoded(&sb, u->database, NULL);
	if (u->host && u->host[0] == '/') {
		strbuf_addf(&sb, "%chost=", sep);
		add_encoded(&sb, u->host, "/");
		sep = '&';
	}
	if (u->socket) {
		strbuf_addf(&sb, "%csocket=", sep);
		add_encoded(&sb, u->socket, "/");
		sep = '&';
	}
	if (u->sslmode)
		strbuf_addf(&sb, "%csslmode=%s", sep, u->sslmode);
	return strbuf_detach(&sb);
}

/* ---- ${VAR} expansion ------------------------------------------------------ */

static int valid_var_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* The offset of the '}' closing the ${ at s (s points after "${"), or -1. */
static long closing_brace(const char *s)
{
	int depth = 1;
	long i;

	for (i = 0; s[i]; i++) {
		if (s[i] == '$' && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}' && --depth == 0) {
			return i;
		}
	}
	return -1;
}

char *expand_vars(const char *value, expand_lookup_fn lookup, void *ctx, char *errbuf,
		  size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = value;

	while (*s) {
		const char *body, *dflt;
		const char *val;
		long close;
		size_t nlen;
		char *name;

		if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
			strbuf_addstr(&sb, "${");
			s += 3;
			continue;
		}
		if (s[0] != '$' || s[1] != '{') {
			strbuf_addch(&sb, *s++);
			continue;
		}
		body = s + 2;
		close = closing_brace(body);
		if (close < 0) {
			snprintf(errbuf, errlen, "'${' without a closing '}' (write $${ for a literal ${)");
			goto fail;
		}
		dflt = strstr(body, ":-");
		if (dflt && dflt - body >= close)
			dflt = NULL;
		nlen = dflt ? (size_t)(dflt - body) : (size_t)close;
		if (!valid_var_name(body, nlen)) {
			/*
			 * The text is not quoted: it may be part of a password that
			 * happens to hold "${" (a value's text is never echoed).
			 */
			snprintf(errbuf, errlen,
				 "'${' is not followed by a variable name (letters, digits and _) and '}'"
				 " (write $${ for a literal ${)");
			goto fail;
		}
		name = xstrndup(body, nlen);
		val = lookup(ctx, name);
		if (val && *val) {
			strbuf_addstr(&sb, val);
		} else if (dflt) {
			char *d = xstrndup(dflt + 2, (size_t)(body + close - dflt - 2));
			char *e = expand_vars(d, lookup, ctx, errbuf, errlen);
			free(d);
			if (!e) {
				free(name);
				goto fail;
			}
			strbuf_addstr(&sb, e);
			free(e);
		} else if (val) {
			/* set but empty, and no default: empty is what was asked for */
		} else {
			snprintf(errbuf, errlen,
				 "environment variable '%s' is not set (set it, or write ${%s:-default})",
				 name, name);
			free(name);
			goto fail;
		}
		free(name);
		s = body + close + 1;
	}
	return strbuf_detach(&sb);
fail:
	strbuf_release(&sb);
	return NULL;
}

static const char *getenv_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* ---- where a key is, for messages ------------------------------------------- */

/*
 * The line of key in [section] of path (both compared without case, as
 * iniparser does), or of the section header when key is NULL; 0 when not
 * found.
 */
static int ini_line(const char *path, const char *section, const char *key)
{
	char *text, *p, *e;
	size_t len;
	int n = 0, found = 0, in = 0;

	if (!path || read_file(path, &text, &len))
		return 0;
	for (p = text; *p && !found; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		n++;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(e - p));
			size_t slen = strlen(section);
			in = close && (size_t)(close - p - 1) == slen && strncasecmp(p + 1, section, slen) == 0;
			if (in && !key)
				found = n;
		} else if (in && key && strncasecmp(p, key, strlen(key)) == 0) {
			const char *q = p + strlen(key);
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=' || *q == ':')
				found = n;
		}
	}
	free(text);
	return found;
}

/* ---- loading ------------------------------------------------------------------- */

/* iniparser reports syntax errors through a printf-like callback; keep the first. */
static char ini_error[512];

static int ini_error_cb(const char *fmt, ...) MIGRATE_PRINTF(1, 2);
static int ini_error_cb(const char *fmt, ...)
{
	va_list ap;

	if (ini_error[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(ini_error, sizeof(ini_error), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * iniparser 4.1 reads lines into a 1,024-byte buffer: a longer line (a
 * cloud provider's token as a password, a long URL) is an error there.
 * Such a line of the form "key = value" is loaded through a short stand-in
 * value, and the real value is put in after iniparser has read the file.
 */
#define INI_LONG_LINE 1000 /* below iniparser's limit (1,023 with the newline) */
#define INI_LONG_MARK "__migrate_long_value_"

struct ini_long {
	char **values; /* values[i] stands for INI_LONG_MARK "<i>__" */
	size_t n, cap;
};

/*
 * The value of a "key = value" line as iniparser 4.1 reads it: the text
 * between quotes when quoted, else up to a ; or # comment, trimmed.
 */
static char *ini_line_value(const char *v, const char *e)
{
	const char *close;

	while (v < e && isspace((unsigned char)*v))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	if (v < e && (*v == '"' || *v == '\'')) {
		close = memchr(v + 1, *v, (size_t)(e - v - 1));
		return xstrndup(v + 1, (size_t)((close ? close : e) - v - 1));
	}
	close = v + strcspn(v, ";#");
	if (close < e)
		e = close;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(v, (size_t)(e - v));
}

/* Puts the long values back in place of their stand-ins. */
static void ini_long_restore(dictionary *d, const struct ini_long *lv)
{
	size_t mark = strlen(INI_LONG_MARK);
	int i;

	for (i = 0; d && lv->n && i < d->size; i++) {
		char *key;
		size_t k;

		if (!d->key[i] || !d->val[i] || strncmp(d->val[i], INI_LONG_MARK, mark) != 0)
			continue;
		k = strtoul(d->val[i] + mark, NULL, 10);
		if (k >= lv->n)
			continue;
		key = xstrdup(d->key[i]);
		iniparser_set(d, key, lv->values[k]);
		free(key);
	}
}

/*
 * Reads a config file whole, refusing a directory and anything past
 * CONFIG_MAX bytes: --config /dev/zero (or a runaway generator behind
 * --config <(...)) would otherwise be read until memory runs out. Returns
 * 0 or an errno (EFBIG past the limit).
 */
#define CONFIG_MAX (1024 * 1024)

static int config_read(const char *path, char **out, size_t *len, int *regular)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	struct stat st;
	size_t n;
	FILE *f;
	int err = 0;

	*out = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f)
		return errno;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return EISDIR;
	}
	*regular = S_ISREG(st.st_mode);
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		strbuf_add(&sb, chunk, n);
		if (sb.len > CONFIG_MAX)
			err = EFBIG;
	}
	if (!err && ferror(f))
		err = errno ? errno : EIO;
	fclose(f);
	if (err) {
		strbuf_release(&sb);
		return err;
	}
	*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

/*
 * Loads path. iniparser 4.1 also takes "[section] ; comment" for a syntax
 * error, though it accepts comments after values. When a file has such
 * lines or long lines, a private copy is loaded instead, with those
 * comments cut and long values stood in for (same lines, so line numbers
 * hold).
 */
static dictionary *ini_load(const char *path)
{
	char *text, *p, *e, tmpl[] = "/tmp/migrate-ini-XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	struct strbuf clean = STRBUF_INIT;
	struct ini_long lv = { NULL, 0, 0 };
	char *tmp;
	dictionary *d = NULL;
	size_t len, i;
	int fd, changed = 0, regular = 0;

	if ((fd = config_read(path, &text, &len, &regular)) != 0) {
		snprintf(ini_error, sizeof(ini_error), "%s",
			 fd == EFBIG ? "larger than 1 MiB: not a config file" : strerror(fd));
		return NULL;
	}
	/* iniparser reads a line only up to a NUL: the rest of it would vanish unseen */
	if ((p = memchr(text, '\0', len)) != NULL) {
		int line = 1;
		for (e = text; e < p; e++)
			line += *e == '\n';
		snprintf(ini_error, sizeof(ini_error), "NUL byte (%d)", line);
		free(text);
		return NULL;
	}
	for (p = text; *p; p = *e ? e + 1 : e) {
		const char *q = p, *close, *eq;
		e = p + strcspn(p, "\n");
		while (q < e && isspace((unsigned char)*q))
			q++;
		close = *q == '[' ? memchr(q, ']', (size_t)(e - q)) : NULL;
		if (close && close + 1 < e) {
			const char *r = close + 1;
			while (r < e && isspace((unsigned char)*r))
				r++;
			if (r < e && (*r == ';' || *r == '#')) {
				strbuf_add(&clean, p, (size_t)(close + 1 - p));
				changed = 1;
				if (*e)
					strbuf_addch(&clean, '\n');
				continue;
			}
		}
		eq = memchr(q, '=', (size_t)(e - q));
		if ((size_t)(e - p) >= INI_LONG_LINE && (*q == ';' || *q == '#')) {
			strbuf_addstr(&clean, ";");
			changed = 1;
			if (*e)
				strbuf_addch(&clean, '\n');
			continue;
		}
		if ((size_t)(e - p) >= INI_LONG_LINE && *q != '[' && eq && eq - q < INI_LONG_LINE / 2) {
			xgrow(&lv.values, &lv.cap, lv.n + 1, sizeof(*lv.values));
			lv.values[lv.n] = ini_line_value(eq + 1, e);
			strbuf_add(&clean, q, (size_t)(eq - q));
			strbuf_addf(&clean, "= " INI_LONG_MARK "%zu__", lv.n++);
			changed = 1;
			if (*e)
				strbuf_addch(&clean, '\n');
			continue;
		}
		strbuf_add(&clean, p, (size_t)(e - p) + (*e ? 1 : 0));
	}
	free(text);
	/* a pipe (--config <(...)) is read once: iniparser then loads the private copy */
	if (!changed && regular) {
		strbuf_release(&clean);
		return iniparser_load(path);
	}
	tmp = tmpdir && *tmpdir ? xasprintf("%s/migrate-ini-XXXXXX", tmpdir) : xstrdup(tmpl);
	fd = mkstemp(tmp); /* 0600: the copy may hold a password */
	if (fd >= 0) {
		int werr = write_all(fd, clean.buf, clean.len);
		if (close(fd) != 0 && !werr)
			werr = errno;
		if (!werr)
			d = iniparser_load(tmp);
		else /* never a half-written copy: say why, as a reading error */
			snprintf(ini_error, sizeof(ini_error), "cannot write a private copy of it in '%s': %s",
				 tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(werr));
		unlink(tmp);
	} else {
		d = iniparser_load(path);
	}
	ini_long_restore(d, &lv);
	for (i = 0; i < lv.n; i++)
		free(lv.values[i]);
	free(lv.values);
	free(tmp);
	strbuf_release(&clean);
	return d;
}

static const char *const shared_keys[] = {
	"migrations_dir", "seeds_dir", "table", "seeds_table", "lock_timeout", "uuid_version", "verify_url", "ignore",
	"pool", "testdb_dir", "format",
	"lock_wait", "retries", "statement_timeout", "lock_mode", "lease", NULL,
};

static const char *const conn_keys[] = {
	"driver", "url", "host", "port", "user", "password", "database", "socket",
	"sslmode", "ssl_ca", "ssl_cert", "ssl_key", "options", "connect_timeout", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

struct loader {
	struct config *c;
	dictionary *ini;
	const char *path;
	const char *section;      /* the environment's section, as in the file (lowercase) */
	struct migrate_error *err;
	/* expanded values of the sections in use */
	char *shared[sizeof(shared_keys) / sizeof(shared_keys[0])]; /* one per key, the NULL end spare */
	char *conn[16];
	int conn_given;           /* any connection key in the section */
};

static void list_keys(struct strbuf *sb, const char *const *a, const char *const *b)
{
	const char *const *l;
	int first = 1;

	for (l = a; l && *l; l++) {
		strbuf_addf(sb, "%s%s", first ? "" : ", ", *l);
		first = 0;
	}
	for (l = b; l && *l; l++)
		strbuf_addf(sb, ", %s", *l);
}

/* Reads and expands every key of one section into the loader's slots. */
static enum migrate_result load_section(struct loader *ld, const char *sec, int is_env)
{
	int nkeys = iniparser_getsecnkeys(ld->ini, sec), i;
	const char **keys;
	char msg[512];

	if (nkeys <= 0)
		return MIGRATE_OK;
	keys = xcalloc((size_t)nkeys, sizeof(*keys));
	iniparser_getseckeys(ld->ini, sec, keys);
	for (i = 0; i < nkeys; i++) {
		const char *full = keys[i];
		const char *key = strchr(full, ':') ? strchr(full, ':') + 1 : full;
		const char *raw = iniparser_getstring(ld->ini, full, "");
		char **slot = NULL;
		char *val;
		size_t k;

		for (k = 0; shared_keys[k]; k++)
			if (strcmp(shared_keys[k], key) == 0)
				slot = &ld->shared[k];
		for (k = 0; is_env && !slot && conn_keys[k]; k++)
			if (strcmp(conn_keys[k], key) == 0)
				slot = &ld->conn[k];
		if (!slot) {
			struct strbuf sb = STRBUF_INIT;
			list_keys(&sb, shared_keys, is_env ? conn_keys : NULL);
			merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: unknown key '%s' in [%s] (known keys: %s)",
				 ld->path, ini_line(ld->path, sec, key), key, sec, strbuf_str(&sb));
			strbuf_release(&sb);
			free(keys);
			return MIGRATE_EUSAGE;
		}
		val = expand_vars(raw, getenv_lookup, NULL, msg, sizeof(msg));
		if (!val) {
			merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: in [%s] %s: %s", ld->path,
				 ini_line(ld->path, sec, key), sec, key, msg);
			free(keys);
			return MIGRATE_EUSAGE;
		}
		free(*slot);
		*slot = val;
		if (is_env && in_list(conn_keys, key))
			ld->conn_given = 1;
	}
	free(keys);
	return MIGRATE_OK;
}

/*
 * [placeholders]: every key is a ${NAME} for migrations and seeds. The
 * section is global (not per environment); its values expand ${VAR} from
 * the environment like the sections in use.
 */
static enum migrate_result load_placeholders(struct loader *ld)
{
	int nkeys = iniparser_getsecnkeys(ld->ini, "placeholders"), i;
	const char **keys;
	char msg[512];

	if (nkeys <= 0)
		return MIGRATE_OK;
	keys = xcalloc((size_t)nkeys, sizeof(*keys));
	iniparser_getseckeys(ld->ini, "placeholders", keys);
	ld->c->ph_names = xcalloc((size_t)nkeys, sizeof(char *));
	ld->c->ph_values = xcalloc((size_t)nkeys, sizeof(char *));
	for (i = 0; i < nkeys; i++) {
		const char *key = strchr(keys[i], ':') ? strchr(keys[i], ':') + 1 : keys[i];
		const char *raw = iniparser_getstring(ld->ini, keys[i], "");
		size_t k, n = strlen(key);
		int ok = n > 0 && !isdigit((unsigned char)key[0]) && key[0] != '.' && key[0] != '-';
		char *val;

		for (k = 0; k < n; k++)
			if (!isalnum((unsigned char)key[k]) && key[k] != '_' && key[k] != '.' && key[k] != '-')
				ok = 0;
		if (!ok || strcmp(key, "env") == 0 || strcmp(key, "driver") == 0 || strncmp(key, "uuid", 4) == 0) {
			merr_set(ld->err, MIGRATE_EUSAGE,
				 "%s:%d: placeholder name '%s' in [placeholders] %s", ld->path,
				 ini_line(ld->path, "placeholders", key), key,
				 ok ? "is built in (env, driver and uuid:KEY are)" : "is not letters, digits, _ . -");
			free(keys);
			return MIGRATE_EUSAGE;
		}
		/*
		 * An unset ${VAR} is an error only where the placeholder is used
		 * (NULL here), so a value for production does not stop development.
		 */
		val = expand_vars(raw, getenv_lookup, NULL, msg, sizeof(msg));
		ld->c->ph_names[ld->c->nph] = xstrdup(key);
		ld->c->ph_values[ld->c->nph++] = val;
	}
	free(keys);
	return MIGRATE_OK;
}

/*
 * [lint]: RULE-ID = error | warning | off, and enforce = true | false. Like
 * [placeholders] it is global, and its values expand ${VAR}. The rule ids
 * are lint's to check (lint_check_config), so this file need not know them.
 */
static enum migrate_result load_lint(struct loader *ld)
{
	int nkeys = iniparser_getsecnkeys(ld->ini, "lint"), i;
	const char **keys;
	char msg[512];
	enum migrate_result r = MIGRATE_OK;

	if (nkeys <= 0)
		return MIGRATE_OK;
	keys = xcalloc((size_t)nkeys, sizeof(*keys));
	iniparser_getseckeys(ld->ini, "lint", keys);
	ld->c->lint = xcalloc((size_t)nkeys, sizeof(*ld->c->lint));
	for (i = 0; i < nkeys && r == MIGRATE_OK; i++) {
		const char *key = strchr(keys[i], ':') ? strchr(keys[i], ':') + 1 : keys[i];
		const char *raw = iniparser_getstring(ld->ini, keys[i], "");
		int line = ini_line(ld->path, "lint", key);
		char *val = expand_vars(raw, getenv_lookup, NULL, msg, sizeof(msg));
		enum migrate_lint_severity sev = MIGRATE_LINT_OFF;

		if (!val) {
			r = merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: in [lint] %s: %s", ld->path, line, key, msg);
		} else if (strcmp(key, "enforce") == 0) {
			if (strcasecmp(val, "true") == 0)
				ld->c->lint_enforce = 1;
			else if (strcasecmp(val, "false") == 0)
				ld->c->lint_enforce = 0;
			else
				r = merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: [lint] enforce '%s' is not true or false",
					     ld->path, line, val);
		} else if (strcasecmp(val, "error") == 0 || strcasecmp(val, "warning") == 0 ||
			   strcasecmp(val, "off") == 0) {
			struct config_lint *cl = &ld->c->lint[ld->c->nlint++];
			if (strcasecmp(val, "error") == 0)
				sev = MIGRATE_LINT_ERROR;
			else if (strcasecmp(val, "warning") == 0)
				sev = MIGRATE_LINT_WARNING;
			cl->rule = xstrdup(key);
			cl->severity = sev;
			cl->line = line;
		} else {
			r = merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: [lint] %s '%s' is not error, warning or off",
				     ld->path, line, key, val);
		}
		free(val);
	}
	free(keys);
	return r;
}

static int conn_index(const char *key)
{
	int k;

	for (k = 0; conn_keys[k]; k++)
		if (strcmp(conn_keys[k], key) == 0)
			return k;
	return -1;
}

static int shared_index(const char *key)
{
	int k;

	for (k = 0; shared_keys[k]; k++)
		if (strcmp(shared_keys[k], key) == 0)
			return k;
	return -1;
}

static void set_str(char **slot, const char *v)
{
	if (v) {
		free(*slot);
		*slot = xstrdup(v);
	}
}

/* Overlays the section's individual connection keys on c->conn. */
static enum migrate_result apply_conn_keys(struct loader *ld)
{
	struct db_url *u = &ld->c->conn;
	const char *v;

#define KEY(name) ld->conn[conn_index(name)]
	set_str(&u->driver, KEY("driver"));
	set_str(&u->host, KEY("host"));
	set_str(&u->user, KEY("user"));
	set_str(&u->password, KEY("password"));
	set_str(&u->database, KEY("database"));
	set_str(&u->socket, KEY("socket"));
	set_str(&u->sslmode, KEY("sslmode"));
	set_str(&u->ssl_ca, KEY("ssl_ca"));
	set_str(&u->ssl_cert, KEY("ssl_cert"));
	set_str(&u->ssl_key, KEY("ssl_key"));
	set_str(&u->options, KEY("options"));
	v = KEY("port");
	if (v && *v && parse_port(v, strlen(v), &u->port))
		return merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: port '%s' is not a number from 1 to 65535",
				ld->path, ini_line(ld->path, ld->section, "port"), v);
	v = KEY("connect_timeout");
	if (v && *v && parse_seconds(v, &u->connect_timeout))
		return merr_set(ld->err, MIGRATE_EUSAGE,
				"%s:%d: connect_timeout '%s' is not a number of seconds", ld->path,
				ini_line(ld->path, ld->section, "connect_timeout"), v);
#undef KEY
	return MIGRATE_OK;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void known_envs(dictionary *ini, struct strbuf *sb)
{
	int n = iniparser_getnsec(ini), i, first = 1;

	for (i = 0; i < n; i++) {
		const char *s = iniparser_getsecname(ini, i);
		if (!s || strcmp(s, "migrate") == 0 || strcmp(s, "placeholders") == 0 || strcmp(s, "lint") == 0 ||
		    strncmp(s, "targets ", 8) == 0)
			continue;
		strbuf_addf(sb, "%s%s", first ? "" : ", ", s);
		first = 0;
	}
	if (first)
		strbuf_addstr(sb, "none");
}

static char *lowercase(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/*
 * lock_wait, retries and statement_timeout (SPEC section 9): a bad value is
 * an error at the line that gave it, in the environment's section or
 * [migrate].
 */
static enum migrate_result load_limits(struct loader *ld, const char *lock_wait, const char *retries,
				       const char *statement_timeout)
{
	struct config *c = ld->c;
	const char *names[3] = { "lock_wait", "retries", "statement_timeout" };
	const char *vals[3] = { lock_wait, retries, statement_timeout };
	int i;

	c->lock_wait_ms = 3000;
	c->retries = 5;
	c->statement_timeout_ms = 0;
	for (i = 0; i < 3; i++) {
		const char *v = vals[i], *sec;
		long long ms = 0;
		char *end;
		long n = 0;
		int bad;

		if (!v)
			continue;
		if (i == 1) {
			errno = 0;
			n = strtol(v, &end, 10);
			bad = !isdigit((unsigned char)v[0]) || errno || *end || n > 1000;
		} else {
			bad = parse_duration_ms(v, strlen(v), &ms) != 0;
		}
		if (bad) {
			sec = ini_line(c->path, c->env, names[i]) ? c->env : "migrate";
			return merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: %s '%s' is not %s", c->path,
					ini_line(c->path, sec, names[i]), names[i], v,
					i == 1 ? "a number of retries from 0 to 1000"
					       : "a duration such as 3s, 500ms or 2m (0: no limit)");
		}
		if (i == 0)
			c->lock_wait_ms = ms;
		else if (i == 1)
			c->retries = (int)n;
		else
			c->statement_timeout_ms = ms;
	}
	return MIGRATE_OK;
}

/* lock_mode and lease (SPEC section 10), each an error at its line. */
static enum migrate_result load_lock_mode(struct loader *ld, const char *mode, const char *lease)
{
	struct config *c = ld->c;
	const char *sec;

	c->lock_mode = CONFIG_LOCK_AUTO;
	c->lease_ms = 30000;
	if (mode) {
		if (strcmp(mode, "auto") == 0)
			c->lock_mode = CONFIG_LOCK_AUTO;
		else if (strcmp(mode, "advisory") == 0)
			c->lock_mode = CONFIG_LOCK_ADVISORY;
		else if (strcmp(mode, "table") == 0)
			c->lock_mode = CONFIG_LOCK_TABLE;
		else {
			sec = ini_line(c->path, c->env, "lock_mode") ? c->env : "migrate";
			return merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: lock_mode '%s' is not auto, advisory or table",
					c->path, ini_line(c->path, sec, "lock_mode"), mode);
		}
	}
	if (lease && (parse_duration_ms(lease, strlen(lease), &c->lease_ms) || c->lease_ms < 1000)) {
		sec = ini_line(c->path, c->env, "lease") ? c->env : "migrate";
		return merr_set(ld->err, MIGRATE_EUSAGE, "%s:%d: lease '%s' is not a duration of at least 1s (such as 30s or 2m)",
				c->path, ini_line(c->path, sec, "lease"), lease);
	}
	return MIGRATE_OK;
}

enum migrate_result config_load(const struct migrate_options *opt, int need_database,
				struct config *out, struct migrate_error *err)
{
	struct loader ld;
	const char *cfg_path, *env, *url, *v;
	char *cfg_dir = NULL, msg[512];
	int explicit_cfg, explicit_env, have_file;
	enum migrate_result r = MIGRATE_EUSAGE;
	size_t k;

	memset(out, 0, sizeof(*out));
	memset(&ld, 0, sizeof(ld));
	ld.c = out;
	ld.err = err;

	cfg_path = opt->config_path;
	if (!cfg_path || !*cfg_path)
		cfg_path = getenv("MIGRATE_CONFIG");
	explicit_cfg = cfg_path && *cfg_path;
	if (!explicit_cfg)
		cfg_path = "config.ini";
	env = opt->env;
	if (!env || !*env)
		env = getenv("MIGRATE_ENV");
	explicit_env = env && *env;
	if (!explicit_env)
		env = "development";
	url = opt->url;
	if (!url || !*url)
		url = getenv("DATABASE_URL");
	if (url && !*url)
		url = NULL;

	out->env = lowercase(env);
	out->lock_timeout = 60;
	out->lint_enforce = 1;
	have_file = file_exists(cfg_path);
	if (!have_file && (explicit_cfg || (need_database && !url))) {
		merr_set(err, MIGRATE_EUSAGE,
			 "config file '%s' not found (create it, pass --config FILE, or give --url / DATABASE_URL)",
			 cfg_path);
		goto out;
	}
	if (have_file) {
		ini_error[0] = '\0';
		iniparser_set_error_callback(ini_error_cb);
		ld.ini = ini_load(cfg_path);
		iniparser_set_error_callback(NULL);
		if (!ld.ini || ini_error[0]) {
			/*
			 * "iniparser: syntax error in FILE (LINE):\n-> TEXT". The
			 * line's text is not shown: it may hold a password.
			 */
			char *p = strstr(ini_error, " (");
			int line = p ? atoi(p + 2) : 0;
			if (line > 0 && strncmp(ini_error, "NUL byte", 8) == 0)
				merr_set(err, MIGRATE_EUSAGE, "%s:%d: a NUL byte: not a text config file", cfg_path, line);
			else if (line > 0 && strstr(ini_error, "too long"))
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: line longer than 1,023 characters: only a 'key = value' line may be that long",
					 cfg_path, line);
			else if (line > 0)
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: syntax error in config file: expected 'key = value', '[section]' or a ; comment",
					 cfg_path, line);
			else
				merr_set(err, MIGRATE_EUSAGE, "cannot read config file '%s': %s", cfg_path,
					 ini_error[0] ? ini_error : strerror(errno));
			goto out;
		}
		out->path = xstrdup(cfg_path);
		cfg_dir = path_dirname(cfg_path);
		ld.path = out->path;
		ld.section = out->env;
		if (load_section(&ld, "migrate", 0) || load_placeholders(&ld) || load_lint(&ld))
			goto out;
		if (iniparser_find_entry(ld.ini, out->env)) {
			if (load_section(&ld, out->env, 1))
				goto out;
		} else if (need_database && (explicit_env || !url)) {
			struct strbuf sb = STRBUF_INIT;
			known_envs(ld.ini, &sb);
			merr_set(err, MIGRATE_EUSAGE,
				 "unknown environment '%s': %s has no [%s] section (known environments: %s)",
				 out->env, cfg_path, out->env, strbuf_str(&sb));
			strbuf_release(&sb);
			goto out;
		}
	}

	/* shared settings: flags, then the file (relative to its directory), then defaults */
#define SHARED(name) ld.shared[shared_index(name)]
	if (opt->migrations_dir && *opt->migrations_dir)
		out->migrations_dir = xstrdup(opt->migrations_dir);
	else
		out->migrations_dir = path_join(cfg_dir, SHARED("migrations_dir") && *SHARED("migrations_dir")
						 ? SHARED("migrations_dir") : "migrations");
	if (opt->seeds_dir && *opt->seeds_dir)
		out->seeds_dir = xstrdup(opt->seeds_dir);
	else
		out->seeds_dir = path_join(cfg_dir, SHARED("seeds_dir") && *SHARED("seeds_dir")
					   ? SHARED("seeds_dir") : "seeds");
	out->table = xstrdup(SHARED("table") && *SHARED("table") ? SHARED("table") : "schema_migrations");
	out->seeds_table = xstrdup(SHARED("seeds_table") && *SHARED("seeds_table") ? SHARED("seeds_table")
				   : "schema_seeds");
	if (SHARED("verify_url") && *SHARED("verify_url"))
		out->verify_url = xstrdup(SHARED("verify_url"));
	if (SHARED("ignore") && *SHARED("ignore"))
		out->ignore = xstrdup(SHARED("ignore"));
	if (SHARED("testdb_dir") && *SHARED("testdb_dir"))
		out->testdb_dir = path_join(cfg_dir, SHARED("testdb_dir"));
	out->pool = 4;
	v = SHARED("pool");
	if (v && *v) {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || end == v || n < 0 || n > 1000) {
			const char *sec = ini_line(out->path, out->env, "pool") ? out->env : "migrate";
			merr_set(err, MIGRATE_EUSAGE, "%s:%d: pool '%s' is not a number from 0 to 1000",
				 out->path, ini_line(out->path, sec, "pool"), v);
			goto out;
		}
		out->pool = (int)n;
	}
	v = SHARED("format");
	out->format = LAYOUT_AUTO;
	if (v && *v && (out->format = layout_format_parse(v)) < 0) {
		const char *sec = ini_line(out->path, out->env, "format") ? out->env : "migrate";
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: format '%s' is not one of %s", out->path,
			 ini_line(out->path, sec, "format"), v, LAYOUT_NAMES);
		goto out;
	}
	out->seeds_undo_table = xasprintf("%.58s_undo", out->seeds_table);
	v = SHARED("lock_timeout");
	if (v && *v && parse_seconds(v, &out->lock_timeout)) {
		const char *sec = ini_line(out->path, out->env, "lock_timeout") ? out->env : "migrate";
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: lock_timeout '%s' is not a number of seconds",
			 out->path, ini_line(out->path, sec, "lock_timeout"), v);
		goto out;
	}
	out->uuid_version = 1;
	v = SHARED("uuid_version");
	if (v && *v) {
		if (strcmp(v, "1") && strcmp(v, "4") && strcmp(v, "7")) {
			const char *sec = ini_line(out->path, out->env, "uuid_version") ? out->env : "migrate";
			merr_set(err, MIGRATE_EUSAGE, "%s:%d: uuid_version '%s' is not 1, 4 or 7",
				 out->path, ini_line(out->path, sec, "uuid_version"), v);
			goto out;
		}
		out->uuid_version = atoi(v);
	}
	if (load_limits(&ld, SHARED("lock_wait"), SHARED("retries"), SHARED("statement_timeout")) ||
	    load_lock_mode(&ld, SHARED("lock_mode"), SHARED("lease")))
		goto out;
#undef SHARED
	if (opt->lock_timeout >= 0)
		out->lock_timeout = opt->lock_timeout;
	if (!out->table[0] || !out->seeds_table[0] || strlen(out->table) > 63 ||
	    strlen(out->seeds_table) > 63) {
		merr_set(err, MIGRATE_EUSAGE, "%s: table and seeds_table must be 1 to 63 characters",
			 out->path ? out->path : "config");
		goto out;
	}

	/* the connection */
	if (url) {
		if (url_parse(url, &out->conn, msg, sizeof(msg))) {
			merr_set(err, MIGRATE_EUSAGE, "%s: %s", opt->url && *opt->url ? "--url" : "DATABASE_URL", msg);
			goto out;
		}
	} else {
		const char *sec_url = ld.conn[conn_index("url")];
		if (sec_url && *sec_url) {
			if (url_parse(sec_url, &out->conn, msg, sizeof(msg))) {
				merr_set(err, MIGRATE_EUSAGE, "%s:%d: in [%s] url: %s", out->path,
					 ini_line(out->path, out->env, "url"), out->env, msg);
				goto out;
			}
		}
		if (apply_conn_keys(&ld))
			goto out;
		/* a relative SQLite path in the file is relative to the file */
		if (out->conn.database && out->conn.driver && driver_find(out->conn.driver) &&
		    driver_find(out->conn.driver)->dialect == SQL_DIALECT_SQLITE &&
		    strcmp(out->conn.database, ":memory:") != 0 && out->conn.database[0] != '/') {
			char *abs = path_join(cfg_dir, out->conn.database);
			free(out->conn.database);
			out->conn.database = abs;
		}
	}
	if (need_database) {
		if (!out->conn.driver || !*out->conn.driver) {
			if (out->path)
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: [%s] names no database: set driver and database, or url",
					 out->path, ini_line(out->path, out->env, NULL), out->env);
			else
				merr_set(err, MIGRATE_EUSAGE, "no database configured: give --url or DATABASE_URL");
			goto out;
		}
		out->drv = driver_find(out->conn.driver);
		if (!out->drv) {
			struct strbuf sb = STRBUF_INIT;
			for (k = 0; driver_list[k]; k++)
				strbuf_addf(&sb, "%s%s", k ? ", " : "", driver_list[k]->name);
			int ln = ini_line(out->path, out->env, "driver");
			if (ln)
				merr_set(err, MIGRATE_EUSAGE, "%s:%d: unknown driver '%s' (this build has: %s)",
					 out->path, ln, out->conn.driver, strbuf_str(&sb));
			else
				merr_set(err, MIGRATE_EUSAGE, "unknown driver '%s' (this build has: %s)",
					 out->conn.driver, strbuf_str(&sb));
			strbuf_release(&sb);
			goto out;
		}
		if (out->drv->dialect == SQL_DIALECT_SQLITE && out->lock_mode == CONFIG_LOCK_TABLE) {
			const char *sec = ini_line(out->path, out->env, "lock_mode") ? out->env : "migrate";
			merr_set(err, MIGRATE_EUSAGE,
				 "%s:%d: lock_mode 'table' is not for SQLite, whose lock is always the file lock: remove it or set auto",
				 out->path, ini_line(out->path, sec, "lock_mode"));
			goto out;
		}
		if (out->drv->dialect == SQL_DIALECT_SQLITE && (!out->conn.database || !*out->conn.database)) {
			merr_set(err, MIGRATE_EUSAGE, "SQLite needs a database file: set database (or url = sqlite:path.db)");
			goto out;
		}
	}
	out->driver_name = xstrdup(out->drv ? out->drv->name : out->conn.driver);
	out->display_url = db_url_display(&out->conn);
	out->settings.host = out->conn.host;
	out->settings.port = out->conn.port;
	out->settings.user = out->conn.user;
	out->settings.password = out->conn.password;
	out->settings.database = out->conn.database;
	out->settings.socket = out->conn.socket;
	out->settings.sslmode = out->conn.sslmode;
	out->settings.ssl_ca = out->conn.ssl_ca;
	out->settings.ssl_cert = out->conn.ssl_cert;
	out->settings.ssl_key = out->conn.ssl_key;
	out->settings.options = out->conn.options;
	out->settings.connect_timeout = out->conn.connect_timeout;
	r = MIGRATE_OK;
out:
	for (k = 0; k < sizeof(ld.shared) / sizeof(ld.shared[0]); k++)
		free(ld.shared[k]);
	for (k = 0; k < sizeof(ld.conn) / sizeof(ld.conn[0]); k++)
		free(ld.conn[k]);
	if (ld.ini)
		iniparser_freedict(ld.ini);
	free(cfg_dir);
	if (r)
		config_release(out);
	return r;
}

void config_release(struct config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->path);
	free(c->env);
	free(c->driver_name);
	db_url_release(&c->conn);
	free(c->display_url);
	free(c->migrations_dir);
	free(c->seeds_dir);
	free(c->table);
	free(c->seeds_table);
	free(c->seeds_undo_table);
	free(c->verify_url);
	free(c->ignore);
	for (i = 0; i < c->nlint; i++)
		free(c->lint[i].rule);
	free(c->lint);
	free(c->testdb_dir);
	for (i = 0; i < c->nph; i++) {
		free(c->ph_names[i]);
		free(c->ph_values[i]);
	}
	free(c->ph_names);
	free(c->ph_values);
	memset(c, 0, sizeof(*c));
}

/* ---- [targets NAME] (SPEC section 13) ----------------------------------------- */

static void targets_add(struct target_list *l, const char *text, size_t n, const char *file, int line)
{
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].text = xstrndup(text, n);
	l->v[l->n].where = xasprintf("%s:%d", file, line);
	l->n++;
}

/* The line, from `from` on, of path that holds word (the entry's own line in a long value). */
static int line_holding(const char *path, int from, const char *word)
{
	char *text, *p, *e;
	size_t len, wl = strlen(word);
	int n = 0, found = from;

	if (!path || from <= 0 || read_file(path, &text, &len))
		return from;
	for (p = text; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if (++n < from)
			continue;
		if (wl) {
			char *line = xstrndup(p, (size_t)(e - p));
			int hit = strstr(line, word) != NULL;
			free(line);
			if (hit) {
				found = n;
				break;
			}
		}
	}
	free(text);
	return found;
}

/*
 * One entry a line, the whole line (a schema's name may hold a space);
 * blank lines and '#' comments (at the start or after a blank) skipped.
 */
static enum migrate_result targets_file(const char *path, struct target_list *l, struct migrate_error *err)
{
	char *text, *p, *e, msg[512];
	size_t len;
	int n = 0, rc;

	if ((rc = read_file(path, &text, &len)) != 0)
		return merr_set(err, MIGRATE_EUSAGE, "cannot read targets file '%s': %s", path, strerror(rc));
	for (p = text; *p; p = *e ? e + 1 : e) {
		char *q, *end, *val;
		e = p + strcspn(p, "\n");
		n++;
		for (q = p; q < e; q++)
			if (*q == '#' && (q == p || isspace((unsigned char)q[-1])))
				break;
		end = q;
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p)
			continue;
		q = xstrndup(p, (size_t)(end - p));
		val = expand_vars(q, getenv_lookup, NULL, msg, sizeof(msg));
		free(q);
		if (!val) {
			merr_set(err, MIGRATE_EUSAGE, "%s:%d: %s", path, n, msg);
			break;
		}
		targets_add(l, val, strlen(val), path, n);
		free(val);
	}
	free(text);
	return err->code;
}

enum migrate_result config_targets(const char *path, const char *name, struct target_list *out,
				   struct migrate_error *err)
{
	static const char *const keys[] = { "urls", "urls_file", "urls_query", NULL };
	char *sec = NULL, *lname, *val = NULL, *dir = NULL, msg[512];
	const char *used = NULL, *raw = NULL;
	dictionary *ini;
	int nkeys, i;

	memset(out, 0, sizeof(*out));
	if (!path)
		return merr_set(err, MIGRATE_EUSAGE, "--targets %s: no config file to read [targets %s] from", name, name);
	ini = ini_load(path);
	if (!ini)
		return merr_set(err, MIGRATE_EUSAGE, "cannot read config file '%s'", path);
	lname = lowercase(name);
	sec = xasprintf("targets %s", lname);
	free(lname);
	if (!iniparser_find_entry(ini, sec)) {
		struct strbuf sb = STRBUF_INIT;
		int ns = iniparser_getnsec(ini), first = 1;
		for (i = 0; i < ns; i++) {
			const char *s = iniparser_getsecname(ini, i);
			if (s && strncmp(s, "targets ", 8) == 0) {
				strbuf_addf(&sb, "%s%s", first ? "" : ", ", s + 8);
				first = 0;
			}
		}
		merr_set(err, MIGRATE_EUSAGE, "unknown targets '%s': %s has no [targets %s] section (known targets: %s)",
			 name, path, name, first ? "none" : strbuf_str(&sb));
		strbuf_release(&sb);
		goto out;
	}
	nkeys = iniparser_getsecnkeys(ini, sec);
	if (nkeys > 0) {
		const char **k = xcalloc((size_t)nkeys, sizeof(*k));
		iniparser_getseckeys(ini, sec, k);
		for (i = 0; i < nkeys && !err->code; i++) {
			const char *key = strchr(k[i], ':') + 1;
			if (!in_list(keys, key))
				merr_set(err, MIGRATE_EUSAGE, "%s:%d: unknown key '%s' in [%s] (known keys: urls, urls_file, urls_query)",
					 path, ini_line(path, sec, key), key, sec);
			else if (used)
				merr_set(err, MIGRATE_EUSAGE, "%s:%d: [%s] gives both %s and %s: give one", path,
					 ini_line(path, sec, key), sec, used, key);
			else {
				used = key;
				raw = iniparser_getstring(ini, k[i], "");
			}
		}
		free(k);
		if (err->code)
			goto out;
	}
	if (!used) {
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: [%s] lists no target: set urls, urls_file or urls_query", path,
			 ini_line(path, sec, NULL), sec);
		goto out;
	}
	val = expand_vars(raw, getenv_lookup, NULL, msg, sizeof(msg));
	if (!val) {
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: in [%s] %s: %s", path, ini_line(path, sec, used), sec, used, msg);
		goto out;
	}
	dir = path_dirname(path);
	out->base_dir = xstrdup(dir);
	if (strcmp(used, "urls") == 0) {
		const char *p = val;
		int from = ini_line(path, sec, "urls");
		while (*p) {
			size_t n;
			char *word;
			p += strspn(p, " \t\r\n\\");
			n = strcspn(p, " \t\r\n");
			if (!n)
				break;
			word = xstrndup(p, n);
			from = line_holding(path, from, word);
			targets_add(out, p, n, path, from);
			free(word);
			p += n;
		}
	} else if (strcmp(used, "urls_file") == 0) {
		char *file = path_join(dir, val);
		targets_file(file, out, err);
		free(file);
	} else {
		out->query = xstrdup(val);
		out->query_where = xasprintf("%s:%d", path, ini_line(path, sec, "urls_query"));
	}
	if (!err->code && !out->query && out->n == 0)
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: [%s] lists no target", path, ini_line(path, sec, used), sec);
out:
	free(val);
	free(dir);
	free(sec);
	iniparser_freedict(ini);
	if (err->code)
		target_list_release(out);
	return err->code;
}

void target_list_add(struct target_list *l, const char *text, const char *where)
{
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].text = xstrdup(text);
	l->v[l->n].where = xstrdup(where);
	l->n++;
}

void target_list_release(struct target_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].where);
	}
	free(l->v);
	free(l->query);
	free(l->query_where);
	free(l->base_dir);
	memset(l, 0, sizeof(*l));
}
