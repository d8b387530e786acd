/* Params, config and log functions: a wasm param's default or given value, an unknown param and
 * a buffer too small refused; setConfig of programs.<name>.attach_to = gadget_program_disabled
 * (with --disable) keeps the program from being attached; a non-string config refused; every
 * log level, and which ones are shown. */
#include <gadget/wasm.h>

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	char greeting[64], tiny[2], disable[8];

	if (gadget_get_param_value("greeting", greeting, sizeof greeting) || gadget_get_param_value("disable", disable, sizeof disable))
		return 1;
	gadget_infof("greeting: %s", greeting);
	gadget_infof("unknown param: %d", gadget_get_param_value("no-such-param", greeting, sizeof greeting));
	gadget_infof("greeting into 2 bytes: %d", gadget_get_param_value("greeting", tiny, sizeof tiny));
	if (strcmp(disable, "true") == 0)
		gadget_infof("disabling wasm_host: %d", gadget_set_config("programs.wasm_host.attach_to", "gadget_program_disabled"));
	gadget_infof("a uint32 config: %u", gadget__set_config(gadget_str("foo.bar"), 42, GADGET_KIND_UINT32));
	for (int l = GADGET_LOG_ERROR; l <= GADGET_LOG_TRACE; l++)
		gadget_log((enum gadget_log_level)l, (const char *[]){ "an error", "a warning", "some info", "a debug line", "a trace line" }[l]);
	gadget_infof("shown: error %d warn %d info %d debug %d trace %d", gadget_should_log(GADGET_LOG_ERROR), gadget_should_log(GADGET_LOG_WARN),
		     gadget_should_log(GADGET_LOG_INFO), gadget_should_log(GADGET_LOG_DEBUG), gadget_should_log(GADGET_LOG_TRACE));
	gadget__log(7, gadget_str("level seven"));
	return 0;
}
