/* Errors: fallible functions return struct pha_error * (NULL = success).
 *
 * An error has a kind, which decides the process exit code, and a message
 * that names what a user can act on (file, offset, address, errno, phase).
 * Out-of-memory never allocates: pha_error_create returns &pha_enomem when
 * it cannot allocate the message.
 */
#ifndef PHA_ERROR_H
#define PHA_ERROR_H

#include <stdarg.h>
#include <stdint.h>

enum pha_error_kind {
	PHA_ERR_USAGE = 1,	/* bad command line: exit 2 */
	PHA_ERR_INPUT,		/* input not usable: exit 3 */
	PHA_ERR_INTERNAL,	/* bug or resource problem: exit 4 */
	PHA_ERR_NOMEM,		/* out of memory: exit 4 */
	PHA_ERR_FAULT,		/* dumped memory unreadable at ->address: exit 3 if fatal */
};

/* Documented exit codes (README "Exit codes"). */
enum {
	PHA_EXIT_OK = 0,
	PHA_EXIT_USAGE = 2,
	PHA_EXIT_INPUT = 3,
	PHA_EXIT_INTERNAL = 4,
};

struct pha_error {
	enum pha_error_kind kind;
	uint64_t address;	/* PHA_ERR_FAULT: the address that could not be read */
	char *message;
};

extern struct pha_error pha_enomem;

__attribute__((format(printf, 2, 3)))
struct pha_error *pha_error_create(enum pha_error_kind kind, const char *fmt, ...);
struct pha_error *pha_error_vcreate(enum pha_error_kind kind, const char *fmt, va_list ap);
/* Message is "<formatted>: strerror(errnum)". */
__attribute__((format(printf, 3, 4)))
struct pha_error *pha_error_errno(enum pha_error_kind kind, int errnum, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
struct pha_error *pha_error_fault(uint64_t address, const char *fmt, ...);
/* Prefix an existing error's message with context ("while X: <old>"). Returns err. */
__attribute__((format(printf, 2, 3)))
struct pha_error *pha_error_prefix(struct pha_error *err, const char *fmt, ...);
void pha_error_destroy(struct pha_error *err);	/* accepts NULL and &pha_enomem */
int pha_error_exit_code(const struct pha_error *err);

#endif
