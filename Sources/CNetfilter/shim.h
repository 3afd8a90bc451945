// The netfilter C API (libmnl, libnetfilter_log) that the NFLOG reader uses, in one place. Linux only: elsewhere the module is
// empty, so the pure Swift modules still build and test.
#ifndef SAMPLER_CNETFILTER_SHIM_H
#define SAMPLER_CNETFILTER_SHIM_H

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#endif

#endif
