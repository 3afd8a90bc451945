// libloc (Debian 12: libloc-dev 0.9.16), the IPFire location database's C library, for
// SamplerLocation. Swift calls it directly: no wrappers are needed. Linux only: elsewhere
// the module is empty, so the pure Swift modules still build.
#ifndef SAMPLER_CLIBLOC_SHIM_H
#define SAMPLER_CLIBLOC_SHIM_H

#ifdef __linux__
#include <libloc/libloc.h>
#include <libloc/database.h>
#include <libloc/network.h>
#include <libloc/as.h>
#endif

#endif
