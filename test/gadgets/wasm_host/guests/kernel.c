/* Syscall and kallsyms functions: names by number (unknown ones as syscall_<hex>), numbers by
 * name, declarations from tracefs in IG's 252-byte struct, buffers too small refused. */
#include <gadget/wasm.h>

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	char name[GADGET_MAX_SYSCALL_LENGTH], tiny[4];
	struct gadget_syscall_declaration d;
	char line[512];
	int n;

	for (int i = 0; i < 3; i++) {
		uint16_t id = (uint16_t[]){ 0, 59, 1000 }[i];
		gadget_get_syscall_name(id, name, sizeof name);
		gadget_infof("syscall %u: %s", id, name);
	}
	gadget_infof("syscall 59 into 4 bytes: %d", gadget_get_syscall_name(59, tiny, sizeof tiny));
	gadget_infof("openat is %d, no_such_syscall is %d", gadget_get_syscall_id("openat"), gadget_get_syscall_id("no_such_syscall"));
	if (gadget_get_syscall_declaration("openat", &d))
		return 1;
	n = snprintf(line, sizeof line, "%s(", d.name);
	for (int i = 0; i < d.nr_params; i++)
		n += snprintf(line + n, sizeof line - n, "%s%s%s", i ? ", " : "", d.params[i].name,
			      d.params[i].flags & GADGET_SYSCALL_PARAM_IS_POINTER ? "*" : "");
	gadget_infof("%s)", line);
	gadget_infof("declaration of no_such_syscall: %d", gadget_get_syscall_declaration("no_such_syscall", &d));
	gadget_infof("declaration into 8 bytes: %u", gadget__get_syscall_declaration(gadget_str("openat"), gadget_buf(tiny, 4)));
	gadget_infof("kallsyms: vfs_read %d, no_such_symbol_ig %d", gadget_kallsyms_symbol_exists("vfs_read"),
		     gadget_kallsyms_symbol_exists("no_such_symbol_ig"));
	return 0;
}
