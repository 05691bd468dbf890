/* zim_codes.h - whether a return code is one the ZIM reference lists (or
 * one of the project's own 9000000xx codes). What a code means for an
 * event is outcome.c's; this answers only "is it a code we know", so
 * that a hostile or broken endpoint cannot mint label values. */
#ifndef ZB_ZIM_CODES_H
#define ZB_ZIM_CODES_H

#include <stdbool.h>
#include <stdint.h>

/* The label that every unknown code folds into. */
#define ZIM_CODE_OTHER (-1)

bool zim_code_known(int64_t code);
/* code if known, else ZIM_CODE_OTHER. */
int64_t zim_code_label(int64_t code);

#endif
