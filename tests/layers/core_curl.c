/* Must not build: core is pure, it makes no HTTP calls. */
#include <curl/curl.h>
