/* SPDX-License-Identifier: MIT */
/* values.c - parsing option values: sizes, integers, durations, booleans,
 * invalidation policy names (the core's, plus "batched" for its per-CPU
 * queues; "unsafe-early-release" is there so that a run can show the safety
 * oracle at work, and fails). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iovabench.h"

bool ib_parse_uint(const char *s, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool ib_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return false;
		for (; isxdigit((unsigned char)*p); p++) {
			unsigned d = (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
			if (v > (UINT64_MAX >> 4))
				return false;
			v = v << 4 | d;
		}
	} else {
		if (!isdigit((unsigned char)*p))
			return false;
		for (; isdigit((unsigned char)*p); p++) {
			unsigned d = (unsigned)(*p - '0');
			if (v > (UINT64_MAX - d) / 10)
				return false;
			v = v * 10 + d;
		}
	}
	unsigned shift = 0;
	if (*p) {
		switch (toupper((unsigned char)*p)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		case 'P': shift = 50; break;
		default: return false;
		}
		p++;
		if (strcasecmp(p, "iB") == 0 || strcasecmp(p, "B") == 0)
			p += strlen(p);
		if (*p)
			return false;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

bool ib_parse_duration(const char *s, uint64_t *out_ns)
{
	char *end;
	if (!*s || !(isdigit((unsigned char)*s) || *s == '.'))
		return false;
	double v = strtod(s, &end);
	if (end == s || !(v >= 0) || !isfinite(v))
		return false;
	double mult;
	if (!*end || strcmp(end, "s") == 0)
		mult = 1e9;
	else if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "us") == 0)
		mult = 1e3;
	else if (strcmp(end, "ns") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60e9;
	else
		return false;
	double ns = v * mult;
	if (ns > 1e18)
		return false;
	*out_ns = (uint64_t)(ns + 0.5);
	return true;
}

bool ib_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no", "false", "off"};
	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static const struct {
	const char *name;
	iova_inval_policy policy;
	const char *meaning;
} policies[] = {
	{"strict", IOVA_INVAL_STRICT, "invalidate the IOTLB and wait inside every unmap"},
	{"batched", IOVA_INVAL_PERCPU_QUEUE,
	 "= percpu: deferred invalidation through per-CPU flush queues (Linux lazy mode)"},
	{"percpu", IOVA_INVAL_PERCPU_QUEUE, "per-CPU flush queues, 256 entries, 10 ms timeout by default"},
	{"global", IOVA_INVAL_GLOBAL_QUEUE, "one flush queue, 32,768 entries, 1 s timeout by default"},
	{"none", IOVA_INVAL_NONE, "passthrough: no translation, no invalidation, no protection (upper bound)"},
	{"unsafe-early-release", IOVA_INVAL_UNSAFE_EARLY_RELEASE,
	 "deliberately broken (IOVAs released before their flush): shows the oracle failing a run; never for results"},
};

bool ib_policy_from_name(const char *s, iova_inval_policy *out)
{
	for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
		if (strcmp(s, policies[i].name) == 0)
			return *out = policies[i].policy, true;
	return false;
}

size_t ib_policy_name_count(void) { return sizeof policies / sizeof policies[0]; }

const char *ib_policy_name_at(size_t i, iova_inval_policy *policy, const char **meaning)
{
	if (i >= ib_policy_name_count())
		return NULL;
	if (policy)
		*policy = policies[i].policy;
	if (meaning)
		*meaning = policies[i].meaning;
	return policies[i].name;
}
