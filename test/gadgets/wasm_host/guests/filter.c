/* shouldDiscardMntnsID: asked in gadgetStart about the mount namespace given with --mntns and
 * about 555 (no namespace): 0 for both when the run selects no containers; with a selection the
 * in-kernel filter decides. */
#include <gadget/wasm.h>
#include <stdlib.h>

GADGET_EXPORT(gadgetStart) int gadgetStart(void)
{
	char text[32];
	uint64_t id;

	if (gadget_get_param_value("mntns", text, sizeof text))
		return 1;
	id = strtoull(text, 0, 10);
	gadget_infof("discard %llu: %d, discard 555: %d", (unsigned long long)id, gadget_should_discard_mntns_id(id),
		     gadget_should_discard_mntns_id(555));
	return 0;
}
