/* Adds one field, `tag` ("pid=<pid> small=<small>"), to every event: the field the outputs,
 * filters and the daemon's stream must treat like any other. */
#include <gadget/wasm.h>

static gadget_field pid_f, small_f, tag_f;

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	uint32_t pid;
	int8_t small;
	char buf[64];

	if (gadget_field_uint32(pid_f, d, &pid) || gadget_field_int8(small_f, d, &small))
		return;
	snprintf(buf, sizeof buf, "pid=%u small=%d", pid, small);
	gadget_field_set_string(tag_f, d, buf);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("getcwd");

	pid_f = gadget_get_field(ds, "pid");
	small_f = gadget_get_field(ds, "small");
	tag_f = gadget_add_field(ds, "tag", GADGET_KIND_STRING);
	if (!ds || !pid_f || !small_f || !tag_f)
		return 1;
	return gadget_subscribe(ds, on_event, 0, 0);
}
