/* SPDX-License-Identifier: MIT */
/* pin.c - worker placement with hwloc. */
#include <hwloc.h>
#include <stdlib.h>

#include "pin.h"

struct wl_pinner {
	hwloc_topology_t topo;
	hwloc_obj_t *pu; /* placement order */
	unsigned npu;
};

wl_pinner *wl_pinner_new(void)
{
	wl_pinner *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (hwloc_topology_init(&p->topo) != 0) {
		free(p);
		return NULL;
	}
	if (hwloc_topology_load(p->topo) != 0)
		goto fail;
	int npu = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_PU);
	if (npu <= 0)
		goto fail;
	p->pu = calloc((size_t)npu, sizeof *p->pu);
	if (!p->pu)
		goto fail;
	/* Round r takes the r-th PU of every core, so the first workers get a
	 * core each and only later ones share a core with a sibling thread. */
	int ncore = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_CORE);
	if (ncore > 0) {
		for (unsigned round = 0; p->npu < (unsigned)npu; round++) {
			unsigned added = 0;
			for (int c = 0; c < ncore; c++) {
				hwloc_obj_t core = hwloc_get_obj_by_type(p->topo, HWLOC_OBJ_CORE, (unsigned)c);
				hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(p->topo, core->cpuset, HWLOC_OBJ_PU, round);
				if (pu && p->npu < (unsigned)npu) {
					p->pu[p->npu++] = pu;
					added++;
				}
			}
			if (!added)
				break;
		}
	}
	if (p->npu == 0)
		for (int i = 0; i < npu; i++)
			p->pu[p->npu++] = hwloc_get_obj_by_type(p->topo, HWLOC_OBJ_PU, (unsigned)i);
	return p;
fail:
	wl_pinner_free(p);
	return NULL;
}

bool wl_pinner_pin(wl_pinner *p, unsigned worker)
{
	hwloc_obj_t pu = p->pu[worker % p->npu];
	return hwloc_set_cpubind(p->topo, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

int wl_pinner_pu(const wl_pinner *p, unsigned worker) { return (int)p->pu[worker % p->npu]->os_index; }

void wl_pinner_free(wl_pinner *p)
{
	if (!p)
		return;
	free(p->pu);
	hwloc_topology_destroy(p->topo);
	free(p);
}
