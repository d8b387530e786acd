/* Perf reader functions, as IG's perf test uses them: an overwritable reader over the gadget's
 * perf_events (its eBPF side writes {42, 42, 43} per getcwd) refuses a read until paused; in
 * gadgetStop, paused, it gives every record written since (the test runs pwd 3 times), then
 * "deadline exceeded"; resume, close. With --overwritable=false a forward reader gets them in order
 * and, once drained, waits until the call's time budget is nearly spent: "deadline exceeded". */
#include <gadget/wasm.h>

struct record {
	uint32_t a;
	uint32_t b;
	uint8_t c;
	uint8_t unused[247];
};

static gadget_perf_reader over;
static gadget_map events;
static bool overwritable;

GADGET_EXPORT(gadgetStart) int gadgetStart(void)
{
	uint8_t sample[4096];

	char mode[8];

	if (gadget_get_param_value("overwritable", mode, sizeof mode))
		return 1;
	overwritable = strcmp(mode, "false") != 0;
	events = gadget_get_map("perf_events");
	over = gadget_new_perf_reader(events, 4096, overwritable);
	if (!events || !over)
		return 1;
	if (overwritable)
		gadget_infof("read before pause: %d", gadget_perf_reader_read(over, sample, sizeof sample));
	gadget_infof("a perf reader over test_map: %u", gadget_new_perf_reader(gadget_get_map("test_map"), 4096, false));
	return 0;
}

static int drain(gadget_perf_reader r, const char *name)
{
	uint8_t sample[4096];
	struct record ev;
	int n = 0, good = 0, ret;

	while ((ret = gadget_perf_reader_read(r, sample, sizeof sample)) == 0) {
		memcpy(&ev, sample, sizeof ev);
		n++;
		good += ev.a == 42 && ev.b == 42 && ev.c == 43;
	}
	gadget_infof("%s: %d records, %d of them {42, 42, 43}, then %s", name, n, good, ret == GADGET_PERF_DEADLINE ? "deadline exceeded" : "an error");
	return n;
}

GADGET_EXPORT(gadgetStop) int gadgetStop(void)
{
	uint8_t small[8];

	if (!overwritable) {
		drain(over, "forward");
		return gadget_perf_reader_close(over);
	}
	if (gadget_perf_reader_pause(over))
		return 1;
	drain(over, "overwritable");
	gadget_infof("again: %d", gadget_perf_reader_read(over, small, sizeof small));
	if (gadget_perf_reader_resume(over) || gadget_perf_reader_close(over))
		return 1;
	gadget_infof("read after close: %d", gadget_perf_reader_read(over, small, sizeof small));
	return 0;
}
