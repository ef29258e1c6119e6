// oneDNN's C API (Debian's libdnnl-dev 2.6 ships no pkg-config file: the module map links it).
#include <oneapi/dnnl/dnnl.h>
