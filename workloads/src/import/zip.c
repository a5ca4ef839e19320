/* SPDX-License-Identifier: MIT */
/* zip.c - reading the first file of a zip archive (Android's traces ship
 * zipped) with libzip. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "internal.h"

bool wl_import_zip_entry(const char *path, char **data, size_t *len, char *entry, size_t entry_len, wl_error *err);

bool wl_import_zip_entry(const char *path, char **data, size_t *len, char *entry, size_t entry_len, wl_error *err)
{
	*data = NULL;
	*len = 0;
	int zerr = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
	if (!z) {
		zip_error_t e;
		zip_error_init_with_code(&e, zerr);
		wl_set_error(err, path, 0, "cannot open zip: %s", zip_error_strerror(&e));
		zip_error_fini(&e);
		return false;
	}
	bool ok = false, reported = false;
	zip_int64_t n = zip_get_num_entries(z, 0);
	for (zip_int64_t i = 0; i < n && !ok; i++) {
		zip_stat_t st;
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
		    !(st.valid & ZIP_STAT_NAME))
			continue;
		size_t nl = strlen(st.name);
		if (nl && st.name[nl - 1] == '/')
			continue; /* a folder */
		if (st.size > ((zip_uint64_t)1 << 34)) {
			reported = true;
			wl_set_error(err, path, 0, "zip entry %s is too large (%llu bytes)", st.name,
				     (unsigned long long)st.size);
			break;
		}
		zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
		char *buf = malloc((size_t)st.size + 1);
		if (!f || !buf) {
			reported = true;
			wl_set_error(err, path, 0, "cannot read zip entry %s: %s", st.name, f ? "out of memory" : zip_strerror(z));
			free(buf);
			if (f)
				zip_fclose(f);
			break;
		}
		zip_int64_t got = 0;
		while ((zip_uint64_t)got < st.size) {
			zip_int64_t r = zip_fread(f, buf + got, st.size - (zip_uint64_t)got);
			if (r <= 0)
				break;
			got += r;
		}
		zip_fclose(f);
		if ((zip_uint64_t)got != st.size) {
			reported = true;
			wl_set_error(err, path, 0, "zip entry %s: short read (%lld of %llu bytes)", st.name, (long long)got,
				     (unsigned long long)st.size);
			free(buf);
			break;
		}
		buf[got] = '\0';
		snprintf(entry, entry_len, "%s", st.name);
		*data = buf;
		*len = (size_t)got;
		ok = true;
	}
	if (!ok && !reported)
		wl_set_error(err, path, 0, "no file in the zip archive");
	zip_discard(z);
	return ok;
}
