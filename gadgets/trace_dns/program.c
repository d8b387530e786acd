// SPDX-License-Identifier: Apache-2.0
/* trace_dns's wasm module (IG's trace_dns does this in Go): parses the DNS message the eBPF side
 * sends and adds IG's fields: id, qr (Q or R), the first question's name and qtype, rcode (for
 * responses), num_answers, addresses (the A and AAAA answers, comma-separated), tc, ra, rd. It
 * also measures latency: a query's time is kept by (id, client address and port) and a response
 * this host receives (packet type HOST) sets latency_ns_raw to the time since. */
#include <gadget/wasm.h>

#define DNS_MAX 512
#define PKT_HOST 0
#define PENDING 512
/* a query waits at most this long for its response */
#define PENDING_NS (10ULL * 1000 * 1000 * 1000)

static gadget_field data_f, len_f, pkt_f, ts_f, src_f, dst_f, latency_f;
static gadget_field id_f, qr_raw_f, qr_f, qtype_raw_f, qtype_f, name_f, rcode_raw_f, rcode_f, answers_f, addresses_f, tc_f, ra_f, rd_f;

static struct pending {
	uint64_t key;
	uint64_t ts;
} pending[PENDING];

static const char *type_name(uint16_t t, char *buf)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 11: return "WKS";
	case 12: return "PTR";
	case 13: return "HINFO";
	case 14: return "MINFO";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 41: return "OPT";
	case 252: return "AXFR";
	case 255: return "ALL";
	}
	snprintf(buf, 8, "%u", t);
	return buf;
}

static const char *rcode_name(uint16_t r, char *buf)
{
	static const char *names[] = { "Success", "FormatError", "ServerFailure", "NameError", "NotImplemented", "Refused" };
	if (r < 6)
		return names[r];
	snprintf(buf, 8, "%u", r);
	return buf;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The name at off (following compression pointers) as text with a final dot, and the offset
 * after it in place; -1 when the message is malformed. */
static int read_name(const uint8_t *m, int len, int off, char *out, int size)
{
	int n = 0, end = -1, hops = 0;

	for (;;) {
		if (off >= len)
			return -1;
		uint8_t l = m[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > 16)
				return -1;
			if (end < 0)
				end = off + 2;
			off = (l & 0x3f) << 8 | m[off + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;
		if (l == 0)
			break;
		if (off + 1 + l > len)
			return -1;
		if (out && n + l + 2 < size) {
			memcpy(out + n, m + off + 1, l);
			n += l;
			out[n++] = '.';
		}
		off += 1 + l;
	}
	if (out) {
		if (n == 0)
			out[n++] = '.';
		out[n] = 0;
	}
	return end >= 0 ? end : off + 1;
}

/* an IPv6 address as Go's net.IP prints it: RFC 5952, IPv4-mapped ones as dotted quads */
static int ip6_text(const uint8_t *a, char *out, int size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint16_t g[8];
	int best = -1, bestLen = 0, n = 0;

	if (!memcmp(a, mapped, 12))
		return snprintf(out, size, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	for (int i = 0; i < 8; i++)
		g[i] = be16(a + 2 * i);
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestLen && j - i > 1)
			best = i, bestLen = j - i;
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			n += snprintf(out + n, size - n, "::");
			i += bestLen - 1;
			continue;
		}
		n += snprintf(out + n, size - n, "%s%x", n && out[n - 1] != ':' ? ":" : "", g[i]);
	}
	return n;
}

static uint64_t client_key(uint16_t id, const uint8_t *ep)
{
	/* FNV-1a over the id and the client's address and port */
	uint64_t h = 1469598103934665603ULL;
	h = (h ^ (id & 0xff)) * 1099511628211ULL;
	h = (h ^ (id >> 8)) * 1099511628211ULL;
	for (int i = 0; i < 18; i++)
		h = (h ^ ep[i]) * 1099511628211ULL;
	return h | 1;
}

static void remember(uint64_t key, uint64_t ts)
{
	struct pending *slot = 0;
	for (int i = 0; i < 8; i++) {
		struct pending *p = &pending[(key + i) % PENDING];
		if (p->key == key)
			return; /* the same query seen again (loopback shows it twice): keep the first */
		if (!slot && (p->key == 0 || ts - p->ts > PENDING_NS))
			slot = p;
	}
	if (!slot)
		slot = &pending[key % PENDING];
	slot->key = key;
	slot->ts = ts;
}

static uint64_t answered(uint64_t key, uint64_t ts)
{
	for (int i = 0; i < 8; i++) {
		struct pending *p = &pending[(key + i) % PENDING];
		if (p->key == key) {
			uint64_t latency = ts - p->ts;
			p->key = 0;
			return latency <= PENDING_NS ? latency : 0;
		}
	}
	return 0;
}

