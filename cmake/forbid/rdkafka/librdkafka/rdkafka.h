/* Put before the system headers on the include path of the layers that
 * must not talk to Kafka (base, core, zimsim): see CMakeLists.txt. */
#error "layer violation: this layer must not include librdkafka (only src/io and above may)"
