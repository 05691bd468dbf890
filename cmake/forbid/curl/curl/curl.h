/* Put before the system headers on the include path of the layers that
 * must not make HTTP calls (base, core, zimsim): see CMakeLists.txt. */
#error "layer violation: this layer must not include libcurl (only src/io and above may)"
