// The one CPU instruction sampler wants that Swift has no spelling for: a prefetch, which
// asks for a cache line and does not wait for it. (A load of the same line would hold up
// every instruction behind it until the line came.) Header only, any target GCC or Clang
// builds for.
#ifndef SAMPLER_CPREFETCH_SHIM_H
#define SAMPLER_CPREFETCH_SHIM_H

// Brings the line at `address` towards this core, to be written (a connection's slot is
// updated in place). A hint: it changes nothing, and is dropped if the line is far.
static inline void sampler_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
