/* Must not build: a fifth action added to the enumeration without its
 * rows. Every per-action table is sized by its rows and checked against
 * ZB_ACTION_COUNT, so a forgotten row is a compile error, not an array
 * read past its end. (ZB_ACTION_COUNT is raised here as the enumeration
 * would raise it; the tables are the real ones.) */
#include "event_kind.h"
#undef ZB_ACTION_COUNT
#define ZB_ACTION_COUNT 5
#include "../../src/base/event_kind.c"
#include "../../src/core/action.c"
