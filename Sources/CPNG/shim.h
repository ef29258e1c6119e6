#ifndef CROWDLAB_CPNG_SHIM_H
#define CROWDLAB_CPNG_SHIM_H
#include <png.h>
#endif
