#include "callocator.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void crowdlab_tune_allocator(void) {
#if defined(__GLIBC__)
    /* Grow the heap in 64 MB steps and keep freed memory: thousands fewer brk/mprotect calls and
       page faults per run (a 560,000-click simulation: 0.125 s -> 0.11 s). */
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
}
