/* Field functions: every scalar kind read from the record (with IG's size rule), strings and
 * bytes into buffers (too small: refused), fields of every kind added with a tag and set per
 * event (IG's "fields" test values), static fields set in the record bytes. */
#include <gadget/wasm.h>

struct added {
	const char *name;
	enum gadget_field_kind kind;
	gadget_field f;
};
static struct added added[] = {
	{ "field_bool", GADGET_KIND_BOOL },	  { "field_int8", GADGET_KIND_INT8 },
	{ "field_int16", GADGET_KIND_INT16 },	  { "field_int32", GADGET_KIND_INT32 },
	{ "field_int64", GADGET_KIND_INT64 },	  { "field_uint8", GADGET_KIND_UINT8 },
	{ "field_uint16", GADGET_KIND_UINT16 },	  { "field_uint32", GADGET_KIND_UINT32 },
	{ "field_uint64", GADGET_KIND_UINT64 },	  { "field_float32", GADGET_KIND_FLOAT32 },
	{ "field_float64", GADGET_KIND_FLOAT64 }, { "field_string", GADGET_KIND_STRING },
	{ "field_bytes", GADGET_KIND_BYTES },
};
#define NADDED (sizeof(added) / sizeof(added[0]))

static gadget_field counter, small, port, neg, big, ratio, precise, yes, text, raw, comm;
static int logged;

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	uint64_t c;
	int8_t s;
	uint16_t p;
	int32_t n;
	int64_t b;
	float r;
	double pr;
	bool y;
	uint32_t wrong;
	char t[64], cm[32], tiny[4];
	uint8_t bytes[8];
	int32_t nb;

	if (gadget_field_uint64(counter, d, &c) || gadget_field_int8(small, d, &s) || gadget_field_uint16(port, d, &p) ||
	    gadget_field_int32(neg, d, &n) || gadget_field_int64(big, d, &b) || gadget_field_float32(ratio, d, &r) ||
	    gadget_field_float64(precise, d, &pr) || gadget_field_bool(yes, d, &y) || gadget_field_string(text, d, t, sizeof t) < 0 ||
	    gadget_field_string(comm, d, cm, sizeof cm) < 0 || (nb = gadget_field_bytes(raw, d, bytes, sizeof bytes)) < 0) {
		gadget_errorf("reading the record failed");
		return;
	}
	if (!logged++) {
		gadget_infof("read: counter=%llu small=%d port=%u neg=%d big=%lld ratio=%g precise=%g yes=%d text=%s comm=%s raw=%d:%02x%02x%02x%02x",
			     (unsigned long long)c, s, p, n, (long long)b, r, pr, y, t, cm, nb, bytes[0], bytes[1], bytes[2], bytes[3]);
		gadget_infof("uint32 of the 8-byte counter: %s", gadget_field_uint32(counter, d, &wrong) ? "refused" : "accepted");
		gadget_infof("text into 4 bytes: %s", gadget_field_bytes(text, d, tiny, sizeof tiny) < 0 ? "refused" : "accepted");
		gadget_infof("string into the int8 kind: %s", gadget_field_set_int8(text, d, 1) ? "refused" : "accepted");
	}
	/* IG's fields test values */
	gadget_field_set_bool(added[0].f, d, true);
	gadget_field_set_int8(added[1].f, d, -123);
	gadget_field_set_int16(added[2].f, d, -25647);
	gadget_field_set_int32(added[3].f, d, -535245564);
	gadget_field_set_int64(added[4].f, d, -1234567890);
	gadget_field_set_uint8(added[5].f, d, 56);
	gadget_field_set_uint16(added[6].f, d, 12345);
	gadget_field_set_uint32(added[7].f, d, 1234567890);
	gadget_field_set_uint64(added[8].f, d, 1234567890123456ULL);
	gadget_field_set_float32(added[9].f, d, 3.14159f);
	gadget_field_set_float64(added[10].f, d, 3.14159265359);
	gadget_field_set_string(added[11].f, d, "Hello, World!");
	gadget_field_set_bytes(added[12].f, d, "\x01\x02\x03\x04\x05", 5);
	/* static fields, in the record's bytes */
	gadget_field_set_string(text, d, "set by wasm");
	gadget_field_set_uint16(port, d, (uint16_t)(p + 1010));
	gadget_field_set_int64(big, d, b * 2);
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("getcwd");
	char tag[32];

	if (!ds)
		return 1;
	counter = gadget_get_field(ds, "counter");
	small = gadget_get_field(ds, "small");
	port = gadget_get_field(ds, "port");
	neg = gadget_get_field(ds, "neg");
	big = gadget_get_field(ds, "big");
	ratio = gadget_get_field(ds, "ratio");
	precise = gadget_get_field(ds, "precise");
	yes = gadget_get_field(ds, "yes");
	text = gadget_get_field(ds, "text");
	raw = gadget_get_field(ds, "raw");
	comm = gadget_get_field(ds, "COMM"); /* IG: a name that matches none exactly matches case-insensitively */
	if (!counter || !small || !port || !neg || !big || !ratio || !precise || !yes || !text || !raw || !comm)
		return 1;
	gadget_infof("no such field: %u", gadget_get_field(ds, "no_such_field"));
	for (unsigned i = 0; i < NADDED; i++) {
		added[i].f = gadget_add_field(ds, added[i].name, added[i].kind);
		snprintf(tag, sizeof tag, "tag_%s", added[i].name + 6);
		if (!added[i].f || gadget_field_add_tag(added[i].f, tag))
			return 1;
	}
	gadget_infof("adding field_bool again: %u", gadget_add_field(ds, "field_bool", GADGET_KIND_BOOL));
	gadget_infof("adding a field of kind 15: %u", gadget_add_field(ds, "bad_kind", (enum gadget_field_kind)15));
	return gadget_subscribe(ds, on_event, 0, 0);
}
