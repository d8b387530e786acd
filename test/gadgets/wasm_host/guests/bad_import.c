/* Imports what ig does not provide: a function IG's API lacks, one of another module, and one
 * of IG's with the wrong type. */
#include <gadget/wasm.h>

__attribute__((import_module("ig"), import_name("doesNotExist"))) uint32_t does_not_exist(uint32_t);
__attribute__((import_module("env"), import_name("foo"))) void env_foo(void);
__attribute__((import_module("ig"), import_name("dataSourceRelease"))) uint32_t wrong_release(uint32_t);

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	env_foo();
	return (int)does_not_exist(1) + (int)wrong_release(2);
}
