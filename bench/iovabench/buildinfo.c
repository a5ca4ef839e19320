/* SPDX-License-Identifier: MIT */
/* buildinfo.c - what summary.json records about the build: version (CMake's
 * project version), git revision (at build time; "unknown" outside a git
 * checkout), compiler, flags, build type, sanitizer. */
#include "iovabench.h"
#include "revision.h"

const ib_buildinfo *ib_buildinfo_get(void)
{
	static const ib_buildinfo info = {
		.version = IB_VERSION,
		.revision = IB_REVISION,
		.dirty = IB_DIRTY,
		.compiler = IB_COMPILER,
		.c_flags = IB_CFLAGS,
		.build_type = IB_BUILD_TYPE,
		.sanitize = IB_SANITIZE,
	};
	return &info;
}
