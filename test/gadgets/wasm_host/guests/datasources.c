/* Datasource functions: get, new (single), subscribe (data and packet, by priority), get/add
 * field, new packet, emit and release, release (of a new packet: not sent; of the packet being
 * delivered: dropped), unreference, is-referenced, and the refusals IG's host makes. */
#include <gadget/wasm.h>

static gadget_datasource cwd, summary;
static gadget_field counter, pid, seen_pid, seen_counter, note;

/* priority 0: every event is copied into the "summary" datasource */
static void copy(gadget_datasource ds, gadget_data d, void *ctx)
{
	uint64_t c;
	uint32_t p;
	gadget_packet pk, unsent;

	gadget_field_uint64(counter, d, &c);
	gadget_field_uint32(pid, d, &p);
	pk = gadget_new_packet_single(summary);
	gadget_field_set_uint32(seen_pid, pk, p);
	gadget_field_set_uint64(seen_counter, pk, c);
	gadget_field_set_string(note, pk, c % 2 ? "kept" : "dropped");
	if (gadget_emit_and_release(summary, pk))
		gadget_errorf("emit failed");
	/* made and released: never shown */
	unsent = gadget_new_packet_single(summary);
	gadget_field_set_string(note, unsent, "never shown");
	gadget_release(summary, unsent);
	if (c == 1) {
		gadget_infof("emitting the packet being delivered: %s", gadget_emit_and_release(cwd, d) ? "refused" : "accepted");
		gadget_infof("an array packet of a single datasource: %u", gadget_new_packet_array(summary));
	}
}

/* priority 10: events with an even counter go no further */
static int drop_even(gadget_datasource ds, gadget_packet p, void *ctx)
{
	uint64_t c;
	gadget_field_uint64(counter, p, &c);
	if (c % 2 == 0)
		gadget_release(ds, p);
	return 0;
}

/* priority 20: what is left */
static void after(gadget_datasource ds, gadget_data d, void *ctx)
{
	uint64_t c;
	gadget_field_uint64(counter, d, &c);
	gadget_infof("after the drop: counter=%llu", (unsigned long long)c);
}

static int noop(gadget_datasource ds, gadget_data_array a, void *ctx)
{
	return 0;
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource hidden;

	cwd = gadget_get_datasource("getcwd");
	counter = gadget_get_field(cwd, "counter");
	pid = gadget_get_field(cwd, "pid");
	summary = gadget_new_datasource("summary", GADGET_DATASOURCE_SINGLE);
	seen_pid = gadget_add_field(summary, "seen_pid", GADGET_KIND_UINT32);
	seen_counter = gadget_add_field(summary, "seen_counter", GADGET_KIND_UINT64);
	note = gadget_add_field(summary, "note", GADGET_KIND_STRING);
	hidden = gadget_new_datasource("hidden", GADGET_DATASOURCE_SINGLE);
	if (!cwd || !counter || !pid || !summary || !seen_pid || !seen_counter || !note || !hidden)
		return 1;
	gadget_infof("no such datasource: %u", gadget_get_datasource("no_such_datasource"));
	gadget_infof("a second getcwd datasource: %u", gadget_new_datasource("getcwd", GADGET_DATASOURCE_SINGLE));
	gadget_infof("hidden referenced before: %d", gadget_is_referenced(hidden));
	gadget_unreference(hidden);
	gadget_infof("hidden referenced after: %d, getcwd referenced: %d", gadget_is_referenced(hidden), gadget_is_referenced(cwd));
	gadget_infof("array subscription of a single datasource: %s", gadget_subscribe_array(cwd, noop, 0, 0) ? "refused" : "accepted");
	if (gadget_subscribe(cwd, after, 0, 20) || gadget_subscribe_packet(cwd, drop_even, 0, 10) || gadget_subscribe(cwd, copy, 0, 0))
		return 1;
	return 0;
}
