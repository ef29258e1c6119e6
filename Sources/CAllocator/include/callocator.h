#ifndef CROWDLAB_CALLOCATOR_H
#define CROWDLAB_CALLOCATOR_H
/* Allocator settings for crowdlab's many mid-size arrays on several threads (glibc only). */
void crowdlab_tune_allocator(void);
#endif
