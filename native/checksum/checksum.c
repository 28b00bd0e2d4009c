// redisfs_checksum: the CRC-32 (zlib's, IEEE reflected) that guards every stored chunk,
// computed by Intel's ISA-L (Debian's libisal). Node's zlib.crc32 ran at ~4 GB/s here and was
// 29 % of a reading host's CPU on a cold read; ISA-L folds with carry-less multiplies at
// 25-45 GB/s and gives the same values, so chunks written either way read either way. Built
// apart from the FUSE addon (its own binding.gyp), so that either builds without the other.
#include <isa-l/crc.h>
#include <node_api.h>

static napi_value crc32_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  size_t len = 0;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "crc32: a Buffer is required");
    return NULL;
  }
  if (napi_create_uint32(env, crc32_gzip_refl(0, data, len), &out) != napi_ok) return NULL;
  return out;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "crc32", NAPI_AUTO_LENGTH, crc32_of, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "crc32", fn) != napi_ok) {
    napi_throw_error(env, NULL, "redisfs_checksum: cannot export crc32");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
