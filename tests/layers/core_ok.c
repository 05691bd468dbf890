/* Control: a core file including what core may (base, core, json-c)
 * builds, so the failures next to it are the guards', not the setup's. */
#include "buf.h"
#include "event.h"

#include <json-c/json.h>

int layer_core_ok(void);
int layer_core_ok(void)
{
    return EVENT_KIND_COUNT;
}
