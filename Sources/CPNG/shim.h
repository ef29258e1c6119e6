#ifndef CROWDLAB_CPNG_SHIM_H
#define CROWDLAB_CPNG_SHIM_H
#include <png.h>

/* An upper bound on the PNG stream of an image, so it is compressed once into a buffer of that
   size (png_image_write_get_memory_size would compress it a second time to count). */
static inline png_alloc_size_t crowdlab_png_size_max(const png_image *image) {
    return PNG_IMAGE_PNG_SIZE_MAX(*image);
}
#endif
