#include "callocator.h"
#include <stdlib.h>   /* defines __GLIBC__ on glibc, which the test below needs */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void crowdlab_tune_allocator(void) {
#if defined(__GLIBC__)
    /* Grow heaps in 48 MB steps and keep freed memory. Each thread's arena starts at its first
       allocation with this padding (glibc caps a thread heap at 64 MB, so the padding must stay
       below that); without it a thread heap grows one page per mprotect call, over 12,000 calls
       for a 570,000-click simulation, each taking the address-space lock the other threads'
       page faults need. */
    mallopt(M_TOP_PAD, 48 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);   /* the most glibc accepts (half a thread heap) */
#endif
}
