// The Linux system calls sampler uses that Swift's Glibc module does not expose
// (signalfd, eventfd, prctl), as thin wrappers. Header only: nothing to link. Linux only:
// elsewhere the module is empty, so the pure Swift modules still build and test.
#ifndef SAMPLER_CLINUX_SHIM_H
#define SAMPLER_CLINUX_SHIM_H

#ifdef __linux__
// The capture loop waits on the netlink socket and on signals together (signalfd(2)).
#include <sys/signalfd.h>
// The pipeline's threads sleep on an eventfd(2) when their ring is empty.
#include <sys/eventfd.h>
#include <sys/prctl.h>

// Names the calling thread (for top -H, perf and core dumps); pthread_setname_np needs
// _GNU_SOURCE, which Swift's Glibc module does not define.
static inline void sampler_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
#endif

#endif
