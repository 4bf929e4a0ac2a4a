/* testlib.h: helpers shared by the unit tests (cmocka). */
#ifndef RW_TESTLIB_H
#define RW_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Reads tests/vectors/<name> (the directory comes from $RUNWAY_VECTORS)
 * into a NUL-terminated heap string; stores its length in *ret_len when
 * not NULL. Fails the current test when the file cannot be read. */
char *tl_read_vector(const char *name, size_t *ret_len);

/* Decodes hex text (with or without 0x) into a heap buffer; stores its
 * length. Fails the current test on bad hex. */
uint8_t *tl_unhex(const char *hex, size_t *ret_len);

/* Asserts that n bytes at got equal the hex text want (with or without
 * 0x), printing both on mismatch. */
void tl_assert_hex(const uint8_t *got, size_t n, const char *want);

/* Splits text into lines in place (replacing '\n' by NUL), skipping empty
 * lines and lines starting with '#'. Returns the number of lines stored
 * in lines[0..max). */
size_t tl_lines(char *text, char **lines, size_t max);

#endif
