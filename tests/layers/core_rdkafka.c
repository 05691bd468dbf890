/* Must not build: core is pure, it talks to no Kafka. */
#include <librdkafka/rdkafka.h>
