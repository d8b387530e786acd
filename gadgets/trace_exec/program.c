// SPDX-License-Identifier: Apache-2.0
/* trace_exec's wasm module (IG's trace_exec does this in Go): the eBPF side sends argv as the
 * program got it, each argument ending with a NUL; this module joins the arguments into `args`
 * with a no-break space (U+00A0) between them, as IG does, so an argument's own spaces stay
 * visible, and sets `args_count` to how many there are. */
#include <gadget/wasm.h>

/* the eBPF side's FULL_MAX_ARGS_ARR */
#define ARGS_MAX 5120
#define SEPARATOR "\xc2\xa0"

static gadget_field args_f, size_f, count_f;

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	static char raw[ARGS_MAX], out[ARGS_MAX * 2 + 1];
	uint32_t size = 0, count = 0, len = 0, start = 0;
	int32_t n;

	n = gadget_field_bytes(args_f, d, raw, sizeof raw);
	if (n < 0 || gadget_field_uint32(size_f, d, &size))
		return;
	if (size > (uint32_t)n)
		size = (uint32_t)n;
	for (uint32_t i = 0; i < size; i++) {
		if (raw[i] != 0)
			continue;
		if (count)
			memcpy(out + len, SEPARATOR, 2), len += 2;
		memcpy(out + len, raw + start, i - start);
		len += i - start;
		start = i + 1;
		count++;
	}
	if (start < size) { /* the last argument was cut */
		if (count)
			memcpy(out + len, SEPARATOR, 2), len += 2;
		memcpy(out + len, raw + start, size - start);
		len += size - start;
		count++;
	}
	/* the field holds ARGS_MAX bytes: a joined line longer than that is cut (separators are 2 bytes) */
	if (len > ARGS_MAX)
		len = ARGS_MAX;
	gadget_field_set_string_len(args_f, d, out, len);
	gadget_field_set_uint32(count_f, d, count);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("exec");

	args_f = gadget_get_field(ds, "args");
	size_f = gadget_get_field(ds, "args_size");
	count_f = gadget_get_field(ds, "args_count");
	if (!ds || !args_f || !size_f || !count_f) {
		gadget_errorf("the exec datasource lacks args, args_size or args_count");
		return 1;
	}
	return gadget_subscribe(ds, on_event, 0, 0);
}
