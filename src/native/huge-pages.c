/*
 * adviseHuge(view, bytes) → 0 or an errno: madvise(MADV_HUGEPAGE) over [base, base + bytes),
 * base being the first byte of `view` (any ArrayBufferView, a SharedArrayBuffer's included),
 * rounded inward to 2 MiB boundaries. `bytes` may reach past the view into memory the process
 * has reserved but not yet made accessible (a shared WebAssembly.Memory's reservation up to its
 * maximum): the advice marks the mapping, so the pages that grow there later come huge at their
 * first touch. MADV_HUGEPAGE changes no content; an unmapped part gives ENOMEM (the mapped parts
 * are still advised). Used by huge-pages.ts; built by build.mjs. Ref: madvise(2),
 * Documentation/admin-guide/mm/transhuge.rst.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

static napi_value result(napi_env env, int code) {
  napi_value v;
  napi_create_int32(env, code, &v);
  return v;
}

static napi_value advise_huge(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "adviseHuge(view, bytes)");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  bool is = false;
  if (napi_is_typedarray(env, argv[0], &is) == napi_ok && is) {
    napi_typedarray_type t;
    napi_value ab;
    size_t off;
    napi_get_typedarray_info(env, argv[0], &t, &len, &data, &ab, &off);
  } else if (napi_is_dataview(env, argv[0], &is) == napi_ok && is) {
    napi_value ab;
    size_t off;
    napi_get_dataview_info(env, argv[0], &len, &data, &ab, &off);
  } else {
    napi_throw_type_error(env, NULL, "adviseHuge: view must be a TypedArray or DataView");
    return NULL;
  }
  double bytes = 0;
  if (napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0) || bytes > 0x1p40) {
    napi_throw_range_error(env, NULL, "adviseHuge: bytes must be a number in [0, 2^40]");
    return NULL;
  }
  uintptr_t a = (uintptr_t)data, b = a + (uintptr_t)bytes;
  uintptr_t s = (a + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), e = b & ~(HUGE_PAGE - 1);
  if (data == NULL || e <= s) return result(env, EINVAL);
  return result(env, madvise((void *)s, e - s, MADV_HUGEPAGE) == 0 ? 0 : errno);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "adviseHuge", NAPI_AUTO_LENGTH, advise_huge, NULL, &fn);
  napi_set_named_property(env, exports, "adviseHuge", fn);
  return exports;
}
