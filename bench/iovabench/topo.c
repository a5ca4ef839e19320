/* SPDX-License-Identifier: MIT */
/*
 * topo.c - the machine as hwloc sees it, and pinning workers.
 *
 * Pinning order, as the replayer's (workloads/src/pin.c): round r takes the
 * r-th PU of every core, so the first workers get a core each and only
 * later ones share a core with a sibling hyperthread. The topology is loaded
 * once per process (loading it costs milliseconds) and the harness pins its
 * workers itself, from the measuring executor's worker_init.
 */
#include <hwloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iovabench.h"

static ib_topo topo;
static hwloc_topology_t hw;
static bool hw_ok;
static hwloc_obj_t *pin_pu;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint64_t cache_size(int depth_type)
{
	int n = hwloc_get_nbobjs_by_type(hw, (hwloc_obj_type_t)depth_type);
	if (n <= 0)
		return 0;
	hwloc_obj_t o = hwloc_get_obj_by_type(hw, (hwloc_obj_type_t)depth_type, 0);
	return o && o->attr ? o->attr->cache.size : 0;
}

static void load(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	topo.cores = topo.pus = ncpu > 0 ? (unsigned)ncpu : 1;
	topo.packages = topo.numa_nodes = 1;
	snprintf(topo.model, sizeof topo.model, "unknown");
	snprintf(topo.arch, sizeof topo.arch, "unknown");
	if (hwloc_topology_init(&hw) == 0 && hwloc_topology_load(hw) == 0)
		hw_ok = true;
	if (hw_ok) {
		int np = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PACKAGE);
		int nn = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE);
		int nc = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
		int npu = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
		if (np > 0)
			topo.packages = (unsigned)np;
		if (nn > 0)
			topo.numa_nodes = (unsigned)nn;
		if (npu > 0)
			topo.pus = (unsigned)npu;
		topo.cores = nc > 0 ? (unsigned)nc : topo.pus;
		hwloc_obj_t root = hwloc_get_root_obj(hw);
		hwloc_obj_t pkg = np > 0 ? hwloc_get_obj_by_type(hw, HWLOC_OBJ_PACKAGE, 0) : NULL;
		const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
		if (!model)
			model = hwloc_obj_get_info_by_name(root, "CPUModel");
		if (model)
			snprintf(topo.model, sizeof topo.model, "%s", model);
		const char *arch = hwloc_obj_get_info_by_name(root, "Architecture");
		if (arch)
			snprintf(topo.arch, sizeof topo.arch, "%s", arch);
		topo.l1d = cache_size(HWLOC_OBJ_L1CACHE);
		topo.l2 = cache_size(HWLOC_OBJ_L2CACHE);
		topo.l3 = cache_size(HWLOC_OBJ_L3CACHE);
		pin_pu = ib_calloc(topo.pus, sizeof *pin_pu);
		topo.pin_order = ib_calloc(topo.pus, sizeof *topo.pin_order);
		if (nc > 0)
			for (unsigned round = 0; topo.npin < topo.pus; round++) {
				unsigned added = 0;
				for (int c = 0; c < nc && topo.npin < topo.pus; c++) {
					hwloc_obj_t core = hwloc_get_obj_by_type(hw, HWLOC_OBJ_CORE, (unsigned)c);
					hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(hw, core->cpuset, HWLOC_OBJ_PU, round);
					if (pu) {
						pin_pu[topo.npin] = pu;
						topo.pin_order[topo.npin++] = pu->os_index;
						added++;
					}
				}
				if (!added)
					break;
			}
		if (topo.npin == 0)
			for (unsigned i = 0; i < topo.pus; i++) {
				pin_pu[i] = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, i);
				topo.pin_order[topo.npin++] = pin_pu[i]->os_index;
			}
	}
	char l1[16] = "?", l2[16] = "?", l3[16] = "?";
	if (topo.l1d)
		ib_format_bytes(topo.l1d, l1, sizeof l1);
	if (topo.l2)
		ib_format_bytes(topo.l2, l2, sizeof l2);
	if (topo.l3)
		ib_format_bytes(topo.l3, l3, sizeof l3);
	int n = snprintf(topo.text, sizeof topo.text,
			 "%s (%s): %u package(s), %u NUMA node(s), %u core(s), %u hardware thread(s); caches L1d %s, L2 %s, L3 %s\n"
			 "worker pinning order (PU numbers): ",
			 topo.model, topo.arch, topo.packages, topo.numa_nodes, topo.cores, topo.pus, l1, l2, l3);
	for (unsigned i = 0; i < topo.npin && n > 0 && (size_t)n < sizeof topo.text - 16; i++)
		n += snprintf(topo.text + n, sizeof topo.text - (size_t)n, "%s%u", i ? " " : "", topo.pin_order[i]);
	if (!hw_ok)
		snprintf(topo.text + n, sizeof topo.text - (size_t)n, "(hwloc could not load the topology: not pinned)");
}

const ib_topo *ib_topo_get(void)
{
	pthread_once(&once, load);
	return &topo;
}

bool ib_topo_pin(unsigned worker)
{
	ib_topo_get();
	if (!hw_ok || topo.npin == 0)
		return false;
	hwloc_obj_t pu = pin_pu[worker % topo.npin];
	return hwloc_set_cpubind(hw, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}
