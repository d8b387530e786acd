/* Map functions, as IG's map and mapofmap tests use them: the gadget's maps exist from
 * gadgetStart on (not in gadgetInit); put, lookup, update with flags, delete on the gadget's
 * test_map; a map made with newMap (one entry: a second put fails), closed; a gadget map cannot
 * be closed; a map of maps takes a map handle and gives back a new handle for the inner map. */
#include <gadget/wasm.h>

struct map_test_struct {
	int32_t a;
	int32_t b;
	int8_t c;
	int8_t pad[3];
};

#define CHECK(what, cond) gadget_infof("%s: %s", what, (cond) ? "ok" : "FAILED")

GADGET_EXPORT(gadgetInit) int gadgetInit(void)
{
	gadget_infof("test_map in gadgetInit: %u", gadget_get_map("test_map"));
	return 0;
}

GADGET_EXPORT(gadgetStart) int gadgetStart(void)
{
	struct map_test_struct key = { .a = 42, .b = 42, .c = 43 };
	int32_t val = 0, k;
	gadget_map m = gadget_get_map("test_map"), created, inner, mom, hash;
	struct gadget_map_spec spec = { "map_test", GADGET_MAP_HASH, 4, 4, 1 };

	CHECK("getMap test_map", m != 0);
	CHECK("put 42", gadget_map_put(m, &key, sizeof key, &(int32_t){ 42 }, 4) == 0);
	CHECK("lookup gives 42", gadget_map_lookup(m, &key, sizeof key, &val, 4) == 0 && val == 42);
	CHECK("lookup into 2 bytes refused", gadget_map_lookup(m, &key, sizeof key, &val, 2) != 0);
	CHECK("a key of the wrong size refused", gadget_map_lookup(m, &key, 4, &val, 4) != 0);
	CHECK("update 43 if it exists", gadget_map_update(m, &key, sizeof key, &(int32_t){ 43 }, 4, GADGET_UPDATE_EXIST) == 0);
	CHECK("lookup gives 43", gadget_map_lookup(m, &key, sizeof key, &val, 4) == 0 && val == 43);
	CHECK("delete", gadget_map_delete(m, &key, sizeof key) == 0);
	CHECK("put again", gadget_map_put(m, &key, sizeof key, &val, 4) == 0);
	CHECK("update if it does not exist refused", gadget_map_update(m, &key, sizeof key, &(int32_t){ 43 }, 4, GADGET_UPDATE_NOEXIST) != 0);
	CHECK("update with flags 8 refused", gadget_map_update(m, &key, sizeof key, &val, 4, (enum gadget_map_update_flags)8) != 0);
	CHECK("delete", gadget_map_delete(m, &key, sizeof key) == 0);
	CHECK("delete again refused", gadget_map_delete(m, &key, sizeof key) != 0);
	CHECK("closing a gadget map refused", gadget_map_close(m) != 0);
	CHECK("releaseHandle of test_map", gadget_release_handle(m) == 0);
	CHECK("using a released handle refused", gadget_map_put(m, &key, sizeof key, &val, 4) != 0);

	created = gadget_new_map(&spec);
	CHECK("newMap map_test", created != 0);
	k = 42, val = 43;
	CHECK("put 42 -> 43", gadget_map_put(created, &k, 4, &val, 4) == 0);
	val = 0;
	CHECK("lookup gives 43", gadget_map_lookup(created, &k, 4, &val, 4) == 0 && val == 43);
	k = 0xdead, val = 0xcafe;
	CHECK("a second entry refused (max_entries 1)", gadget_map_put(created, &k, 4, &val, 4) != 0);
	CHECK("newMap of type 99 refused", gadget_new_map(&(struct gadget_map_spec){ "bad", (enum gadget_map_type)99, 4, 4, 1 }) == 0);

	mom = gadget_get_map("map_of_map");
	hash = gadget_new_map(&(struct gadget_map_spec){ "test_hash", GADGET_MAP_HASH, 4, 4, 1 });
	CHECK("put a map into map_of_map", gadget_map_put(mom, &key, sizeof key, &hash, 4) == 0);
	inner = 0;
	CHECK("lookup gives a new handle", gadget_map_lookup(mom, &key, sizeof key, &inner, 4) == 0 && inner != 0 && inner != hash);
	CHECK("put through the inner handle", gadget_map_put(inner, &(uint32_t){ 42 }, 4, &(uint32_t){ 43 }, 4) == 0);
	val = 0;
	CHECK("seen through newMap's handle", gadget_map_lookup(hash, &(uint32_t){ 42 }, 4, &val, 4) == 0 && val == 43);
	CHECK("delete from map_of_map", gadget_map_delete(mom, &key, sizeof key) == 0);
	CHECK("releaseHandle of the inner map", gadget_release_handle(inner) == 0);
	CHECK("releaseHandle of map_of_map", gadget_release_handle(mom) == 0);
	CHECK("close map_test", gadget_map_close(created) == 0);
	CHECK("close map_test again refused", gadget_map_close(created) != 0);
	/* test_hash stays open: ig closes it when the run ends */
	return 0;
}