static void on_event(gadget_datasource ds, gadget_data d, void *ctx)
{
	static uint8_t m[DNS_MAX];
	static char name[300], addresses[2048], num[8], idtext[8];
	uint8_t src[32], dst[32], pkt = 0;
	uint32_t dlen = 0;
	uint64_t ts = 0;
	int32_t n;
	int len, off;
	uint16_t flags;
	bool response;

	n = gadget_field_bytes(data_f, d, m, sizeof m);
	if (n < 12 || gadget_field_uint32(len_f, d, &dlen) || gadget_field_uint8(pkt_f, d, &pkt) || gadget_field_uint64(ts_f, d, &ts) ||
	    gadget_field_bytes(src_f, d, src, sizeof src) < 18 || gadget_field_bytes(dst_f, d, dst, sizeof dst) < 18)
		return;
	len = dlen < (uint32_t)n ? (int)dlen : n;
	flags = be16(m + 2);
	response = flags & 0x8000;

	snprintf(idtext, sizeof idtext, "%.4x", be16(m));
	gadget_field_set_string(id_f, d, idtext);
	gadget_field_set_bool(qr_raw_f, d, response);
	gadget_field_set_string(qr_f, d, response ? "R" : "Q");
	gadget_field_set_bool(tc_f, d, flags & 0x0200);
	gadget_field_set_bool(rd_f, d, flags & 0x0100);
	gadget_field_set_bool(ra_f, d, flags & 0x0080);
	if (response) {
		gadget_field_set_uint16(rcode_raw_f, d, flags & 0xf);
		gadget_field_set_string(rcode_f, d, rcode_name(flags & 0xf, num));
	}

	off = 12;
	if (be16(m + 4) > 0) {
		off = read_name(m, len, off, name, sizeof name);
		if (off < 0 || off + 4 > len)
			return;
		gadget_field_set_string(name_f, d, name);
		gadget_field_set_uint16(qtype_raw_f, d, be16(m + off));
		gadget_field_set_string(qtype_f, d, type_name(be16(m + off), num));
		off += 4;
		for (int q = 1; q < be16(m + 4) && off >= 0; q++) /* further questions: skipped */
			off = read_name(m, len, off, 0, 0), off = off < 0 ? -1 : off + 4;
	}

	addresses[0] = 0;
	for (int a = 0, at = 0; off >= 0 && a < be16(m + 6); a++) {
		uint16_t type, rdlen;
		off = read_name(m, len, off, 0, 0);
		if (off < 0 || off + 10 > len)
			break;
		type = be16(m + off);
		rdlen = be16(m + off + 8);
		off += 10;
		if (off + rdlen > len)
			break;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			if (at && at < (int)sizeof addresses - 1)
				addresses[at++] = ',';
			if (type == 1)
				at += snprintf(addresses + at, sizeof addresses - at, "%u.%u.%u.%u", m[off], m[off + 1], m[off + 2], m[off + 3]);
			else
				at += ip6_text(m + off, addresses + at, sizeof addresses - at);
			if (at >= (int)sizeof addresses)
				at = sizeof addresses - 1;
		}
		off += rdlen;
	}
	gadget_field_set_int32(answers_f, d, be16(m + 6)); /* as IG: the answers the message has */
	gadget_field_set_string(addresses_f, d, addresses);

	/* latency: from the query to the response this host receives */
	if (!response)
		remember(client_key(be16(m), src), ts);
	else if (pkt == PKT_HOST)
		gadget_field_set_uint64(latency_f, d, answered(client_key(be16(m), dst), ts));
}

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_datasource ds = gadget_get_datasource("dns");

	data_f = gadget_get_field(ds, "data");
	len_f = gadget_get_field(ds, "data_len");
	pkt_f = gadget_get_field(ds, "pkt_type_raw");
	ts_f = gadget_get_field(ds, "timestamp_raw");
	src_f = gadget_get_field(ds, "src");
	dst_f = gadget_get_field(ds, "dst");
	latency_f = gadget_get_field(ds, "latency_ns_raw");
	if (!ds || !data_f || !len_f || !pkt_f || !ts_f || !src_f || !dst_f || !latency_f) {
		gadget_errorf("the dns datasource lacks a field this module needs");
		return 1;
	}
	id_f = gadget_add_field(ds, "id", GADGET_KIND_STRING);
	qr_raw_f = gadget_add_field(ds, "qr_raw", GADGET_KIND_BOOL);
	qr_f = gadget_add_field(ds, "qr", GADGET_KIND_STRING);
	qtype_raw_f = gadget_add_field(ds, "qtype_raw", GADGET_KIND_UINT16);
	qtype_f = gadget_add_field(ds, "qtype", GADGET_KIND_STRING);
	name_f = gadget_add_field(ds, "name", GADGET_KIND_STRING);
	rcode_raw_f = gadget_add_field(ds, "rcode_raw", GADGET_KIND_UINT16);
	rcode_f = gadget_add_field(ds, "rcode", GADGET_KIND_STRING);
	answers_f = gadget_add_field(ds, "num_answers", GADGET_KIND_INT32);
	addresses_f = gadget_add_field(ds, "addresses", GADGET_KIND_STRING);
	tc_f = gadget_add_field(ds, "tc", GADGET_KIND_BOOL);
	ra_f = gadget_add_field(ds, "ra", GADGET_KIND_BOOL);
	rd_f = gadget_add_field(ds, "rd", GADGET_KIND_BOOL);
	if (!id_f || !qr_raw_f || !qr_f || !qtype_raw_f || !qtype_f || !name_f || !rcode_raw_f || !rcode_f || !answers_f ||
	    !addresses_f || !tc_f || !ra_f || !rd_f)
		return 1;
	return gadget_subscribe(ds, on_event, 0, 0);
}
