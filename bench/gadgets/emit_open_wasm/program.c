// SPDX-License-Identifier: Apache-2.0
/* The wasm bench's module (bench/lib/wasm.js): per event of emit_open (trace_open's record) it
 * reads two fields, pid and fd, and sets one it adds, `tag` = pid * 8 + fd. */
#include <gadget/wasm.h>

static gadget_field pid_f, fd_f, tag_f;

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	uint32_t pid = 0;
	int32_t fd = 0;

	gadget_field_uint32(pid_f, d, &pid);
	gadget_field_int32(fd_f, d, &fd);
	gadget_field_set_uint32(tag_f, d, pid * 8 + (uint32_t)fd);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("open");

	pid_f = gadget_get_field(ds, "pid");
	fd_f = gadget_get_field(ds, "fd");
	tag_f = gadget_add_field(ds, "tag", GADGET_KIND_UINT32);
	if (!ds || !pid_f || !fd_f || !tag_f)
		return 1;
	return gadget_subscribe(ds, on_event, 0, 0);
}
