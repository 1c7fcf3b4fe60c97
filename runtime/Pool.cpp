//===- Pool.cpp - The runtime's thread pool -------------------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// A fixed set of persistent workers behind linac_pool_parallel_for, the
// default linac_parallel_for_fn that generated kernels receive.
//
// Kernels call parallel_for several times per launch and benchmarks launch
// thousands of times, so a call must not create threads or allocate. Each
// call publishes one job (function, closure, task count) under a mutex, bumps
// a generation counter and wakes the workers; everybody, the caller included,
// then claims tasks one at a time from an atomic counter. One index per claim
// (grain 1) balances uneven tasks, such as varlen sequences of very different
// lengths, and costs one atomic add per task, which is nothing next to a
// kernel's chunk of work.
//
// A call returns only when every worker that joined the job has finished, so
// the job can live in the pool (not on some stack) and the next call can
// reuse it. Calls from different threads on one pool run one after the
// other. A call from inside a task (on a worker, or on the caller while it
// helps) runs its whole range inline on that thread: the pool has only one
// job slot, and waiting for workers that are themselves busy in the outer job
// could deadlock.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/linac.h"

#include "Error.h"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include <pthread.h>

using linac::detail::fail;

namespace {

/// More threads than this is certainly a mistake (a negative count cast to
/// unsigned, say), and would only fail later in pthread_create.
constexpr int32_t kMaxThreads = 1024;

/// True while this thread runs tasks of some pool; nested parallel_for calls
/// then run inline.
thread_local bool tlInsideTask = false;

struct Worker {
  linac_pool *pool = nullptr;
  int32_t index = 0;
  pthread_t thread = {};
};

} // namespace

struct linac_pool {
  int32_t threads = 1;
  int32_t numWorkers = 0;
  Worker *workers = nullptr;

  /// Serializes callers: the pool holds one job at a time.
  std::mutex callerMutex;

  /// Guards everything below except `next`.
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  /// Bumped once per parallel job; a worker runs each generation once.
  uint64_t generation = 0;
  bool stopping = false;
  /// Workers with index < participants take part in the current job (fewer
  /// than all when there are fewer tasks than threads).
  int32_t participants = 0;
  /// Participants that have not finished the current job.
  int32_t pending = 0;

  linac_task_fn fn = nullptr;
  void *closure = nullptr;
  uint64_t count = 0;
  /// The next unclaimed task. Unsigned so that the few increments past
  /// `count` (one per thread) can never overflow.
  std::atomic<uint64_t> next{0};
};

namespace {

void runTasks(linac_pool *pool) {
  // Job fields were published under `mutex` before this thread saw the new
  // generation, and stay fixed until every participant is done.
  linac_task_fn fn = pool->fn;
  void *closure = pool->closure;
  uint64_t count = pool->count;
  for (;;) {
    uint64_t task = pool->next.fetch_add(1, std::memory_order_relaxed);
    if (task >= count)
      return;
    fn(closure, static_cast<int64_t>(task), static_cast<int64_t>(task + 1));
  }
}

void *workerMain(void *arg) {
  Worker *self = static_cast<Worker *>(arg);
  linac_pool *pool = self->pool;
  tlInsideTask = true;
  // Not read from the pool: a job may already have been published before
  // this thread first runs, and it must not count that one as seen.
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(pool->mutex);
  for (;;) {
    pool->wake.wait(lock, [&] {
      return pool->stopping ||
             (pool->generation != seen && self->index < pool->participants);
    });
    if (pool->stopping)
      return nullptr;
    seen = pool->generation;
    lock.unlock();
    runTasks(pool);
    lock.lock();
    if (--pool->pending == 0)
      pool->done.notify_one();
  }
}

/// Stops and joins the first `pool->numWorkers` workers and frees the pool.
void shutDown(linac_pool *pool) {
  {
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->stopping = true;
  }
  pool->wake.notify_all();
  for (int32_t i = 0; i < pool->numWorkers; ++i)
    pthread_join(pool->workers[i].thread, nullptr);
  delete[] pool->workers;
  delete pool;
}

} // namespace

extern "C" linac_pool *linac_pool_create(int32_t threads, linac_error *err) {
  if (threads <= 0) {
    unsigned hardware = std::thread::hardware_concurrency();
    threads = hardware == 0 ? 1
              : hardware > static_cast<unsigned>(kMaxThreads)
                  ? kMaxThreads
                  : static_cast<int32_t>(hardware);
  }
  if (threads > kMaxThreads) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT,
         "a pool of %d threads was asked for; the limit is %d", threads,
         kMaxThreads);
    return nullptr;
  }
  linac_pool *pool = new (std::nothrow) linac_pool;
  if (!pool) {
    fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory creating a pool");
    return nullptr;
  }
  pool->threads = threads;
  int32_t workers = threads - 1;
  if (workers > 0) {
    pool->workers = new (std::nothrow) Worker[workers];
    if (!pool->workers) {
      delete pool;
      fail(err, LINAC_ERROR_OUT_OF_MEMORY,
           "out of memory creating a pool of %d threads", threads);
      return nullptr;
    }
  }
  for (int32_t i = 0; i < workers; ++i) {
    pool->workers[i].pool = pool;
    pool->workers[i].index = i;
    int rc = pthread_create(&pool->workers[i].thread, nullptr, workerMain,
                            &pool->workers[i]);
    if (rc != 0) {
      shutDown(pool); // numWorkers counts exactly the started ones.
      fail(err,
           rc == EAGAIN || rc == ENOMEM ? LINAC_ERROR_OUT_OF_MEMORY
                                        : LINAC_ERROR_INTERNAL,
           "cannot start worker thread %d of %d: %s", i + 1, workers,
           std::strerror(rc));
      return nullptr;
    }
    pool->numWorkers = i + 1;
  }
  linac::detail::succeed(err);
  return pool;
}

extern "C" void linac_pool_destroy(linac_pool *pool) {
  if (pool)
    shutDown(pool);
}

extern "C" int32_t linac_pool_threads(const linac_pool *pool) {
  return pool ? pool->threads : 1;
}

extern "C" void linac_pool_parallel_for(void *opaque, int64_t n,
                                        linac_task_fn fn, void *closure) {
  if (n <= 0 || !fn)
    return;
  linac_pool *pool = static_cast<linac_pool *>(opaque);
  if (!pool || pool->numWorkers == 0 || n == 1 || tlInsideTask) {
    bool outer = tlInsideTask;
    tlInsideTask = true;
    fn(closure, 0, n);
    tlInsideTask = outer;
    return;
  }

  std::lock_guard<std::mutex> serial(pool->callerMutex);
  // The caller takes tasks too, so n tasks need at most n - 1 helpers.
  int32_t helpers =
      n - 1 < pool->numWorkers ? static_cast<int32_t>(n - 1) : pool->numWorkers;
  {
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->fn = fn;
    pool->closure = closure;
    pool->count = static_cast<uint64_t>(n);
    pool->next.store(0, std::memory_order_relaxed);
    pool->participants = helpers;
    pool->pending = helpers;
    ++pool->generation;
  }
  pool->wake.notify_all();

  tlInsideTask = true;
  runTasks(pool);
  tlInsideTask = false;

  // Helpers that arrive after the caller has drained the counter find no
  // task, but must still check in: the job slot is reused by the next call.
  std::unique_lock<std::mutex> lock(pool->mutex);
  pool->done.wait(lock, [&] { return pool->pending == 0; });
}
