/* A guest that misbehaves as --fault says, in gadgetInit, gadgetStart or on the first event:
 *   trap        __builtin_trap() in the callback
 *   loop        an endless loop in the callback         loop-init  the same in gadgetInit
 *   recursion   a loop-free recursion that takes for ever, in gadgetStart
 *   memory      allocates without bound in the callback (malloc fails at the cap, then it traps)
 *   pointer     fieldSet with a string outside its memory, on every event (the run goes on)
 *   errptr      fieldGetScalar with its error pointer outside its memory (IG closes the module)
 *   handle      calls with handles it never got, on every event (the run goes on)
 *   exit        exit(3) in the callback                  stack      endless recursion in the callback
 *   init-fails  gadgetInit returns 1 */
#include <gadget/wasm.h>
#include <stdlib.h>

static char fault[32];
static gadget_field tag;

static uint64_t slow(uint64_t n)
{
	return n < 2 ? n : slow(n - 1) + slow(n - 2);
}

static volatile uint64_t sink;

/* recursion whose frames live on the engine's stack, not in linear memory */
__attribute__((noinline)) static uint64_t deep(uint64_t n)
{
	uint64_t r = n == 0 ? 0 : deep(n + 1);
	sink = r;
	return r + n;
}
/* what the allocations escape to, so the compiler keeps them */
static char *volatile keep;

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	if (!strcmp(fault, "trap"))
		__builtin_trap();
	if (!strcmp(fault, "loop"))
		for (;;)
			sink++;
	if (!strcmp(fault, "memory")) {
		for (;;) {
			char *p = malloc(1 << 20);
			if (!p)
				__builtin_trap();
			keep = p;
			memset(p, 1, 1 << 20);
		}
	}
	if (!strcmp(fault, "pointer"))
		gadget__field_set(tag, d, GADGET_KIND_STRING, gadget_buf((void *)0xfffffff0, 64));
	if (!strcmp(fault, "errptr"))
		gadget__field_get_scalar(12345, d, GADGET_KIND_UINT32, 0xfffffff0);
	if (!strcmp(fault, "handle")) {
		uint32_t err = 0;
		gadget__field_get_scalar(12345, d, GADGET_KIND_UINT32, (uint32_t)(uintptr_t)&err);
		gadget__map_lookup(ds, gadget_buf(&err, 4), gadget_buf(&err, 4));
		gadget__release_handle(4242);
	}
	if (!strcmp(fault, "exit"))
		exit(3);
	if (!strcmp(fault, "stack"))
		sink = deep(1);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("getcwd");

	if (gadget_get_param_value("fault", fault, sizeof fault))
		return 1;
	if (!strcmp(fault, "init-fails")) {
		gadget_errorf("refusing to start");
		return 1;
	}
	if (!strcmp(fault, "loop-init"))
		for (;;)
			sink++;
	tag = gadget_add_field(ds, "tag", GADGET_KIND_STRING);
	if (!strcmp(fault, "handle"))
		gadget_infof("subscribing to handle 999: %u", gadget__subscribe(999, 1, 0, 1));
	return gadget_subscribe(ds, on_event, 0, 0);
}

GADGET_EXPORT(gadgetStart) int gadgetStart(void)
{
	if (!strcmp(fault, "recursion"))
		sink = slow(90);
	return 0;
}
