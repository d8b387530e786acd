/* Says it speaks version 2 of IG's wasm API. */
#define GADGET_WASM_NO_EXPORTS
#include <gadget/wasm.h>

GADGET_EXPORT(gadgetAPIVersion) uint64_t version(void)
{
	return 2;
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	return 0;
}
