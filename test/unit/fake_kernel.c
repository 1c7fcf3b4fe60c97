/*===- fake_kernel.c - A hand-written stand-in for a compiled artifact ----===*
 *
 * Part of the linac project.
 *
 * Built as a shared library for ModuleTest, so that the loader can be tested
 * (success and every refusal) without the compiler. It exports what
 * `linacc --emit=shared` will: NAME_manifest and NAME_kernel pairs.
 *
 *   good         doubles q into o (o = 2 q) through parallel_for; o may alias q
 *   old          manifest from compiler 0.0.9
 *   gpu          manifest for target tpu v5 (no such runtime)
 *   cudak        a CUDA kernel: manifest for cuda sm_90a, NAME_cubin (bytes
 *                the fake driver of CudaTest accepts) and NAME_cubin_size
 *   nocubin      a CUDA manifest without its cubin
 *   corrupt      manifest with an unknown record
 *   renamed      manifest that names another kernel
 *   unterminated manifest array without a terminating NUL
 *   lonely       a kernel without a manifest
 *
 *===----------------------------------------------------------------------===*/

#include "linac/runtime/linac.h"

#include <stddef.h>

#define HEADER(name, compiler, target)                                         \
  "linac-manifest 1\n"                                                         \
  "compiler " compiler "\n"                                                    \
  "kernel " name "\n"                                                          \
  "target " target "\n"                                                        \
  "mode prefill\n"                                                             \
  "variant linear_attn\n"

#define DOUBLING_TENSORS                                                       \
  "tensor q in required f32 B T H 4\n"                                         \
  "tensor o out required f32 B T H 4\n"                                        \
  "alias o q\n"

const char good_manifest[] =
    HEADER("good", LINAC_VERSION, "cpu x86-64 -") DOUBLING_TENSORS;
const char old_manifest[] =
    HEADER("old", "0.0.9", "cpu x86-64 -") DOUBLING_TENSORS;
const char gpu_manifest[] =
    HEADER("gpu", LINAC_VERSION, "tpu v5") DOUBLING_TENSORS;
const char cudak_manifest[] =
    HEADER("cudak", LINAC_VERSION, "cuda sm_90a -")
    "launch 128 65536 2 -\n" DOUBLING_TENSORS;
const unsigned char cudak_cubin[16] = {0x7f, 'E', 'L', 'F'};
const uint64_t cudak_cubin_size = sizeof(cudak_cubin);
const char nocubin_manifest[] =
    HEADER("nocubin", LINAC_VERSION, "cuda sm_80 -")
    "launch 128 0 1 -\n" DOUBLING_TENSORS;
const char corrupt_manifest[] =
    HEADER("corrupt", LINAC_VERSION, "cpu x86-64 -") "tensr q in\n";
const char renamed_manifest[] =
    HEADER("something_else", LINAC_VERSION, "cpu x86-64 -") DOUBLING_TENSORS;
/* Exactly as long as its initializer: no terminating NUL. */
const char unterminated_manifest[4] = {'l', 'i', 'n', 'a'};

struct Rows {
  const linac_tensor *q;
  const linac_tensor *o;
  int64_t T, H;
};

/* One task per (b, t, h) row of 4 elements. Reads the whole row before
 * writing so that o may be q itself. */
static void doubleRows(void *closure, int64_t begin, int64_t end) {
  const struct Rows *rows = (const struct Rows *)closure;
  for (int64_t row = begin; row < end; ++row) {
    int64_t b = row / (rows->T * rows->H);
    int64_t t = row / rows->H % rows->T;
    int64_t h = row % rows->H;
    const float *in = (const float *)rows->q->data + b * rows->q->strides[0] +
                      t * rows->q->strides[1] + h * rows->q->strides[2];
    float *out = (float *)rows->o->data + b * rows->o->strides[0] +
                 t * rows->o->strides[1] + h * rows->o->strides[2];
    float values[4];
    for (int i = 0; i < 4; ++i)
      values[i] = in[i];
    for (int i = 0; i < 4; ++i)
      out[i] = 2.0f * values[i];
  }
}

static void doubling(const linac_tensor *const *tensors,
                     linac_parallel_for_fn parallel_for, void *pool) {
  struct Rows rows = {tensors[0], tensors[1], tensors[0]->shape[1],
                      tensors[0]->shape[2]};
  parallel_for(pool, tensors[0]->shape[0] * rows.T * rows.H, doubleRows, &rows);
}

void good_kernel(const linac_tensor *const *tensors,
                 linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void old_kernel(const linac_tensor *const *tensors,
                linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void gpu_kernel(const linac_tensor *const *tensors,
                linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void corrupt_kernel(const linac_tensor *const *tensors,
                    linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void renamed_kernel(const linac_tensor *const *tensors,
                    linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void unterminated_kernel(const linac_tensor *const *tensors,
                         linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
void lonely_kernel(const linac_tensor *const *tensors,
                   linac_parallel_for_fn parallel_for, void *pool) {
  doubling(tensors, parallel_for, pool);
}
