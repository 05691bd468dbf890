/* Must not build: core includes only the layers below it. */
#include "kafka_in.h"
