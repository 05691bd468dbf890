/* Put before the system headers on the include path of the pure core:
 * see CMakeLists.txt. */
#error "layer violation: src/core must not include libmicrohttpd"
