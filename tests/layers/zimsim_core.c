/* Must not build: zimsim's reading of the contract is its own. */
#include "event.h"
