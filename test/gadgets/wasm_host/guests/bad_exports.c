/* A gadgetInit without IG's type (it must return an i32). */
#define GADGET_WASM_NO_EXPORTS
#include <gadget/wasm.h>

GADGET_EXPORT(gadgetAPIVersion) uint64_t version(void)
{
	return GADGET_API_VERSION;
}

GADGET_EXPORT(gadgetInit) void gadgetInit(void)
{
}
