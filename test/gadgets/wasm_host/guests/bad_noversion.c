/* No gadgetAPIVersion. */
#define GADGET_WASM_NO_EXPORTS
#include <gadget/wasm.h>

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	return 0;
}
