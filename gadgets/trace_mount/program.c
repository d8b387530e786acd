// SPDX-License-Identifier: Apache-2.0
/* trace_mount's wasm module (IG's trace_mount does this in Rust, in the same format): `flags`, the names of the
 * MS_* (mount) or MNT_* (umount2) flags set in flags_raw joined with "|", and `call`, the call as
 * it was made, e.g.  mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = 0 */
#include <gadget/wasm.h>

struct flag {
	uint64_t bit;
	const char *name;
};

static const struct flag mount_flags[] = {
	{ 1, "MS_RDONLY" },	      { 2, "MS_NOSUID" },	      { 4, "MS_NODEV" },	  { 8, "MS_NOEXEC" },
	{ 16, "MS_SYNCHRONOUS" },     { 32, "MS_REMOUNT" },	      { 64, "MS_MANDLOCK" },	  { 128, "MS_DIRSYNC" },
	{ 256, "MS_NOSYMFOLLOW" },    { 1024, "MS_NOATIME" },	      { 2048, "MS_NODIRATIME" },  { 4096, "MS_BIND" },
	{ 8192, "MS_MOVE" },	      { 16384, "MS_REC" },	      { 32768, "MS_SILENT" },	  { 1 << 16, "MS_POSIXACL" },
	{ 1 << 17, "MS_UNBINDABLE" }, { 1 << 18, "MS_PRIVATE" },      { 1 << 19, "MS_SLAVE" },	  { 1 << 20, "MS_SHARED" },
	{ 1 << 21, "MS_RELATIME" },   { 1 << 22, "MS_KERNMOUNT" },    { 1 << 23, "MS_I_VERSION" }, { 1 << 24, "MS_STRICTATIME" },
	{ 1 << 25, "MS_LAZYTIME" },
};
static const struct flag umount_flags[] = {
	{ 1, "MNT_FORCE" }, { 2, "MNT_DETACH" }, { 4, "MNT_EXPIRE" }, { 8, "UMOUNT_NOFOLLOW" },
};

enum { MOUNT, UMOUNT };

static gadget_field op_f, flags_raw_f, error_f, src_f, dest_f, fs_f, data_f, flags_f, call_f;

/* The names of the flags set, "|"-joined (IG's rule for _set enums: unknown bits are not named). */
static void flag_names(uint64_t v, const struct flag *t, size_t n, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if ((v & t[i].bit) != t[i].bit)
			continue;
		len += snprintf(out + len, len < size ? size - len : 0, "%s%s", len ? "|" : "", t[i].name);
	}
}

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	static char src[4096], dest[4096], fs[256], data[512], flags[512], call[10000];
	int32_t op = 0;
	uint64_t raw = 0;
	uint32_t err = 0;

	gadget_field_int32(op_f, d, &op);
	gadget_field_uint64(flags_raw_f, d, &raw);
	gadget_field_uint32(error_f, d, &err);
	if (gadget_field_string(src_f, d, src, sizeof src) < 0 || gadget_field_string(dest_f, d, dest, sizeof dest) < 0 ||
	    gadget_field_string(fs_f, d, fs, sizeof fs) < 0 || gadget_field_string(data_f, d, data, sizeof data) < 0)
		return;
	if (op == MOUNT) {
		flag_names(raw, mount_flags, sizeof mount_flags / sizeof mount_flags[0], flags, sizeof flags);
		snprintf(call, sizeof call, "mount(\"%s\", \"%s\", \"%s\", %s, \"%s\") = %u", src, dest, fs, flags, data, err);
	} else {
		flag_names(raw, umount_flags, sizeof umount_flags / sizeof umount_flags[0], flags, sizeof flags);
		snprintf(call, sizeof call, "umount(\"%s\", \"%s\") = %u", dest, flags, err);
	}
	gadget_field_set_string(flags_f, d, flags);
	gadget_field_set_string(call_f, d, call);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("mount");

	if (!ds) {
		gadget_errorf("no datasource \"mount\"");
		return 1;
	}
	op_f = gadget_get_field(ds, "op_raw");
	flags_raw_f = gadget_get_field(ds, "flags_raw");
	error_f = gadget_get_field(ds, "error_raw");
	src_f = gadget_get_field(ds, "src");
	dest_f = gadget_get_field(ds, "dest");
	fs_f = gadget_get_field(ds, "fs");
	data_f = gadget_get_field(ds, "data");
	flags_f = gadget_add_field(ds, "flags", GADGET_KIND_STRING);
	call_f = gadget_add_field(ds, "call", GADGET_KIND_STRING);
	if (!op_f || !flags_raw_f || !error_f || !src_f || !dest_f || !fs_f || !data_f || !flags_f || !call_f) {
		gadget_errorf("the mount datasource lacks a field this module needs");
		return 1;
	}
	return gadget_subscribe(ds, on_event, 0, 0);
}
