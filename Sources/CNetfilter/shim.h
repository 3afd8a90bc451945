// The Linux C API that sampler uses beyond Glibc (netfilter, signalfd), in one place. Linux only: elsewhere the module is
// empty, so the pure Swift modules still build and test.
#ifndef SAMPLER_CNETFILTER_SHIM_H
#define SAMPLER_CNETFILTER_SHIM_H

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
// The capture loop waits on the netlink socket and on signals together (signalfd(2)),
// which Swift's Glibc module does not expose.
#include <sys/signalfd.h>
#endif

#endif
