/* SPDX-License-Identifier: MIT */
/* status.c - names and messages of iova_status values. */
#include "iova.h"

static const struct {
	const char *name, *message;
} status_text[IOVA_STATUS_COUNT] = {
	[IOVA_OK] = {"IOVA_OK", "success"},
	[IOVA_ERR_INVALID_ARGUMENT] = {"IOVA_ERR_INVALID_ARGUMENT", "invalid argument: a required pointer is NULL or the domain configuration is malformed"},
	[IOVA_ERR_ZERO_SIZE] = {"IOVA_ERR_ZERO_SIZE", "request size is zero"},
	[IOVA_ERR_SIZE_TOO_LARGE] = {"IOVA_ERR_SIZE_TOO_LARGE", "request size is larger than the whole domain"},
	[IOVA_ERR_RANGE_INVERTED] = {"IOVA_ERR_RANGE_INVERTED", "lowest acceptable address is above the highest acceptable address"},
	[IOVA_ERR_RANGE_TOO_SMALL] = {"IOVA_ERR_RANGE_TOO_SMALL", "the acceptable address range, within the domain, is smaller than the size"},
	[IOVA_ERR_BAD_BOUNDARY] = {"IOVA_ERR_BAD_BOUNDARY", "boundary multiple is neither 0 nor a power of two"},
	[IOVA_ERR_BOUNDARY_TOO_SMALL] = {"IOVA_ERR_BOUNDARY_TOO_SMALL", "boundary multiple is smaller than the (granule-rounded) size, so every placement would cross it"},
	[IOVA_ERR_BAD_ALIGNMENT] = {"IOVA_ERR_BAD_ALIGNMENT", "alignment is neither 0 nor a power of two"},
	[IOVA_ERR_BAD_CACHE_TYPE] = {"IOVA_ERR_BAD_CACHE_TYPE", "cache type is not non-cached, cached or write-combined"},
	[IOVA_ERR_BAD_PLACEMENT] = {"IOVA_ERR_BAD_PLACEMENT", "placement is neither bottom-up nor top-down"},
	[IOVA_ERR_UNSATISFIABLE] = {"IOVA_ERR_UNSATISFIABLE", "no placement satisfies the address range and alignment, even with the domain empty"},
	[IOVA_ERR_NO_SPACE] = {"IOVA_ERR_NO_SPACE", "no free block satisfies the request now (space exhausted or too fragmented in the acceptable range)"},
	[IOVA_ERR_DOUBLE_FREE] = {"IOVA_ERR_DOUBLE_FREE", "the handle's block has already been freed"},
	[IOVA_ERR_UNKNOWN_HANDLE] = {"IOVA_ERR_UNKNOWN_HANDLE", "the handle is authentic but no live allocation matches it"},
	[IOVA_ERR_FORGED_HANDLE] = {"IOVA_ERR_FORGED_HANDLE", "the handle was not issued by this domain (altered, made up or foreign)"},
	[IOVA_ERR_NO_MEMORY] = {"IOVA_ERR_NO_MEMORY", "the host could not provide memory for metadata"},
	[IOVA_ERR_UNSUPPORTED] = {"IOVA_ERR_UNSUPPORTED", "the allocation strategy cannot honour this constraint"},
	[IOVA_ERR_NOT_MAPPED] = {"IOVA_ERR_NOT_MAPPED", "the allocation (or address) is not mapped in the IOMMU page table"},
	[IOVA_ERR_ALREADY_MAPPED] = {"IOVA_ERR_ALREADY_MAPPED", "the allocation is already mapped in the IOMMU page table"},
	[IOVA_ERR_STILL_MAPPED] = {"IOVA_ERR_STILL_MAPPED", "the allocation is still mapped: unmap it before freeing, or use iova_unmap_free()"},
	[IOVA_ERR_DEVICE_FAULT] = {"IOVA_ERR_DEVICE_FAULT", "the IOMMU blocked a device access to an address with no translation"},
	[IOVA_ERR_NO_IOMMU] = {"IOVA_ERR_NO_IOMMU", "the domain has no IOMMU translation (created without config.iommu, or passthrough)"},
};

const char *iova_status_name(iova_status status)
{
	return (unsigned)status < IOVA_STATUS_COUNT ? status_text[status].name : "IOVA_ERR_UNKNOWN_STATUS";
}

const char *iova_status_message(iova_status status)
{
	return (unsigned)status < IOVA_STATUS_COUNT ? status_text[status].message : "unknown status code";
}
