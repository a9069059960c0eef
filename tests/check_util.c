/*
 * check_util.c - unit tests for migrate/util.c: string buffers, formatting,
 * paths, SHA-256 and whole-file reads.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

/* lock_wait and statement_timeout: 500ms, 3s, 2m, 1h, a bare number of seconds */
START_TEST(durations_parse_and_format)
{
	static const struct {
		const char *in;
		long long ms;
	} good[] = { { "0", 0 }, { "3", 3000 }, { "500ms", 500 }, { "3s", 3000 }, { "2m", 120000 },
		     { "1h", 3600000 }, { "0ms", 0 } };
	static const char *const bad[] = { "", "abc", "-1", "1.5s", "3 s", "3S", "s", "10d", "99999999999999999999" };
	char buf[32];
	long long ms;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		ck_assert_msg(parse_duration_ms(good[i].in, strlen(good[i].in), &ms) == 0, "'%s' refused", good[i].in);
		ck_assert_int_eq(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_duration_ms(bad[i], strlen(bad[i]), &ms) != 0, "'%s' accepted", bad[i]);
	format_duration(3000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "3s");
	format_duration(250, buf, sizeof(buf));
	ck_assert_str_eq(buf, "250ms");
	format_duration(120000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2m");
}
END_TEST

/* The back-off before attempt k + 1: 50-150 % of min(2^(k-1), 30) s, and not always the same */
START_TEST(retry_delays_stay_in_their_range)
{
	int k, i;

	for (k = 1; k <= 12; k++) {
		long long base = k >= 6 ? 30000 : 1000LL << (k - 1), lo = base, hi = 0;
		for (i = 0; i < 200; i++) {
			long long d = backoff_ms(k);
			ck_assert_msg(d >= base / 2 && d <= base + base / 2, "attempt %d: %lld ms", k, d);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		ck_assert_msg(hi - lo > base / 4, "attempt %d: delays from %lld to %lld ms only", k, lo, hi);
	}
}
END_TEST

Suite *util_suite(void);

/* ---- strbuf ---------------------------------------------------------------- */

START_TEST(strbuf_add_appends_bytes_and_keeps_nul)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_str_eq(strbuf_str(&sb), "");
	strbuf_add(&sb, "abcdef", 3);
	ck_assert_uint_eq(sb.len, 3);
	ck_assert_str_eq(sb.buf, "abc");
	strbuf_addstr(&sb, "de");
	strbuf_addch(&sb, 'f');
	ck_assert_uint_eq(sb.len, 6);
	ck_assert_str_eq(strbuf_str(&sb), "abcdef");
	/* bytes after a NUL are kept: len counts them */
	strbuf_add(&sb, "x\0y", 3);
	ck_assert_uint_eq(sb.len, 9);
	ck_assert_int_eq(memcmp(sb.buf, "abcdefx\0y", 10), 0);
	strbuf_release(&sb);
	ck_assert_ptr_null(sb.buf);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, 0);
}
END_TEST

START_TEST(strbuf_addf_grows_past_1k)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1500];
	size_t i;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&sb, "<%d>", 42);
	strbuf_addf(&sb, "%s|%s", big, "end");
	ck_assert_uint_eq(sb.len, 4 + 1499 + 4);
	ck_assert_uint_eq(strlen(sb.buf), sb.len);
	ck_assert_uint_ge(sb.cap, sb.len + 1);
	ck_assert_int_eq(strncmp(sb.buf, "<42>", 4), 0);
	for (i = 4; i < 4 + 1499; i++)
		ck_assert_int_eq(sb.buf[i], 'q');
	ck_assert_str_eq(sb.buf + 4 + 1499, "|end");
	/* many small appends past 1 KiB as well */
	strbuf_release(&sb);
	for (i = 0; i < 300; i++)
		strbuf_addf(&sb, "%04zu", i);
	ck_assert_uint_eq(sb.len, 1200);
	ck_assert_int_eq(strncmp(sb.buf, "000000010002", 12), 0);
	ck_assert_str_eq(sb.buf + 1196, "0299");
	strbuf_release(&sb);
}
END_TEST

