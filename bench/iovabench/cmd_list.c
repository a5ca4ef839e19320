/* SPDX-License-Identifier: MIT */
/* cmd_list.c - `iovabench list [WHAT]` and `iovabench topo`. */
#include <string.h>

#include "iovabench.h"

static void list_strategies(void)
{
	printf("strategies (strategy=NAME):\n");
	for (size_t i = 0; i < iova_strategy_count(); i++)
		printf("  %-22s %s\n", iova_strategy_name(i), iova_strategy_description(i));
	printf("  %-22s %s\n", "NAME+cache", "any of them behind per-thread magazine caches (Linux rcache); options "
					   "magazine_size, classes, rounding, depot_target, trim_ms");
}

static void list_generators(void)
{
	printf("generators (workload=NAME or NAME(key=value ...); iovabench gen NAME):\n");
	for (size_t i = 0; i < wl_gen_count(); i++)
		printf("  %-22s %s\n  %-22s   defaults: %s\n", wl_gen_name(i), wl_gen_description(i), "", wl_gen_params(i));
}

static void list_importers(void)
{
	printf("importers (workload=import:FORMAT:PATH; iovabench import FORMAT PATH):\n");
	for (size_t i = 0; i < wl_import_count(); i++)
		printf("  %-22s %s%s%s\n", wl_import_name(i), wl_import_description(i), *wl_import_params(i) ? "; " : "",
		       wl_import_params(i));
	printf("  %-22s %s\n", "(pytorch)", "CUDA caching-allocator snapshots: workloads/tools/pytorch_snapshot.py, then trace:PATH");
}

static void list_policies(void)
{
	printf("invalidation policies (invalidation=; the core's name in brackets):\n");
	for (size_t i = 0; i < ib_policy_name_count(); i++) {
		iova_inval_policy p;
		const char *meaning;
		const char *name = ib_policy_name_at(i, &p, &meaning);
		printf("  %-10s [%-6s] %s\n", name, iova_inval_policy_name(p), meaning);
	}
	printf("clocks (clock=): spin (costs busy-waited, so they are in the measured time), modelled (virtual\n"
	       "  per-CPU clocks: deterministic, summary.json gives modelled throughput)\n");
}

static void list_options(void)
{
	printf("options (job files: name = value; command line: --name=value):\n");
	for (size_t i = 0; i < ib_option_count(); i++) {
		const ib_option *o = ib_option_at(i);
		printf("  %-18s default %-12s %s\n", o->name, *o->def ? o->def : "\"\"", o->help);
	}
}

int ib_cmd_list(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, 0, &c, &e))
		return ib_usage_error("list", &e);
	if (c.help) {
		printf("usage: iovabench list [strategies|generators|importers|policies|options]\n\n"
		       "Lists what a job can name, with one-line descriptions (everything when no argument is given).\n\n"
		       "Examples:\n  iovabench list\n  iovabench list generators\n");
		ib_cli_free(&c);
		return EXIT_OK;
	}
	static const char *const what[] = {"strategies", "generators", "importers", "policies", "options"};
	static void (*const fn[])(void) = {list_strategies, list_generators, list_importers, list_policies, list_options};
	if (c.npos > 1) {
		ib_fail(&e, "list takes at most one argument");
		ib_cli_free(&c);
		return ib_usage_error("list", &e);
	}
	int rc = EXIT_OK;
	bool done = false;
	for (unsigned i = 0; i < 5; i++)
		if (c.npos == 0 || strcmp(c.pos[0], what[i]) == 0) {
			if (done)
				printf("\n");
			fn[i]();
			done = true;
		}
	if (!done) {
		ib_fail(&e, "nothing called '%s' to list (strategies, generators, importers, policies, options)", c.pos[0]);
		rc = ib_usage_error("list", &e);
	}
	ib_cli_free(&c);
	return rc;
}

int ib_cmd_topo(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, 0, &c, &e))
		return ib_usage_error("topo", &e);
	if (c.help) {
		printf("usage: iovabench topo\n\nPrints the machine as hwloc sees it, and the order workers are pinned in\n"
		       "(one per core before any core's second hardware thread). summary.json records the same.\n\n"
		       "Example:\n  iovabench topo\n");
		ib_cli_free(&c);
		return EXIT_OK;
	}
	if (c.npos) {
		ib_fail(&e, "topo takes no arguments");
		ib_cli_free(&c);
		return ib_usage_error("topo", &e);
	}
	const ib_topo *t = ib_topo_get();
	printf("%s\n", t->text);
	const ib_clock *k = ib_clock_get();
	printf("clock: %s, %.4f ticks/ns, one read costs %.1f ns (subtracted from every latency)\n", k->source,
	       k->ticks_per_ns, k->read_cost_ns);
	ib_cli_free(&c);
	return EXIT_OK;
}
