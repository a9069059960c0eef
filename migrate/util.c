/*
 * util.c - allocation, string buffers, files, paths, hashing and clocks.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die_oom(size_t n)
{
	fprintf(stderr, "migrate: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

void xgrow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **p = arr;
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*p = xrealloc(*p, ncap * elem);
	*cap = ncap;
}

static void strbuf_reserve(struct strbuf *sb, size_t extra)
{
	xgrow(&sb->buf, &sb->cap, sb->len + extra + 1, 1);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_reserve(sb, len);
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	strbuf_reserve(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

FILE *tmpfile_open(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/migrate-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path), saved;
	FILE *f;

	if (fd < 0) {
		saved = errno;
		free(path);
		errno = saved;
		return NULL;
	}
	unlink(path);
	free(path);
	f = fdopen(fd, "w+b");
	if (!f) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return f;
}

int read_file(const char *path, char **out, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	struct stat st;
	size_t n;
	FILE *f;
	int err;

	*out = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f)
		return errno;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return EISDIR;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	err = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	if (err) {
		strbuf_release(&sb);
		return err;
	}
	*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

char *path_join(const char *dir, const char *path)
{
	size_t n;

	if (path[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
		return xstrdup(path);
	n = strlen(dir);
	if (dir[n - 1] == '/')
		return xasprintf("%s%s", dir, path);
	return xasprintf("%s/%s", dir, path);
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* The digest of ctx as lowercase hex. */
static void sha256_ctx_hex(struct sha256_ctx *ctx, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[SHA256_DIGEST_SIZE];
	size_t i;

	sha256_digest(ctx, sizeof(md), md);
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_ctx_hex(&ctx, out);
}

int sha256_file_hex(const char *path, char out[65], int *has_placeholder)
{
	char *buf = xmalloc(1 << 16), prev = 0;
	struct sha256_ctx ctx;
	FILE *f = fopen(path, "rb");
	const char *q;
	size_t n;
	int r = 0;

	*has_placeholder = 0;
	if (!f) {
		r = errno;
		goto out;
	}
	sha256_init(&ctx);
	while ((n = fread(buf, 1, 1 << 16, f)) > 0) {
		sha256_update(&ctx, n, (const uint8_t *)buf);
		/* memchr skips to each '{' (a byte loop took 6 % of seeding a large file) */
		for (q = buf; !*has_placeholder && (q = memchr(q, '{', (size_t)(buf + n - q))) != NULL; q++)
			if ((q > buf ? q[-1] : prev) == '$')
				*has_placeholder = 1;
		prev = buf[n - 1];
	}
	if (ferror(f))
		r = errno ? errno : EIO;
	fclose(f);
	sha256_ctx_hex(&ctx, out);
out:
	free(buf);
	return r;
}

int sha256_fd_hex(int fd, char out[65])
{
	uint8_t buf[16384];
	struct sha256_ctx ctx;
	ssize_t n;

	sha256_init(&ctx);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		sha256_update(&ctx, (size_t)n, buf);
	}
	sha256_ctx_hex(&ctx, out);
	return 0;
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void utc_timestamp(char out[20])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

int parse_duration_ms(const char *s, size_t n, long long *ms)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	long long v = 0;
	size_t i = 0, k;

	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (v > 365LL * 86400 * 1000)
			return -1;
		v = v * 10 + (s[i++] - '0');
	}
	if (i == 0)
		return -1;
	for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strlen(units[k].unit) == n - i && strncmp(s + i, units[k].unit, n - i) == 0) {
			if (v > 365LL * 86400 * 1000 / units[k].ms)
				return -1;
			*ms = v * units[k].ms;
			return 0;
		}
	}
	return -1;
}

void format_duration(long long ms, char *out, size_t len)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(out, len, "%lldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(out, len, "%llds", ms / 1000);
	else
		snprintf(out, len, "%lldms", ms);
}

long long backoff_ms(int k)
{
	/* a generator of its own: a library must not reseed the program's rand() */
	static unsigned long long state;
	long long base = k >= 6 ? 30000 : 1000LL << (k < 1 ? 0 : k - 1);

	if (!state) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		state = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
			((unsigned long long)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	}
	/* xorshift64 */
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return base / 2 + (long long)(state % (unsigned long long)(base + 1));
}
