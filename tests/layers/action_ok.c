/* The control for action_missing_row.c: the same tables, as they are,
 * build. */
#include "event_kind.h"
#include "../../src/base/event_kind.c"
#include "../../src/core/action.c"