START_TEST(strbuf_detach_of_empty_gives_empty_string)
{
	struct strbuf sb = STRBUF_INIT;
	char *s = strbuf_detach(&sb);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);

	strbuf_addstr(&sb, "kept");
	s = strbuf_detach(&sb);
	ck_assert_str_eq(s, "kept");
	/* detach resets the buffer */
	ck_assert_ptr_null(sb.buf);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	free(s);
}
END_TEST

START_TEST(xasprintf_formats)
{
	char *s = xasprintf("%s-%d-%05.1f-%c%%", "ab", -7, 3.14159, 'z');

	ck_assert_str_eq(s, "ab--7-003.1-z%");
	free(s);
	s = xasprintf("%s", "");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* ---- paths ------------------------------------------------------------------- */

START_TEST(path_join_joins_with_one_slash)
{
	char *s;

	s = path_join("dir", "file.sql");
	ck_assert_str_eq(s, "dir/file.sql");
	free(s);
	s = path_join("a/b", "c/d");
	ck_assert_str_eq(s, "a/b/c/d");
	free(s);
}
END_TEST

START_TEST(path_join_keeps_absolute_path)
{
	char *s = path_join("/some/dir", "/abs/x.db");

	ck_assert_str_eq(s, "/abs/x.db");
	free(s);
}
END_TEST

START_TEST(path_join_dot_dir_leaves_path_alone)
{
	char *s;

	s = path_join(".", "x.db");
	ck_assert_str_eq(s, "x.db");
	free(s);
	s = path_join("", "x.db");
	ck_assert_str_eq(s, "x.db");
	free(s);
	s = path_join(NULL, "x.db");
	ck_assert_str_eq(s, "x.db");
	free(s);
}
END_TEST

START_TEST(path_join_dir_with_trailing_slash)
{
	char *s;

	s = path_join("dir/", "x.db");
	ck_assert_str_eq(s, "dir/x.db");
	free(s);
	s = path_join("/", "etc");
	ck_assert_str_eq(s, "/etc");
	free(s);
}
END_TEST

START_TEST(path_dirname_cases)
{
	char *s;

	s = path_dirname("a/b/config.ini");
	ck_assert_str_eq(s, "a/b");
	free(s);
	s = path_dirname("config.ini");
	ck_assert_str_eq(s, ".");
	free(s);
	s = path_dirname("/config.ini");
	ck_assert_str_eq(s, "/");
	free(s);
	s = path_dirname("/etc/migrate/config.ini");
	ck_assert_str_eq(s, "/etc/migrate");
	free(s);
	s = path_dirname("./config.ini");
	ck_assert_str_eq(s, ".");
	free(s);
}
END_TEST

/* ---- sha256 -------------------------------------------------------------------- */

START_TEST(sha256_hex_known_vectors)
{
	char out[65];

	memset(out, 'X', sizeof(out));
	sha256_hex("", 0, out);
	ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	memset(out, 'X', sizeof(out));
	sha256_hex("abc", 3, out);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* the length counts, not the NUL */
	sha256_hex("abcdef", 3, out);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	ck_assert_str_eq(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/*
 * sha256_fd_hex: the same digest as of the bytes in memory, for an empty
 * file, a short one, and one larger than its 16 KiB buffer (what is left
 * to read: from the current offset); a directory gives its errno.
 */
START_TEST(sha256_fd_hex_equals_the_digest_of_the_bytes)
{
	char *dir = tmpdir_new(), *path, *big, want[65], got[65];
	size_t n = 40000, i;
	int fd;

	write_file(dir, "empty.sql", "");
	path = path_join(dir, "empty.sql");
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sha256_fd_hex(fd, got), 0);
	ck_assert_str_eq(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	close(fd);
	free(path);

	big = malloc(n + 1);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 23);
	big[n] = '\0';
	write_file(dir, "big.sql", big);
	path = path_join(dir, "big.sql");
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sha256_fd_hex(fd, got), 0);
	sha256_hex(big, n, want);
	ck_assert_str_eq(got, want);
	/* from the offset on */
	ck_assert_int_eq(lseek(fd, 3, SEEK_SET), 3);
	ck_assert_int_eq(sha256_fd_hex(fd, got), 0);
	sha256_hex(big + 3, n - 3, want);
	ck_assert_str_eq(got, want);
	close(fd);
	free(path);
	free(big);

	fd = open(dir, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sha256_fd_hex(fd, got), EISDIR);
	close(fd);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* ---- read_file ------------------------------------------------------------------ */

START_TEST(read_file_missing_gives_enoent)
{
	char *dir = tmpdir_new();
	char *path = path_join(dir, "nope.sql");
	char *text = (char *)"sentinel";
	size_t len = 99;

	ck_assert_int_eq(read_file(path, &text, &len), ENOENT);
	ck_assert_ptr_null(text);
	ck_assert_uint_eq(len, 0);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(read_file_directory_gives_eisdir)
{
	char *dir = tmpdir_new();
	char *text = (char *)"sentinel";
	size_t len = 99;

	ck_assert_int_eq(read_file(dir, &text, &len), EISDIR);
	ck_assert_ptr_null(text);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(read_file_with_nul_byte_has_exact_length)
{
	static const char data[] = { 'a', 'b', '\0', 'c', '\n', '\0', 'd' };
	char *dir = tmpdir_new();
	char *path = path_join(dir, "bin.sql");
	FILE *f = fopen(path, "wb");
	char *text;
	size_t len;

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, sizeof(data), f), sizeof(data));
	fclose(f);
	ck_assert_int_eq(read_file(path, &text, &len), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(memcmp(text, data, sizeof(data)), 0);
	ck_assert_int_eq(text[7], '\0');
	free(text);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(read_file_empty_and_large)
{
	char *dir = tmpdir_new();
	char *path = path_join(dir, "big.txt");
	char *text, *big;
	size_t len, n = 200000, i;

	write_file(dir, "empty.txt", "");
	free(path);
	path = path_join(dir, "empty.txt");
	ck_assert_int_eq(read_file(path, &text, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(text, "");
	free(text);
	free(path);

	/* larger than one read chunk (64 KiB) */
	big = malloc(n + 1);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	write_file(dir, "big.txt", big);
	path = path_join(dir, "big.txt");
	ck_assert_int_eq(read_file(path, &text, &len), 0);
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(memcmp(text, big, n + 1), 0);
	free(text);
	free(big);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, strbuf_add_appends_bytes_and_keeps_nul);
	tcase_add_test(tc, strbuf_addf_grows_past_1k);
	tcase_add_test(tc, strbuf_detach_of_empty_gives_empty_string);
	tcase_add_test(tc, xasprintf_formats);
	tcase_add_test(tc, path_join_joins_with_one_slash);
	tcase_add_test(tc, path_join_keeps_absolute_path);
	tcase_add_test(tc, path_join_dot_dir_leaves_path_alone);
	tcase_add_test(tc, path_join_dir_with_trailing_slash);
	tcase_add_test(tc, path_dirname_cases);
	tcase_add_test(tc, sha256_hex_known_vectors);
	tcase_add_test(tc, sha256_fd_hex_equals_the_digest_of_the_bytes);
	tcase_add_test(tc, read_file_missing_gives_enoent);
	tcase_add_test(tc, read_file_directory_gives_eisdir);
	tcase_add_test(tc, read_file_with_nul_byte_has_exact_length);
	tcase_add_test(tc, read_file_empty_and_large);
	tcase_add_test(tc, durations_parse_and_format);
	tcase_add_test(tc, retry_delays_stay_in_their_range);
	suite_add_tcase(s, tc);
	return s;
}
