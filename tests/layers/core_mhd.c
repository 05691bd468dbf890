/* Must not build: core is pure, it serves no HTTP. */
#include <microhttpd.h>
