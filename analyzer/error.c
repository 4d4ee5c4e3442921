#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pha_error pha_enomem = {
	.kind = PHA_ERR_NOMEM,
	.message = (char *)"out of memory",
};

struct pha_error *pha_error_vcreate(enum pha_error_kind kind, const char *fmt, va_list ap)
{
	struct pha_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &pha_enomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &pha_enomem;
	}
	err->kind = kind;
	return err;
}

struct pha_error *pha_error_create(enum pha_error_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct pha_error *err = pha_error_vcreate(kind, fmt, ap);
	va_end(ap);
	return err;
}

struct pha_error *pha_error_errno(enum pha_error_kind kind, int errnum, const char *fmt, ...)
{
	char *prefix;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r < 0)
		return &pha_enomem;
	struct pha_error *err = pha_error_create(kind, "%s: %s", prefix, strerror(errnum));
	free(prefix);
	return err;
}

struct pha_error *pha_error_fault(uint64_t address, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct pha_error *err = pha_error_vcreate(PHA_ERR_FAULT, fmt, ap);
	va_end(ap);
	if (err != &pha_enomem)
		err->address = address;
	return err;
}

struct pha_error *pha_error_prefix(struct pha_error *err, const char *fmt, ...)
{
	if (!err || err == &pha_enomem)
		return err;
	char *prefix, *msg;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err;
	if (asprintf(&msg, "%s: %s", prefix, err->message) >= 0) {
		free(err->message);
		err->message = msg;
	}
	free(prefix);
	return err;
}

void pha_error_destroy(struct pha_error *err)
{
	if (!err || err == &pha_enomem)
		return;
	free(err->message);
	free(err);
}

int pha_error_exit_code(const struct pha_error *err)
{
	if (!err)
		return PHA_EXIT_OK;
	switch (err->kind) {
	case PHA_ERR_USAGE:
		return PHA_EXIT_USAGE;
	case PHA_ERR_INPUT:
	case PHA_ERR_FAULT:
		return PHA_EXIT_INPUT;
	case PHA_ERR_INTERNAL:
	case PHA_ERR_NOMEM:
	default:
		return PHA_EXIT_INTERNAL;
	}
}
