/* Data array functions on a topper's datasource (test/gadgets/mapiter_topper): the array a
 * subscription is handed (len, get, fields set in place), elements appended to it (new, append;
 * a new one released instead), an out-of-range get, and array packets of a datasource of its own. */
#include <gadget/wasm.h>

static gadget_datasource totals;
static gadget_field pid, comm, calls, total, rows;

static int on_array(gadget_datasource ds, gadget_data_array a, void *ctx)
{
	uint32_t n = gadget_array_len(a), p;
	uint64_t c, sum = 0;
	char cm[32];
	gadget_data e;
	gadget_packet pk;

	for (uint32_t i = 0; i < n; i++) {
		e = gadget_array_get(a, i);
		if (gadget_field_uint32(pid, e, &p) || gadget_field_string(comm, e, cm, sizeof cm) < 0 || gadget_field_uint64(calls, e, &c))
			return gadget_errorf("reading element %u failed", i), 1;
		gadget_field_set_uint64(calls, e, c * 10);
		sum += c * 10;
	}
	gadget_infof("array of %u, element %u: %u", n, n, gadget_array_get(a, n));
	e = gadget_array_new(a);
	gadget_field_set_uint32(pid, e, 424143);
	gadget_field_set_string(comm, e, "wasm");
	gadget_field_set_uint64(calls, e, 7);
	gadget_array_append(a, e);
	e = gadget_array_new(a);
	gadget_field_set_string(comm, e, "never shown");
	gadget_array_release(a, e);
	gadget_infof("after append: %u", gadget_array_len(a));

	pk = gadget_new_packet_array(totals);
	e = gadget_array_new(pk);
	gadget_field_set_uint64(total, e, sum + 7);
	gadget_field_set_uint32(rows, e, n + 1);
	gadget_array_append(pk, e);
	gadget_emit_and_release(totals, pk);
	return 0;
}

/* after the array subscription: each element, the appended one too */
static void on_element(gadget_datasource ds, gadget_data d, void *ctx)
{
	char cm[32];
	uint64_t c;
	gadget_field_string(comm, d, cm, sizeof cm);
	gadget_field_uint64(calls, d, &c);
	gadget_infof("element %s calls=%llu", cm, (unsigned long long)c);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("getcwd_calls");

	pid = gadget_get_field(ds, "pid");
	comm = gadget_get_field(ds, "comm");
	calls = gadget_get_field(ds, "calls");
	totals = gadget_new_datasource("totals", GADGET_DATASOURCE_ARRAY);
	total = gadget_add_field(totals, "total", GADGET_KIND_UINT64);
	rows = gadget_add_field(totals, "rows", GADGET_KIND_UINT32);
	if (!ds || !pid || !comm || !calls || !totals || !total || !rows)
		return 1;
	gadget_infof("a single packet of an array datasource: %u", gadget_new_packet_single(ds));
	if (gadget_subscribe_array(ds, on_array, 0, 0) || gadget_subscribe(ds, on_element, 0, 5))
		return 1;
	return 0;
}
